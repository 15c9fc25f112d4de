package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Exp is e^x element-wise (opset 6, 13; float32, float64).
type expOp struct{}

var expKernels = unaryKernels{f32: expRun[float32], f64: expRun[float64]}

func newExp(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return expOp{}, nil
}

func (expOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("input", in[0], out[0], &expKernels)
}

func expRun[T floatElem](dst, src []T) {
	for i, v := range src {
		dst[i] = T(math.Exp(float64(v)))
	}
}

func (expOp) Infer(in []Type) ([]Type, error) { return inferUnary("input", in[0], &expKernels) }
