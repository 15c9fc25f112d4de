package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// ReduceSum sums the input over some axes (opset 1, 11, 13; float32, float64, int64, int32).
// Axes are an attribute before opset 13 and an optional input from 13, which also added
// noop_with_empty_axes; see reduce.go. An empty reduction gives 0.
type reduceSum struct {
	c reduceConfig
}

func newReduceSum(n *Node) (Op, error) {
	c, err := newReduceConfig(n, 13)
	if err != nil {
		return nil, err
	}
	return reduceSum{c: c}, nil
}

func (op reduceSum) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	l, err := op.c.layout(x.Shape, optionalInput(in, 1))
	if err != nil {
		return err
	}
	if l.noop {
		out[0].CopyFrom(x)
		return nil
	}
	switch x.DType {
	case tensor.Float32:
		reduceSumAs[float32](l, x, out[0])
	case tensor.Float64:
		reduceSumAs[float64](l, x, out[0])
	case tensor.Int64:
		reduceSumAs[int64](l, x, out[0])
	case tensor.Int32:
		reduceSumAs[int32](l, x, out[0])
	default:
		return fmt.Errorf("input \"data\": dtype %v is not supported", x.DType)
	}
	return nil
}

func (op reduceSum) Infer(in []Type) ([]Type, error) {
	return op.c.infer(in[0], tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32)
}
