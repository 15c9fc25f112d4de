package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Unsqueeze inserts dimensions of size 1 (opset 1, 11, 13, 21; every dtype). The axes, given
// as an attribute before opset 13 and as a required int64 input from 13, index the output:
// for an input of rank r they lie in [-(r+k), r+k) with k the number of axes (negative from 11).
type unsqueeze struct {
	axes      []int64 // opset < 13
	axesInput bool    // opset >= 13

	axesC constInput // plan-time knowledge of the axes
}

func newUnsqueeze(n *Node) (Op, error) {
	op := unsqueeze{axesInput: n.Opset >= 13}
	if op.axesInput {
		if err := n.CheckArity(2, 2, 1, 1); err != nil {
			return nil, err
		}
		if err := checkInputsPresent(n, 2); err != nil {
			return nil, err
		}
	} else {
		if err := n.CheckArity(1, 1, 1, 1); err != nil {
			return nil, err
		}
		if !n.Attrs.Has("axes") {
			return nil, n.Errorf("attribute \"axes\" is required")
		}
		op.axes = n.Attrs.Ints("axes", nil)
	}
	op.axesC = constInputOf(n, 1)
	if !op.axesInput {
		op.axesC = constInput{known: true, vals: op.axes}
	}
	return op, nil
}

func (op unsqueeze) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	axes := op.axes
	if op.axesInput {
		var err error
		if axes, err = int64Input(in, 1, "axes"); err != nil {
			return err
		}
	}
	shape, err := unsqueezeShape(x.Shape, axes)
	if err != nil {
		return err
	}
	copyReshaped(out[0], x, shape)
	return nil
}

// unsqueezeShape inserts a 1 into in at each of axes (output positions).
func unsqueezeShape(in []int, axes []int64) ([]int, error) {
	r := len(in) + len(axes)
	ax, err := resolveAxes(axes, r)
	if err != nil {
		return nil, fmt.Errorf("axes: %w", err)
	}
	one := make([]bool, r)
	for _, a := range ax {
		one[a] = true
	}
	out := make([]int, r)
	j := 0
	for i := range out {
		if one[i] {
			out[i] = 1
			continue
		}
		out[i] = in[j]
		j++
	}
	return out, nil
}

// Infer inserts the unit dimensions when the axes are known.
func (op unsqueeze) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked || !op.axesC.known || op.axesC.absent {
		return []Type{unrankedType(x.DType)}, nil
	}
	shape, err := unsqueezeShape(x.Shape, op.axesC.vals)
	if err != nil {
		return nil, err
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
