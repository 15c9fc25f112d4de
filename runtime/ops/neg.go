package ops

import "github.com/gendl/gendl/runtime/tensor"

// Neg is -x element-wise (opset 6, 13; float32, float64, int64, int32, int8). Integers wrap
// around: -(-128) is -128 in int8, as in two's complement C and numpy.
type negOp struct{}

var negKernels = unaryKernels{
	f32: negRun[float32], f64: negRun[float64],
	i64: negRun[int64], i32: negRun[int32], i8: negRun[int8],
}

func newNeg(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return negOp{}, nil
}

func (negOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &negKernels)
}

func negRun[T numericElem](dst, src []T) {
	for i, v := range src {
		dst[i] = -v
	}
}

func (negOp) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &negKernels) }
