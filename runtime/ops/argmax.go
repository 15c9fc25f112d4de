package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// ArgMax gives the int64 index of the largest element along one axis (opset 1, 11, 12, 13;
// float32, float64, int64, int32, int8, uint8). axis defaults to 0 and may be negative from
// opset 11; keepdims (default 1) keeps the axis as a dimension of size 1; select_last_index
// (opset 12, default 0) picks the last of equal maxima instead of the first. A NaN counts as
// larger than any number (the first NaN wins, as numpy.argmax).
type argMax struct {
	axis      int64
	keepdims  bool
	lastIndex bool
}

func newArgMax(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	op := argMax{
		axis:     n.Attrs.Int("axis", 0),
		keepdims: n.Attrs.Int("keepdims", 1) != 0,
	}
	if n.Opset >= 12 {
		op.lastIndex = n.Attrs.Int("select_last_index", 0) != 0
	}
	return op, nil
}

func (op argMax) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	axis, err := resolveAxis(op.axis, x.Rank())
	if err != nil {
		return err
	}
	outer, n, inner := splitAtAxis(x.Shape, axis)
	if n == 0 {
		return fmt.Errorf("input \"data\": axis %d has size 0, which has no maximum", op.axis)
	}
	shape := append([]int{}, x.Shape...)
	if op.keepdims {
		shape[axis] = 1
	} else {
		shape = append(shape[:axis], shape[axis+1:]...)
	}
	out[0].Reset(tensor.Int64, shape)
	dst := out[0].I64()
	switch x.DType {
	case tensor.Float32:
		argMaxRun(dst, x.F32(), outer, n, inner, op.lastIndex)
	case tensor.Float64:
		argMaxRun(dst, x.F64(), outer, n, inner, op.lastIndex)
	case tensor.Int64:
		argMaxRun(dst, x.I64(), outer, n, inner, op.lastIndex)
	case tensor.Int32:
		argMaxRun(dst, x.I32(), outer, n, inner, op.lastIndex)
	case tensor.Int8:
		argMaxRun(dst, dataOf[int8](x), outer, n, inner, op.lastIndex)
	case tensor.Uint8:
		argMaxRun(dst, dataOf[uint8](x), outer, n, inner, op.lastIndex)
	default:
		return fmt.Errorf("input \"data\": dtype %v is not supported", x.DType)
	}
	return nil
}

// argMaxRun writes, for each of the outer*inner lines of n elements (stride inner) of src,
// the index of its maximum into dst.
func argMaxRun[T numericElem](dst []int64, src []T, outer, n, inner int, last bool) {
	for o := range outer {
		for i := range inner {
			base := o*n*inner + i
			best, bi := src[base], 0
			for j := 1; j < n && best == best; j++ { // best != best: a NaN, which wins
				v := src[base+j*inner]
				if v > best || (last && v == best) || v != v {
					best, bi = v, j
				}
			}
			dst[o*inner+i] = int64(bi)
		}
	}
}

// splitAtAxis returns the products of the dimensions before axis, at it, and after it.
func splitAtAxis(shape []int, axis int) (outer, n, inner int) {
	return tensor.Numel(shape[:axis]), shape[axis], tensor.Numel(shape[axis+1:])
}

func (op argMax) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if err := CheckDType("data", x, numericDTypes...); err != nil {
		return nil, err
	}
	if !x.Ranked {
		return []Type{{DType: tensor.Int64}}, nil
	}
	axis, err := resolveAxis(op.axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, x.Shape...)
	if op.keepdims {
		shape[axis] = 1
	} else {
		shape = append(shape[:axis], shape[axis+1:]...)
	}
	return []Type{{DType: tensor.Int64, Shape: shape, Ranked: true}}, nil
}
