package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Sqrt is the square root element-wise (opset 6, 13; float32, float64). The square root of a
// negative number is NaN.
type sqrtOp struct{}

var sqrtKernels = unaryKernels{f32: sqrtRun[float32], f64: sqrtRun[float64]}

func newSqrt(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return sqrtOp{}, nil
}

func (sqrtOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &sqrtKernels)
}

func sqrtRun[T floatElem](dst, src []T) {
	for i, v := range src {
		// Rounding the float64 root to float32 gives the correctly rounded float32 root.
		dst[i] = T(math.Sqrt(float64(v)))
	}
}

func (sqrtOp) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &sqrtKernels) }
