package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Log is the natural logarithm element-wise (opset 6, 13; float32, float64). Like numpy,
// log(0) is -Inf and the log of a negative number is NaN.
type logOp struct{}

var logKernels = unaryKernels{f32: logRun[float32], f64: logRun[float64]}

func newLog(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return logOp{}, nil
}

func (logOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("input", in[0], out[0], &logKernels)
}

func logRun[T floatElem](dst, src []T) {
	for i, v := range src {
		dst[i] = T(math.Log(float64(v)))
	}
}

func (logOp) Infer(in []Type) ([]Type, error) { return inferUnary("input", in[0], &logKernels) }
