package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Reshape gives its input the shape held by its second input (opset 5, 13, 14, 19, 21; every
// dtype). In the target shape, -1 (at most once) is inferred from the element count and 0
// copies the input's dimension at the same position; from opset 14, allowzero=1 makes 0 a
// literal zero-sized dimension instead.
type reshape struct {
	allowZero bool
	shape     constInput // the target shape, when known at plan time
}

func newReshape(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 2); err != nil {
		return nil, err
	}
	allowZero := n.Attrs.Flag("allowzero", false)
	if allowZero && n.Opset < 14 {
		n.Attrs.Errorf("allowzero", "needs opset 14 or later, the model imports opset %d", n.Opset)
	}
	return reshape{allowZero: allowZero, shape: constInputOf(n, 1)}, nil
}

func (op reshape) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, s := in[0], in[1]
	if s.Rank() != 1 {
		return fmt.Errorf("input \"shape\": want rank 1, got rank %d", s.Rank())
	}
	dims, err := s.Int64s()
	if err != nil {
		return fmt.Errorf("input \"shape\": %w", err)
	}
	shape, err := reshapeTarget(x.Shape, dims, op.allowZero)
	if err != nil {
		return err
	}
	copyReshaped(out[0], x, shape)
	return nil
}

// reshapeTarget resolves the 0 and -1 entries of a Reshape target for an input of shape in.
func reshapeTarget(in []int, dims []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(dims))
	infer := -1
	known := 1 // product of the dimensions other than the inferred one
	for i, d := range dims {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("input \"shape\": %v has more than one -1", dims)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("input \"shape\": %v has 0 at position %d, but the input %v has only %d dimensions to copy", dims, i, tensor.ShapeString(in), len(in))
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("input \"shape\": %v has a negative dimension %d", dims, d)
		default:
			out[i] = int(d)
		}
		if out[i] != 0 && known > math.MaxInt/out[i] {
			return nil, fmt.Errorf("input \"shape\": %v has too many elements", dims)
		}
		known *= out[i]
	}
	total := tensor.Numel(in)
	if infer >= 0 {
		if known == 0 {
			return nil, fmt.Errorf("input \"shape\": cannot infer the -1 of %v when the other dimensions hold no elements", dims)
		}
		if total%known != 0 {
			return nil, fmt.Errorf("input \"shape\": cannot reshape %v (%d elements) into %v", tensor.ShapeString(in), total, dims)
		}
		out[infer] = total / known
		return out, nil
	}
	if known != total {
		return nil, fmt.Errorf("input \"shape\": cannot reshape %v (%d elements) into %v (%d elements)", tensor.ShapeString(in), total, tensor.ShapeString(out), known)
	}
	return out, nil
}

// Infer gives the exact shape when the target and the input shape are known, and otherwise
// whatever the target alone says.
func (op reshape) Infer(in []Type) ([]Type, error) {
	x, s := in[0], in[1]
	if !op.shape.known {
		if s.Ranked && len(s.Shape) == 1 && s.Shape[0] >= 0 {
			return []Type{rankedType(x.DType, unknownDims(s.Shape[0]))}, nil
		}
		return []Type{unrankedType(x.DType)}, nil
	}
	dims := op.shape.vals
	if x.Known() {
		shape, err := reshapeTarget(x.Shape, dims, op.allowZero)
		if err != nil {
			return nil, err
		}
		return []Type{rankedType(x.DType, shape)}, nil
	}
	out := make([]int, len(dims))
	for i, d := range dims {
		switch {
		case d == 0 && !op.allowZero && x.Ranked && i < len(x.Shape):
			out[i] = x.Shape[i]
		case d < 0 || (d == 0 && !op.allowZero):
			out[i] = -1
		default:
			out[i] = int(d)
		}
	}
	return []Type{rankedType(x.DType, out)}, nil
}
