package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Tanh is the hyperbolic tangent element-wise (opset 6, 13; float32, float64).
type tanhOp struct{}

var tanhKernels = unaryKernels{f32: tanhRun[float32], f64: tanhRun[float64]}

func newTanh(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return tanhOp{}, nil
}

func (tanhOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("input", in[0], out[0], &tanhKernels)
}

func tanhRun[T floatElem](dst, src []T) {
	for i, v := range src {
		dst[i] = T(math.Tanh(float64(v)))
	}
}

func (tanhOp) Infer(in []Type) ([]Type, error) { return inferUnary("input", in[0], &tanhKernels) }
