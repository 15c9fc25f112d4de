package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Shared logic of the reductions (ReduceSum, ReduceMean, ReduceMax): which axes, the output
// shape, and a driver that folds the input into the output one contiguous run at a time.
//
// The axes are an INTS attribute until an opset that made them an optional int64 input (13
// for ReduceSum, 18 for ReduceMean and ReduceMax), which also added noop_with_empty_axes.
// Without axes (or with an empty list) every axis is reduced, unless noop_with_empty_axes is
// set, in which case the input passes through unchanged. Negative axes count from the end
// (allowed from opset 11). keepdims (default 1) keeps reduced axes as dimensions of size 1.
// A reduction over an empty set gives the op's identity (0 for a sum, -Inf for a max).

// reduceConfig is what a reduction reads from its node at plan time.
type reduceConfig struct {
	axesInput bool    // the axes come from input 1
	axes      []int64 // the axes attribute (before axesInput); nil means all
	keepdims  bool
	noopEmpty bool // noop_with_empty_axes
	// constAxes is the axes input when it is known at plan time (constAxesKnown), for Infer.
	constAxes      []int64
	constAxesKnown bool
}

// newReduceConfig reads a reduction node whose axes became an input at opset axesInputSince.
func newReduceConfig(n *Node, axesInputSince int64) (reduceConfig, error) {
	c := reduceConfig{axesInput: n.Opset >= axesInputSince}
	maxIn := 1
	if c.axesInput {
		maxIn = 2
		if n.Attrs.Has("axes") {
			n.Attrs.Errorf("axes", "from opset %d the axes are an input, not an attribute", axesInputSince)
		}
		c.noopEmpty = n.Attrs.Int("noop_with_empty_axes", 0) != 0
		switch {
		case n.NumInputs() < 2 || n.Proto.GetInput()[1] == "":
			c.constAxesKnown = true // absent
		case len(n.Consts) > 1 && n.Consts[1] != nil && n.Consts[1].DType == tensor.Int64:
			c.constAxes, c.constAxesKnown = n.Consts[1].I64(), true
		}
	} else {
		c.axes = n.Attrs.Ints("axes", nil)
	}
	c.keepdims = n.Attrs.Int("keepdims", 1) != 0
	if err := n.CheckArity(1, maxIn, 1, 1); err != nil {
		return c, err
	}
	return c, nil
}

// reduceLayout is the shape side of one reduction.
type reduceLayout struct {
	noop  bool  // pass the input through
	kept  []int // the input's shape with reduced axes set to 1 (the keepdims shape)
	out   []int // the output's shape
	count int   // number of input elements folded into each output element
}

// layout resolves the axes for data of the given shape; axesIn is input 1 (nil if absent).
func (c reduceConfig) layout(shape []int, axesIn *tensor.Tensor) (reduceLayout, error) {
	axes := c.axes
	if c.axesInput && axesIn != nil {
		if axesIn.DType != tensor.Int64 || axesIn.Rank() > 1 {
			return reduceLayout{}, fmt.Errorf("input \"axes\": want a 1-D int64 tensor, got %v", axesIn)
		}
		axes = axesIn.I64()
	}
	if len(axes) == 0 && c.noopEmpty {
		return reduceLayout{noop: true, out: shape}, nil
	}
	r := len(shape)
	reduced := make([]bool, r)
	if len(axes) == 0 {
		for i := range reduced {
			reduced[i] = true
		}
	}
	idx, err := resolveAxes(axes, r)
	if err != nil {
		return reduceLayout{}, fmt.Errorf("axes: %w", err)
	}
	for _, a := range idx {
		reduced[a] = true
	}
	l := reduceLayout{kept: make([]int, r), count: 1}
	for i, d := range shape {
		if reduced[i] {
			l.kept[i] = 1
			l.count *= d
			if c.keepdims {
				l.out = append(l.out, 1)
			}
			continue
		}
		l.kept[i] = d
		l.out = append(l.out, d)
	}
	if l.out == nil {
		l.out = []int{}
	}
	return l, nil
}

// infer is the plan-time counterpart of layout: the output type for an input of type x whose
// dtype is one of allowed.
func (c reduceConfig) infer(x Type, allowed ...tensor.DType) ([]Type, error) {
	if err := CheckDType("data", x, allowed...); err != nil {
		return nil, err
	}
	if !x.Ranked {
		return []Type{{DType: x.DType}}, nil
	}
	if c.axesInput && !c.constAxesKnown {
		if !c.keepdims {
			return []Type{{DType: x.DType}}, nil // the rank depends on the axes
		}
		// Each dimension is kept or becomes 1.
		shape := make([]int, len(x.Shape))
		for i, d := range x.Shape {
			shape[i] = -1
			if d == 1 {
				shape[i] = 1
			}
		}
		return []Type{{DType: x.DType, Shape: shape, Ranked: true}}, nil
	}
	axes := c.axes
	if c.axesInput {
		axes = c.constAxes
	}
	// layout only looks at the rank and passes dimensions through: unknown ones stay -1.
	var axesIn *tensor.Tensor
	if c.axesInput {
		axesIn = tensor.FromInt64(axes, len(axes))
	}
	l, err := c.layout(x.Shape, axesIn)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: x.DType, Shape: append([]int{}, l.out...), Ranked: true}}, nil
}

// reduceRuns folds src (of shape shape) into dst (of shape kept, already holding the
// identity): k is called once per contiguous run of src with the part of dst it folds into,
// which is either one element (the run lies along reduced axes: fold the run into dst[0]) or
// as long as the run (combine element-wise).
func reduceRuns[T any](dst, src []T, shape, kept []int, k func(dst, run []T)) {
	// The kept shape broadcasts to the input's shape: iterating over the input with dst as
	// the broadcast operand visits each input element once, with the output element it
	// belongs to.
	p := newBcastPlan(shape, kept)
	n, nd := p.inner(0)
	p.forRuns(len(src), func(o int, offs []int) {
		k(dst[offs[0]:offs[0]+nd], src[o:o+n])
	})
}

// sumRun is the reduceRuns kernel of a sum. A run folded into one element is summed in
// float64 for floats (less rounding error on long rows).
func sumRun[T numericElem](dst, run []T) {
	if len(dst) == len(run) {
		for i, v := range run {
			dst[i] += v
		}
		return
	}
	if isInteger[T]() {
		s := dst[0]
		for _, v := range run {
			s += v
		}
		dst[0] = s
		return
	}
	s := float64(dst[0])
	for _, v := range run {
		s += float64(v)
	}
	dst[0] = T(s)
}

// reduceSumAs computes a sum reduction (the first step of ReduceMean too) into out.
func reduceSumAs[T numericElem](l reduceLayout, x, out *tensor.Tensor) {
	out.Reset(x.DType, l.kept)
	dst := dataOf[T](out)
	clear(dst)
	reduceRuns(dst, dataOf[T](x), x.Shape, l.kept, sumRun[T])
	out.Shape = append(out.Shape[:0], l.out...)
}

// optionalInput returns in[i], or nil when the node has fewer inputs or leaves slot i empty.
func optionalInput(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}
