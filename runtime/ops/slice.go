package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Slice takes a strided sub-tensor (opset 1, 10, 11, 13; every dtype). Opset 1 reads starts,
// ends and axes from attributes; from 10 they are inputs, with optional axes and steps
// (negative steps walk backwards; from 11 axes may be negative). Negative starts and ends
// count from the back, then are clamped as the spec's text says: start to [0, dim] for
// positive steps and [0, dim-1] for negative ones, end to [0, dim] and [-1, dim-1]. (For a
// start below -dim with a negative step this selects element 0, as ONNX Runtime does, where
// NumPy would select nothing.)
type slice struct {
	attrs              bool // opset < 10
	starts, ends, axes []int64

	known bool // starts, ends, axes and steps are known at plan time (in starts...steps)
	steps []int64
}

func newSlice(n *Node) (Op, error) {
	op := slice{attrs: n.Opset < 10}
	if op.attrs {
		if err := n.CheckArity(1, 1, 1, 1); err != nil {
			return nil, err
		}
		if !n.Attrs.Has("starts") || !n.Attrs.Has("ends") {
			return nil, n.Errorf("attributes \"starts\" and \"ends\" are required")
		}
		op.starts = n.Attrs.Ints("starts", nil)
		op.ends = n.Attrs.IntsLen("ends", nil, len(op.starts))
		op.axes = n.Attrs.IntsLen("axes", nil, len(op.starts))
	} else {
		if err := n.CheckArity(3, 5, 1, 1); err != nil {
			return nil, err
		}
	}
	required := 3
	if op.attrs {
		required = 1
		op.known = true
	} else {
		s, e, a, st := constInputOf(n, 1), constInputOf(n, 2), constInputOf(n, 3), constInputOf(n, 4)
		if s.known && e.known && a.known && st.known && !s.absent && !e.absent {
			op.known, op.starts, op.ends, op.axes, op.steps = true, s.vals, e.vals, a.vals, st.vals
		}
	}
	if err := checkInputsPresent(n, required); err != nil {
		return nil, err
	}
	return op, nil
}

func (op slice) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	starts, ends, axesIn := op.starts, op.ends, op.axes
	var steps []int64
	if !op.attrs {
		var err error
		if starts, err = int64Input(in, 1, "starts"); err != nil {
			return err
		}
		if ends, err = int64Input(in, 2, "ends"); err != nil {
			return err
		}
		if axesIn, err = int64Input(in, 3, "axes"); err != nil {
			return err
		}
		if steps, err = int64Input(in, 4, "steps"); err != nil {
			return err
		}
		if len(ends) != len(starts) {
			return fmt.Errorf("input \"ends\": want %d values like \"starts\", got %d", len(starts), len(ends))
		}
		if axesIn != nil && len(axesIn) != len(starts) {
			return fmt.Errorf("input \"axes\": want %d values like \"starts\", got %d", len(starts), len(axesIn))
		}
		if steps != nil && len(steps) != len(starts) {
			return fmt.Errorf("input \"steps\": want %d values like \"starts\", got %d", len(starts), len(steps))
		}
	}
	var axes []int
	if axesIn != nil {
		var err error
		if axes, err = resolveAxes(axesIn, r); err != nil {
			return fmt.Errorf("axes: %w", err)
		}
	} else {
		if len(starts) > r {
			return fmt.Errorf("starts: %d values for an input of rank %d", len(starts), r)
		}
		axes = make([]int, len(starts))
		for i := range axes {
			axes[i] = i
		}
	}
	shape := append([]int{}, x.Shape...)
	str := tensor.Strides(x.Shape)
	srcStr := append([]int{}, str...)
	off := 0
	for i, ax := range axes {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return fmt.Errorf("steps: step %d (axis %d) is 0", i, ax)
		}
		first, count := sliceRange(starts[i], ends[i], step, x.Shape[ax])
		shape[ax] = count
		off += first * str[ax]
		if count > 1 { // then |step| < dim, so the product cannot overflow
			srcStr[ax] = int(step) * str[ax]
		}
	}
	y := out[0]
	y.Reset(x.DType, shape)
	return copyStrided(y.Data, 0, tensor.Strides(shape), x.Data, off, srcStr, shape)
}

// sliceRange returns the first index and the number of elements that the slice
// [start:end:step] selects from an axis of dim elements, following the ONNX clamping rules.
func sliceRange(start, end, step int64, dim int) (first, count int) {
	d := int64(dim)
	if d == 0 {
		return 0, 0
	}
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end <= start {
			return 0, 0
		}
		return int(start), int((end-start-1)/step + 1)
	}
	start = min(max(start, 0), d-1)
	end = min(max(end, -1), d-1)
	if start <= end {
		return 0, 0
	}
	// -step cannot overflow usefully: a step beyond -d selects one element.
	neg := -max(step, -d-1)
	return int(start), int((start-end-1)/neg + 1)
}

// int64Input returns optional input i as int64 values (rank 1), or nil when absent.
func int64Input(in []*tensor.Tensor, i int, name string) ([]int64, error) {
	if len(in) <= i || in[i] == nil {
		return nil, nil
	}
	if in[i].Rank() != 1 {
		return nil, fmt.Errorf("input %q: want rank 1, got rank %d", name, in[i].Rank())
	}
	v, err := in[i].Int64s()
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", name, err)
	}
	return v, nil
}

// Infer gives the sliced shape when the slice parameters are known at plan time; the
// dimensions of unknown size stay unknown.
func (op slice) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		return []Type{unrankedType(x.DType)}, nil
	}
	r := len(x.Shape)
	if !op.known || len(op.ends) != len(op.starts) ||
		(op.axes != nil && len(op.axes) != len(op.starts)) || (op.steps != nil && len(op.steps) != len(op.starts)) {
		return []Type{rankedType(x.DType, unknownDims(r))}, nil // Run reports bad lengths
	}
	shape := append([]int{}, x.Shape...)
	for i := range op.starts {
		ax := i
		if op.axes != nil {
			var err error
			if ax, err = resolveAxis(op.axes[i], r); err != nil {
				return nil, fmt.Errorf("axes: %w", err)
			}
		} else if i >= r {
			return nil, fmt.Errorf("starts: %d values for an input of rank %d", len(op.starts), r)
		}
		step := int64(1)
		if op.steps != nil {
			step = op.steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("steps: step %d (axis %d) is 0", i, ax)
		}
		if shape[ax] >= 0 {
			_, shape[ax] = sliceRange(op.starts[i], op.ends[i], step, shape[ax])
		}
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
