package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Concat joins its inputs along one axis (opset 4, 11, 13; every dtype). All inputs have the
// same dtype and rank and agree on every other dimension. axis may be negative from opset 11.
type concat struct {
	axis int64
}

func newConcat(n *Node) (Op, error) {
	if err := n.CheckArity(1, math.MaxInt32, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, n.NumInputs()); err != nil {
		return nil, err
	}
	if !n.Attrs.Has("axis") {
		return nil, n.Errorf("attribute \"axis\" is required")
	}
	axis := n.Attrs.Int("axis", 0)
	if axis < 0 && n.Opset < 11 {
		n.Attrs.Errorf("axis", "negative axis %d needs opset 11 or later, the model imports opset %d", axis, n.Opset)
	}
	return concat{axis: axis}, nil
}

func (op concat) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	first := in[0]
	r := first.Rank()
	if r == 0 {
		return fmt.Errorf("input 0: cannot concatenate scalars")
	}
	axis, err := resolveAxis(op.axis, r)
	if err != nil {
		return fmt.Errorf("attribute \"axis\": %w", err)
	}
	shape := append([]int{}, first.Shape...)
	shape[axis] = 0
	for i, x := range in {
		if x.DType != first.DType {
			return fmt.Errorf("input %d: dtype %v differs from input 0's %v", i, x.DType, first.DType)
		}
		if x.Rank() != r {
			return fmt.Errorf("input %d: want rank %d, got shape %v", i, r, tensor.ShapeString(x.Shape))
		}
		for k, d := range x.Shape {
			if k != axis && d != first.Shape[k] {
				return fmt.Errorf("input %d: shape %v does not match input 0's %v outside axis %d", i, tensor.ShapeString(x.Shape), tensor.ShapeString(first.Shape), axis)
			}
		}
		shape[axis] += x.Shape[axis]
	}
	y := out[0]
	y.Reset(first.DType, shape)
	yStr := tensor.Strides(shape)
	off := 0
	for _, x := range in {
		if err := copyStrided(y.Data, off*yStr[axis], yStr, x.Data, 0, tensor.Strides(x.Shape), x.Shape); err != nil {
			return err
		}
		off += x.Shape[axis]
	}
	return nil
}

// Infer checks what is known of the inputs against each other and sums the axis.
func (op concat) Infer(in []Type) ([]Type, error) {
	dt := tensor.Undefined
	rank := -1
	for i, x := range in {
		if x.DType != tensor.Undefined {
			if dt != tensor.Undefined && x.DType != dt {
				return nil, fmt.Errorf("input %d: dtype %v differs from %v", i, x.DType, dt)
			}
			dt = x.DType
		}
		if x.Ranked {
			if rank >= 0 && len(x.Shape) != rank {
				return nil, fmt.Errorf("input %d: want rank %d, got %v", i, rank, x)
			}
			rank = len(x.Shape)
		}
	}
	if rank < 0 {
		return []Type{unrankedType(dt)}, nil
	}
	axis, err := resolveAxis(op.axis, rank)
	if err != nil {
		return nil, fmt.Errorf("attribute \"axis\": %w", err)
	}
	shape := unknownDims(rank)
	shape[axis] = 0
	for i, x := range in {
		if !x.Ranked {
			shape[axis] = -1
			continue
		}
		for k, d := range x.Shape {
			switch {
			case k == axis:
				if d < 0 || shape[axis] < 0 {
					shape[axis] = -1
				} else {
					shape[axis] += d
				}
			case d >= 0 && shape[k] >= 0 && d != shape[k]:
				return nil, fmt.Errorf("input %d: %v does not match the other inputs outside axis %d", i, x, axis)
			case d >= 0:
				shape[k] = d
			}
		}
	}
	return []Type{rankedType(dt, shape)}, nil
}
