package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Div is A / B element-wise with multidirectional broadcasting (opset 7, 13, 14; float32,
// float64, int64, int32, int8, uint8). Integer division truncates toward zero, as C and ONNX
// Runtime do (test_div_int32_trunc: -3/2 = -1, not numpy's floor -2); an integer divisor of
// zero is an error rather than a crash. Float division follows IEEE 754 (x/0 is ±Inf or NaN).
type divOp struct{}

var divKernels = binaryKernels{
	f32: divRun[float32], f64: divRun[float64],
	i64: divRun[int64], i32: divRun[int32], i8: divRun[int8], u8: divRun[uint8],
}

func newDiv(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return divOp{}, nil
}

func (divOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	b := in[1]
	var zero bool
	switch b.DType {
	case tensor.Int64:
		zero = hasZero(b.I64())
	case tensor.Int32:
		zero = hasZero(b.I32())
	case tensor.Int8:
		zero = hasZero(dataOf[int8](b))
	case tensor.Uint8:
		zero = hasZero(dataOf[uint8](b))
	}
	if zero {
		return fmt.Errorf("input \"B\": integer division by zero")
	}
	return runBinary([2]string{"A", "B"}, in[0], b, out[0], &divKernels)
}

func hasZero[T numericElem](s []T) bool {
	for _, v := range s {
		if v == 0 {
			return true
		}
	}
	return false
}

// divRun is the bcast2 kernel: a and b each have len(dst) elements or one. For integers the
// caller has checked that b holds no zero.
func divRun[T numericElem](dst, a, b []T) {
	switch {
	case len(a) == len(b):
		b = b[:len(a)]
		for i, x := range a {
			dst[i] = x / b[i]
		}
	case len(a) == 1:
		x := a[0]
		for i, y := range b {
			dst[i] = x / y
		}
	default:
		y := b[0]
		for i, x := range a {
			dst[i] = x / y
		}
	}
}

func (divOp) Infer(in []Type) ([]Type, error) {
	return inferBinary([2]string{"A", "B"}, in, &divKernels)
}
