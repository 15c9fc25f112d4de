package ops

import "github.com/gendl/gendl/runtime/tensor"

// Add is A + B element-wise with multidirectional broadcasting (opset 7, 13, 14; float32,
// float64, int64, int32, int8, uint8). Integers wrap around on overflow, as in numpy.
type addOp struct{}

var addKernels = binaryKernels{
	f32: addRun[float32], f64: addRun[float64],
	i64: addRun[int64], i32: addRun[int32], i8: addRun[int8], u8: addRun[uint8],
}

func newAdd(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return addOp{}, nil
}

func (addOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runBinary([2]string{"A", "B"}, in[0], in[1], out[0], &addKernels)
}

// addRun is the bcast2 kernel: a and b each have len(dst) elements or one.
func addRun[T numericElem](dst, a, b []T) {
	switch {
	case len(a) == len(b):
		b = b[:len(a)]
		for i, x := range a {
			dst[i] = x + b[i]
		}
	case len(a) == 1:
		x := a[0]
		for i, y := range b {
			dst[i] = x + y
		}
	default:
		y := b[0]
		for i, x := range a {
			dst[i] = x + y
		}
	}
}

func (addOp) Infer(in []Type) ([]Type, error) {
	return inferBinary([2]string{"A", "B"}, in, &addKernels)
}
