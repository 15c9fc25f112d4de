package ops

import "github.com/gendl/gendl/runtime/tensor"

// Relu is max(x, 0) element-wise (opset 6, 13, 14; float32, float64, and from opset 14 the
// signed integers int64, int32, int8). NaN stays NaN.
type relu struct{}

var reluKernels = unaryKernels{
	f32: reluRun[float32], f64: reluRun[float64],
	i64: reluRun[int64], i32: reluRun[int32], i8: reluRun[int8],
}

func newRelu(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return relu{}, nil
}

func (relu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &reluKernels)
}

// IsRelu reports whether op is a Relu (for the engine's Conv+Relu fusion, see FuseRelu).
func IsRelu(op Op) bool {
	_, ok := op.(relu)
	return ok
}

func reluRun[T numericElem](dst, src []T) {
	for i, v := range src {
		dst[i] = max(v, 0)
	}
}

func (relu) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &reluKernels) }
