package ops

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// Window geometry shared by Conv, ConvTranspose, MaxPool and AveragePool: the attributes
// auto_pad, kernel_shape, strides, dilations, pads and ceil_mode, and the output sizes and
// pads they give for an input (onnx/docs/Operators.md, the "output_spatial_shape" formulas).
//
// The ops handle 1 to kernels.MaxSpatial (3) spatial dimensions and describe a run with a
// kernels.ConvGeometry, whose unused leading dimensions are trivial.

// Values of the auto_pad attribute.
const (
	autoPadNotSet    = "NOTSET"
	autoPadSameUpper = "SAME_UPPER"
	autoPadSameLower = "SAME_LOWER"
	autoPadValid     = "VALID"
)

// windowAttrs holds the window attributes of one node, checked at plan time.
type windowAttrs struct {
	autoPad   string
	kernel    []int // kernel_shape; nil when absent (Conv and ConvTranspose read it from W)
	strides   []int // nil: all 1
	dilations []int // nil: all 1
	pads      []int // begin pads then end pads; nil: all 0 (ignored unless autoPad is NOTSET)
	ceilMode  bool
	// nd is the number of spatial dimensions the attributes fix, or 0 if none is given.
	nd int
}

// readWindowAttrs reads and checks the window attributes of n. It records problems with
// n.Attrs.Errorf; the caller checks n.Attrs.Err(). needKernel makes kernel_shape required
// (the pools). ceil_mode is read only when withCeil is set.
func readWindowAttrs(n *Node, needKernel, withCeil bool) windowAttrs {
	a := n.Attrs
	w := windowAttrs{autoPad: a.String("auto_pad", autoPadNotSet)}
	switch w.autoPad {
	case "": // written by some exporters; ONNX Runtime reads it as NOTSET too
		w.autoPad = autoPadNotSet
	case autoPadNotSet, autoPadSameUpper, autoPadSameLower, autoPadValid:
	default:
		a.Errorf("auto_pad", "want NOTSET, SAME_UPPER, SAME_LOWER or VALID, got %q", w.autoPad)
	}
	if withCeil {
		w.ceilMode = a.Flag("ceil_mode", false)
	}
	if needKernel && !a.Has("kernel_shape") {
		a.Errorf("kernel_shape", "required attribute is missing")
	}
	// Each attribute that is present fixes the number of spatial dimensions; they must agree.
	setND := func(name string, k int) {
		switch {
		case k < 1 || k > kernels.MaxSpatial:
			a.Errorf(name, "want 1 to %d spatial dimensions, got %d values", kernels.MaxSpatial, k)
		case w.nd == 0:
			w.nd = k
		case w.nd != k:
			a.Errorf(name, "has %d spatial dimensions, other attributes have %d", k, w.nd)
		}
	}
	positive := func(name string) []int {
		if !a.Has(name) {
			return nil
		}
		v := a.Ints(name, nil)
		setND(name, len(v))
		out := make([]int, len(v))
		for i, x := range v {
			if x < 1 || x > 1<<20 {
				a.Errorf(name, "want values in [1, 2^20], got %v", v)
				return nil
			}
			out[i] = int(x)
		}
		return out
	}
	w.kernel = positive("kernel_shape")
	w.strides = positive("strides")
	w.dilations = positive("dilations")
	if a.Has("pads") {
		v := a.Ints("pads", nil)
		if len(v)%2 != 0 {
			a.Errorf("pads", "want an even number of values (begin pads, then end pads), got %d", len(v))
		} else {
			setND("pads", len(v)/2)
		}
		w.pads = make([]int, len(v))
		for i, x := range v {
			if x < 0 || x > 1<<20 {
				a.Errorf("pads", "want values in [0, 2^20], got %v", v)
				w.pads = nil
				break
			}
			w.pads[i] = int(x)
		}
	}
	return w
}

// checkND checks the attributes against the number of spatial dimensions of an input.
func (w *windowAttrs) checkND(nd int) error {
	if nd < 1 || nd > kernels.MaxSpatial {
		return fmt.Errorf("want 1 to %d spatial dimensions (input rank 3 to %d), got %d", kernels.MaxSpatial, kernels.MaxSpatial+2, nd)
	}
	if w.nd != 0 && w.nd != nd {
		return fmt.Errorf("the attributes describe %d spatial dimensions, the input has %d", w.nd, nd)
	}
	return nil
}

func (w *windowAttrs) stride(i int) int   { return intAtOr(w.strides, i, 1) }
func (w *windowAttrs) dilation(i int) int { return intAtOr(w.dilations, i, 1) }

func intAtOr(v []int, i, def int) int {
	if v == nil {
		return def
	}
	return v[i]
}

// window is the resolved geometry of one run: the kernels' ConvGeometry (Channels unset) plus
// the end pads, which the pools need to count padded taps.
type window struct {
	kernels.ConvGeometry
	PadEnd [kernels.MaxSpatial]int
	nd     int
}

// spatialSlot maps spatial dimension i of an nd-dimensional op to its ConvGeometry index.
func spatialSlot(nd, i int) int { return kernels.MaxSpatial - nd + i }

// forward resolves the geometry of a convolution or pool whose input has spatial sizes in and
// whose kernel has sizes kernel (both of length nd, already checked with checkND), with
// outDim for each dimension. At plan time sizes may be -1 (unknown); the window then holds -1
// where they do, and is good only for outShape.
func (w *windowAttrs) forward(in, kernel []int) (window, error) {
	nd := len(in)
	win := window{nd: nd}
	for i := range nd {
		out, pb, pe, err := w.outDim(nd, i, in[i], kernel[i])
		if err != nil {
			return win, err
		}
		win.Set(nd, i, in[i], kernel[i], out, w.stride(i), w.dilation(i), pb)
		win.PadEnd[spatialSlot(nd, i)] = pe
	}
	return win, nil
}

// outDim resolves spatial dimension i of nd for an input of size in and a kernel of size k:
// the output size and the begin and end pads, after the ONNX formulas
//
//	NOTSET: out = floor((in + pad_begin + pad_end - ((k-1)*d + 1)) / s) + 1, or ceil with
//	        ceil_mode, dropping a last window that would start in the end padding
//	VALID:  out = floor((in - ((k-1)*d + 1)) / s) + 1, no padding
//	SAME_*: out = ceil(in / s); total padding max(0, (out-1)*s + (k-1)*d + 1 - in), the odd
//	        one at the end (SAME_UPPER) or at the beginning (SAME_LOWER)
//
// At plan time in or k may be -1 (unknown): out is then -1 unless the formula does not need
// the unknown size (SAME_* needs only in), and nothing is checked.
func (w *windowAttrs) outDim(nd, i, in, k int) (out, pb, pe int, err error) {
	s, d := w.stride(i), w.dilation(i)
	switch w.autoPad {
	case autoPadSameUpper, autoPadSameLower:
		if in < 0 {
			return -1, 0, 0, nil
		}
		out = (in + s - 1) / s
		if k < 0 {
			return out, 0, 0, nil
		}
		total := max(0, (out-1)*s+(k-1)*d+1-in)
		pb = total / 2
		if w.autoPad == autoPadSameLower {
			pb = total - total/2
		}
		return out, pb, total - pb, nil
	}
	if w.autoPad == autoPadNotSet && w.pads != nil {
		pb, pe = w.pads[i], w.pads[nd+i]
	}
	if in < 0 || k < 0 {
		return -1, pb, pe, nil
	}
	ext := (k-1)*d + 1
	span := in + pb + pe - ext
	if span < 0 {
		return 0, pb, pe, fmt.Errorf("spatial dimension %d: input size %d with pads %d+%d is smaller than the kernel's extent %d", i, in, pb, pe, ext)
	}
	out = span/s + 1
	if w.ceilMode && w.autoPad == autoPadNotSet && span%s != 0 {
		out++
		// A window must start inside the image or its begin padding.
		if (out-1)*s >= in+pb {
			out--
		}
	}
	return out, pb, pe, nil
}

// outShape writes [n, c, out...] into dst (which needs room for nd+2 values) and returns it.
func (win *window) outShape(dst []int, n, c int) []int {
	dst = append(dst[:0], n, c)
	for i := range win.nd {
		dst = append(dst, win.Out[spatialSlot(win.nd, i)])
	}
	return dst
}

// floorHalf is total/2 rounded toward negative infinity, as Python's total//2, which the
// ONNX formulas use where the total padding can be negative.
func floorHalf(total int) int {
	if total < 0 {
		return -((-total + 1) / 2)
	}
	return total / 2
}

// taps returns the kernel taps [lo, hi) of window position o along ConvGeometry dimension j
// that read the image (not the padding).
func (win *window) taps(j, o int) (lo, hi int) {
	start := o*win.Stride[j] - win.Pad[j]
	d := win.Dilation[j]
	if start < 0 {
		lo = (-start + d - 1) / d // ceil(-start/d)
	}
	if last := win.In[j] - 1 - start; last >= 0 {
		hi = min(win.Kernel[j], last/d+1)
	}
	lo = min(lo, win.Kernel[j])
	return lo, max(hi, lo)
}

// paddedTaps returns how many kernel taps of window position o along ConvGeometry dimension j
// fall inside the padded input [-pad_begin, in + pad_end): the taps past the end padding,
// which ceil_mode can add, are not counted.
func (win *window) paddedTaps(j, o int) int {
	start := o*win.Stride[j] - win.Pad[j] // >= -pad_begin
	last := win.In[j] + win.PadEnd[j] - 1 - start
	if last < 0 {
		return 0
	}
	return min(win.Kernel[j], last/win.Dilation[j]+1)
}

// Shapes at plan time. The geometry and shape checks of the NN and recurrent ops take shapes
// as []int in which a dimension of -1 is unknown: Run passes the shapes of its tensors (all
// known) and Infer what the planner knows, so that both go through the same code. A check
// that needs an unknown dimension is skipped, and a size that depends on one is -1.

// dimsAgree reports whether got has the rank of want and agrees with it wherever both know
// the dimension.
func dimsAgree(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i, g := range got {
		if g >= 0 && want[i] >= 0 && g != want[i] {
			return false
		}
	}
	return true
}

// wantDims returns an error naming the input unless its shape got agrees with want.
func wantDims(name string, got []int, want ...int) error {
	if !dimsAgree(got, want) {
		return fmt.Errorf("input %q: want shape %s, got %s", name, dimsString(want), dimsString(got))
	}
	return nil
}

// mergeDim returns the known one of two sizes of the same dimension (-1 if neither is
// known); the caller has checked that they agree.
func mergeDim(a, b int) int {
	if a < 0 {
		return b
	}
	return a
}

// mulDim is a*b, or -1 if a or b is unknown.
func mulDim(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a * b
}

// shapeOf returns the shape of t for the shape checks, where nil means an absent input: nil
// when t is nil, an empty non-nil shape for a scalar.
func shapeOf(t *tensor.Tensor) []int {
	switch {
	case t == nil:
		return nil
	case t.Shape == nil:
		return scalarShape
	}
	return t.Shape
}

// scalarShape is the shape of a scalar for the shape checks (see shapeOf). Nothing writes it.
var scalarShape = []int{}

// inType returns the type of input slot i, or Unknown when the node has fewer inputs.
func inType(in []Type, i int) Type {
	if i < len(in) {
		return in[i]
	}
	return Unknown
}

// shapeOr returns t's shape, or rank unknown dimensions when t is unranked.
func shapeOr(t Type, rank int) []int {
	if t.Ranked {
		return t.Shape
	}
	return unknownDims(rank)
}

// optShape returns the shape of an optional input, or nil when it is absent or its rank is
// unknown (nothing to check); a scalar gives an empty non-nil shape.
func optShape(t Type) []int {
	switch {
	case !t.Ranked:
		return nil
	case t.Shape == nil:
		return scalarShape
	}
	return t.Shape
}

// checkNC checks that input X of shape x has the [N, C, spatial...] form: rank 2 at least.
func checkNC(x []int) error {
	if len(x) < 2 {
		return fmt.Errorf("input \"X\": want rank at least 2 ([N, C, spatial...]), got rank %d", len(x))
	}
	return nil
}
