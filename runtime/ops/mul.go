package ops

import "github.com/gendl/gendl/runtime/tensor"

// Mul is A * B element-wise with multidirectional broadcasting (opset 7, 13, 14; float32,
// float64, int64, int32, int8, uint8). Integers wrap around on overflow, as in numpy.
type mulOp struct{}

var mulKernels = binaryKernels{
	f32: mulRun[float32], f64: mulRun[float64],
	i64: mulRun[int64], i32: mulRun[int32], i8: mulRun[int8], u8: mulRun[uint8],
}

func newMul(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return mulOp{}, nil
}

func (mulOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runBinary([2]string{"A", "B"}, in[0], in[1], out[0], &mulKernels)
}

// mulRun is the bcast2 kernel: a and b each have len(dst) elements or one.
func mulRun[T numericElem](dst, a, b []T) {
	switch {
	case len(a) == len(b):
		b = b[:len(a)]
		for i, x := range a {
			dst[i] = x * b[i]
		}
	case len(a) == 1:
		x := a[0]
		for i, y := range b {
			dst[i] = x * y
		}
	default:
		y := b[0]
		for i, x := range a {
			dst[i] = x * y
		}
	}
}

func (mulOp) Infer(in []Type) ([]Type, error) {
	return inferBinary([2]string{"A", "B"}, in, &mulKernels)
}
