package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Sigmoid is 1/(1+e^-x) element-wise (opset 6, 13; float32, float64).
type sigmoidOp struct{}

var sigmoidKernels = unaryKernels{f32: sigmoidRun[float32], f64: sigmoidRun[float64]}

func newSigmoid(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return sigmoidOp{}, nil
}

func (sigmoidOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &sigmoidKernels)
}

func sigmoidRun[T floatElem](dst, src []T) {
	for i, v := range src {
		dst[i] = T(sigmoid64(float64(v)))
	}
}

// sigmoid64 is the logistic function, evaluated so that e^t never overflows: for x < 0 it
// uses e^x/(1+e^x), which keeps the relative precision of small results.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func (sigmoidOp) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &sigmoidKernels) }
