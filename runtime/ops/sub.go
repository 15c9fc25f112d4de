package ops

import "github.com/gendl/gendl/runtime/tensor"

// Sub is A - B element-wise with multidirectional broadcasting (opset 7, 13, 14; float32,
// float64, int64, int32, int8, uint8). Integers wrap around on overflow, as in numpy.
type subOp struct{}

var subKernels = binaryKernels{
	f32: subRun[float32], f64: subRun[float64],
	i64: subRun[int64], i32: subRun[int32], i8: subRun[int8], u8: subRun[uint8],
}

func newSub(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return subOp{}, nil
}

func (subOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runBinary([2]string{"A", "B"}, in[0], in[1], out[0], &subKernels)
}

// subRun is the bcast2 kernel: a and b each have len(dst) elements or one.
func subRun[T numericElem](dst, a, b []T) {
	switch {
	case len(a) == len(b):
		b = b[:len(a)]
		for i, x := range a {
			dst[i] = x - b[i]
		}
	case len(a) == 1:
		x := a[0]
		for i, y := range b {
			dst[i] = x - y
		}
	default:
		y := b[0]
		for i, x := range a {
			dst[i] = x - y
		}
	}
}

func (subOp) Infer(in []Type) ([]Type, error) {
	return inferBinary([2]string{"A", "B"}, in, &subKernels)
}
