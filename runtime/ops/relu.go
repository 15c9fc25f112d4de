package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Relu is max(x, 0) (opset 6, 13, 14; float types).
type relu struct{}

func newRelu(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return relu{}, nil
}

func (relu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	out[0].Reset(x.DType, x.Shape)
	switch x.DType {
	case tensor.Float32:
		src, dst := x.F32(), out[0].F32()
		for i, v := range src {
			dst[i] = max(v, 0)
		}
	case tensor.Float64:
		src, dst := x.F64(), out[0].F64()
		for i, v := range src {
			dst[i] = max(v, 0)
		}
	default:
		return fmt.Errorf("input X: unsupported dtype %v", x.DType)
	}
	return nil
}

func (relu) Infer(in []Type) ([]Type, error) {
	if err := CheckDType("X", in[0], tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	return []Type{in[0]}, nil
}
