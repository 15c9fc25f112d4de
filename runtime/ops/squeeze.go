package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Squeeze removes dimensions of size 1 (opset 1, 11, 13, 21; every dtype). The axes to
// remove come from an attribute before opset 13 and from an optional int64 input from 13;
// without them every size-1 dimension goes. Negative axes count from the back (from 11).
type squeeze struct {
	axes      []int64 // opset < 13
	axesInput bool    // opset >= 13

	axesC constInput // plan-time knowledge of the axes
}

func newSqueeze(n *Node) (Op, error) {
	op := squeeze{axesInput: n.Opset >= 13}
	maxIn := 1
	if op.axesInput {
		maxIn = 2
	} else {
		op.axes = n.Attrs.Ints("axes", nil)
	}
	if err := n.CheckArity(1, maxIn, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	op.axesC = constInputOf(n, 1)
	if !op.axesInput {
		op.axesC = constInput{known: true, absent: op.axes == nil, vals: op.axes}
	}
	return op, nil
}

func (op squeeze) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	axes := op.axes
	if op.axesInput {
		var err error
		if axes, err = int64Input(in, 1, "axes"); err != nil {
			return err
		}
	}
	shape, err := squeezeShape(x.Shape, axes)
	if err != nil {
		return err
	}
	copyReshaped(out[0], x, shape)
	return nil
}

// squeezeShape removes the given axes (all size-1 axes when axes is nil) from in.
func squeezeShape(in []int, axes []int64) ([]int, error) {
	drop := make([]bool, len(in))
	if axes == nil {
		for i, d := range in {
			drop[i] = d == 1
		}
	} else {
		ax, err := resolveAxes(axes, len(in))
		if err != nil {
			return nil, fmt.Errorf("axes: %w", err)
		}
		for _, a := range ax {
			if in[a] != 1 {
				return nil, fmt.Errorf("axes: cannot squeeze axis %d of size %d (shape %v)", a, in[a], tensor.ShapeString(in))
			}
			drop[a] = true
		}
	}
	out := make([]int, 0, len(in))
	for i, d := range in {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// Infer removes the given axes, or every dimension known to be 1 when all dimensions are
// known and no axes are given.
func (op squeeze) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked || !op.axesC.known || (op.axesC.absent && !x.Known()) {
		return []Type{unrankedType(x.DType)}, nil
	}
	if op.axesC.absent {
		shape, err := squeezeShape(x.Shape, nil)
		return []Type{rankedType(x.DType, shape)}, err
	}
	axes, err := resolveAxes(op.axesC.vals, len(x.Shape))
	if err != nil {
		return nil, fmt.Errorf("axes: %w", err)
	}
	drop := make([]bool, len(x.Shape))
	for _, a := range axes {
		if d := x.Shape[a]; d >= 0 && d != 1 {
			return nil, fmt.Errorf("axes: cannot squeeze axis %d of size %d (%v)", a, d, x)
		}
		drop[a] = true
	}
	var shape []int
	for i, d := range x.Shape {
		if !drop[i] {
			shape = append(shape, d)
		}
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
