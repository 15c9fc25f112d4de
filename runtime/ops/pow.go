package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Pow is X^Y element-wise with multidirectional broadcasting (opset 7, 12, 13, 15). The base X
// is float32, float64, int32 or int64 and gives the output's dtype. Before opset 12 the
// exponent Y has X's dtype; from 12 it may be any of float32, float64, int64, int32, int8,
// uint8.
//
// Powers are computed in float64 and converted to the output type (a float-to-int conversion
// truncates, as numpy's astype does in the spec's reference). An integer base with an integer
// exponent is computed exactly in int64 by repeated squaring (wrapping on overflow); a negative
// exponent gives 1/x^-y truncated toward zero (so 0 unless x is ±1), and 0^-y is an error.
type powOp struct {
	sameType bool // opset < 12: Y must have X's dtype
}

func newPow(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return powOp{sameType: n.Opset < 12}, nil
}

func (op powOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], in[1]
	if op.sameType && x.DType != y.DType {
		return fmt.Errorf("input \"Y\" is %v but input \"X\" is %v: before opset 12 they must have the same dtype", y.DType, x.DType)
	}
	shape, err := broadcastShape([]string{"X", "Y"}, x.Shape, y.Shape)
	if err != nil {
		return err
	}
	p := newBcastPlan(shape, x.Shape, y.Shape)
	switch x.DType {
	case tensor.Float32:
		return powBase[float32](p, shape, x, y, out[0])
	case tensor.Float64:
		return powBase[float64](p, shape, x, y, out[0])
	case tensor.Int32:
		return powBase[int32](p, shape, x, y, out[0])
	case tensor.Int64:
		return powBase[int64](p, shape, x, y, out[0])
	}
	return fmt.Errorf("input \"X\": dtype %v is not supported", x.DType)
}

// powBase dispatches on the exponent's dtype for a base of element type T.
func powBase[T float32 | float64 | int32 | int64](p *bcastPlan, shape []int, x, y, out *tensor.Tensor) error {
	switch y.DType {
	case tensor.Float32:
		return powRun[T, float32](p, shape, x, y, out)
	case tensor.Float64:
		return powRun[T, float64](p, shape, x, y, out)
	case tensor.Int64:
		return powRun[T, int64](p, shape, x, y, out)
	case tensor.Int32:
		return powRun[T, int32](p, shape, x, y, out)
	case tensor.Int8:
		return powRun[T, int8](p, shape, x, y, out)
	case tensor.Uint8:
		return powRun[T, uint8](p, shape, x, y, out)
	}
	return fmt.Errorf("input \"Y\": dtype %v is not supported", y.DType)
}

func powRun[T float32 | float64 | int32 | int64, U numericElem](p *bcastPlan, shape []int, x, y, out *tensor.Tensor) error {
	exact := isInteger[T]() && isInteger[U]()
	out.Reset(x.DType, shape)
	zeroToNegative := false
	bcast2(p, dataOf[T](out), dataOf[T](x), dataOf[U](y), func(dst, a []T, b []U) {
		ia, ib := runSteps(len(a), len(b))
		for i := range dst {
			base, e := a[i*ia], b[i*ib]
			switch {
			case !exact:
				dst[i] = T(powFloat(float64(base), float64(e)))
			case base == 0 && e < 0:
				zeroToNegative = true
			default:
				dst[i] = T(ipow(int64(base), int64(e)))
			}
		}
	})
	if zeroToNegative {
		return fmt.Errorf("integer 0 raised to a negative power")
	}
	return nil
}

// powFloat is math.Pow with the exponent 2 (a squared difference in a loss, say) computed as a
// product, which rounds the same.
func powFloat(x, y float64) float64 {
	if y == 2 {
		return x * x
	}
	return math.Pow(x, y)
}

// ipow is x^e in int64 arithmetic (wrapping on overflow); for e < 0 it is 1/x^-e truncated
// toward zero. The caller rules out x = 0 with e < 0.
func ipow(x, e int64) int64 {
	if e < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if e%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for e > 0 {
		if e&1 == 1 {
			r *= x
		}
		x *= x
		e >>= 1
	}
	return r
}

// isInteger reports whether T is an integer type.
func isInteger[T numericElem]() bool {
	var one T = 1
	return one/2 == 0
}

// runSteps returns the index step (0 or 1) of two bcast2 run operands of lengths na and nb.
func runSteps(na, nb int) (int, int) {
	ia, ib := 1, 1
	if na == 1 {
		ia = 0
	}
	if nb == 1 {
		ib = 0
	}
	return ia, ib
}

func (op powOp) Infer(in []Type) ([]Type, error) {
	x, y := in[0], in[1]
	if err := CheckDType("X", x, tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64); err != nil {
		return nil, err
	}
	if err := CheckDType("Y", y, numericDTypes...); err != nil {
		return nil, err
	}
	if op.sameType {
		if _, err := sameDType([]string{"X", "Y"}, x, y); err != nil {
			return nil, fmt.Errorf("before opset 12: %w", err)
		}
	}
	shape, ranked, err := inferBroadcast([]string{"X", "Y"}, x, y)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: x.DType, Shape: shape, Ranked: ranked}}, nil
}
