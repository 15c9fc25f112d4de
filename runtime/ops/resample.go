package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Resampling shared by Resize and Upsample. The coordinate transforms, the neighbour choice and
// the filter coefficients follow the ONNX reference implementation
// (onnx/reference/ops/op_resize.py) term by term, so that results agree with the conformance
// data: for each output coordinate x of an axis, the transform gives a source coordinate
// x_ori; nearest mode rounds it to one source index, linear and cubic weigh the n source
// indices nearest to x_ori (ties prefer the smaller index) with coefficients that depend on
// ratio = x_ori - floor(x_ori) (1 when x_ori is an integer). Indices outside the axis read the
// edge element. The n-D result is the tensor product of the per-axis filters, accumulated in
// float64.

// interpMode is Resize's mode attribute.
type interpMode int

const (
	interpNearest interpMode = iota
	interpLinear
	interpCubic
)

var interpModes = map[string]interpMode{"nearest": interpNearest, "linear": interpLinear, "cubic": interpCubic}

// coordMode is Resize's coordinate_transformation_mode.
type coordMode int

const (
	coordHalfPixel coordMode = iota
	coordHalfPixelSymmetric
	coordPytorchHalfPixel
	coordAlignCorners
	coordAsymmetric
	coordTFHalfPixelForNN
	coordTFCropAndResize
)

var coordModes = map[string]coordMode{
	"half_pixel":           coordHalfPixel,
	"half_pixel_symmetric": coordHalfPixelSymmetric,
	"pytorch_half_pixel":   coordPytorchHalfPixel,
	"align_corners":        coordAlignCorners,
	"asymmetric":           coordAsymmetric,
	"tf_half_pixel_for_nn": coordTFHalfPixelForNN,
	"tf_crop_and_resize":   coordTFCropAndResize,
}

// nearestMode is Resize's nearest_mode; nearestSimple is what ONNX Runtime does for Resize-10
// and Upsample, which predate the attribute: round down, or up when the axis shrinks.
type nearestMode int

const (
	nearestRoundPreferFloor nearestMode = iota
	nearestRoundPreferCeil
	nearestFloor
	nearestCeil
	nearestSimple
)

var nearestModes = map[string]nearestMode{
	"round_prefer_floor": nearestRoundPreferFloor,
	"round_prefer_ceil":  nearestRoundPreferCeil,
	"floor":              nearestFloor,
	"ceil":               nearestCeil,
}

// resampler is a configured Resize or Upsample.
type resampler struct {
	mode           interpMode
	coord          coordMode
	nearest        nearestMode
	cubicA         float64
	excludeOutside bool
	antialias      bool
	extrapolation  float64 // tf_crop_and_resize: value of outputs that map outside the input
}

// resampleAxis is the geometry of one axis.
type resampleAxis struct {
	in, out          int
	scale            float64 // out/in as the op defines it (not always exactly)
	roiStart, roiEnd float64 // tf_crop_and_resize only
	resized          bool    // false: the axis is copied as is
}

// srcCoord maps output coordinate o of axis a to the input: x_ori, and whether it lies
// outside the input for tf_crop_and_resize (the output is then the extrapolation value).
func (r *resampler) srcCoord(a *resampleAxis, o int) (float64, bool) {
	x := float64(o)
	in := float64(a.in)
	outWidth := a.scale * in
	switch r.coord {
	case coordAlignCorners:
		if outWidth == 1 {
			return 0, false
		}
		return x * (in - 1) / (outWidth - 1), false
	case coordAsymmetric:
		return x / a.scale, false
	case coordTFCropAndResize:
		var xo float64
		if outWidth == 1 {
			xo = (a.roiEnd - a.roiStart) * (in - 1) / 2
		} else {
			xo = x * (a.roiEnd - a.roiStart) * (in - 1) / (outWidth - 1)
		}
		xo += a.roiStart * (in - 1)
		return xo, xo < 0 || xo > in-1
	case coordPytorchHalfPixel:
		if outWidth == 1 {
			return -0.5, false
		}
		return (x+0.5)/a.scale - 0.5, false
	case coordHalfPixelSymmetric:
		adjustment := float64(a.out) / outWidth
		center := in / 2
		offset := center * (1 - adjustment)
		return offset + (x+0.5)/a.scale - 0.5, false
	case coordTFHalfPixelForNN:
		return (x + 0.5) / a.scale, false
	}
	return (x+0.5)/a.scale - 0.5, false // half_pixel
}

// nearestIndex rounds x_ori to a source index of axis a, clamped into the axis.
func (r *resampler) nearestIndex(a *resampleAxis, xo float64) int {
	// Clamping first keeps the float-to-int conversion in range; it cannot change the result.
	xo = min(max(xo, -2), float64(a.in)+1)
	f := math.Floor(xo)
	frac := xo - f
	i := f
	switch r.nearest {
	case nearestRoundPreferFloor:
		if frac > 0.5 {
			i = f + 1
		}
	case nearestRoundPreferCeil:
		if frac >= 0.5 {
			i = f + 1
		}
	case nearestCeil:
		i = math.Ceil(xo)
	case nearestSimple:
		if a.scale < 1 {
			i = math.Ceil(xo)
		} else {
			i = math.Trunc(xo)
		}
	}
	return min(max(int(i), 0), a.in-1)
}

// coeffs returns the filter coefficients for ratio in (0, 1] on an axis of the given scale,
// reusing buf. Their number is even and depends only on the scale.
func (r *resampler) coeffs(buf []float64, ratio, scale float64) []float64 {
	buf = buf[:0]
	a := r.cubicA
	switch {
	case r.mode == interpLinear && !r.antialias:
		return append(buf, 1-ratio, ratio)
	case r.mode == interpCubic && !r.antialias:
		s, t := ratio+1, 1-ratio
		u := t + 1
		return append(buf,
			((a*s-5*a)*s+8*a)*s-4*a,
			((a+2)*ratio-(a+3))*ratio*ratio+1,
			((a+2)*t-(a+3))*t*t+1,
			((a*u-5*a)*u+8*a)*u-4*a)
	case r.mode == interpLinear:
		// A triangle filter stretched by 1/scale when downsampling.
		scale = min(scale, 1)
		start := int(math.Floor(-1/scale) + 1)
		footprint := 2 - 2*start
		for i := range footprint {
			buf = append(buf, min(max(1-math.Abs(float64(start+i)-ratio)*scale, 0), 1))
		}
		return normalizeSum(buf)
	default: // cubic with antialias
		scale = min(scale, 1)
		start := int(math.Floor(-2/scale) + 1)
		end := 2 - start
		for i := start; i < end; i++ {
			x := math.Abs(scale * (float64(i) - ratio))
			var c float64
			switch {
			case x <= 1:
				c = (a+2)*x*x*x - (a+3)*x*x + 1
			case x < 2:
				c = a*x*x*x - 5*a*x*x + 8*a*x - 4*a
			}
			buf = append(buf, c)
		}
		return normalizeSum(buf)
	}
}

// normalizeSum divides v by the sum of its elements, so that they sum to 1.
func normalizeSum(v []float64) []float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	for i := range v {
		v[i] /= sum
	}
	return v
}

// axisTaps is the filter of one axis: output index o reads the source offsets (index times
// stride) off[first[o]:first[o+1]] with weights w[first[o]:first[o+1]]. Taps of weight zero
// are left out (so a resize by 1 costs nothing; the only difference it makes is that an
// infinite input next to a zero-weight tap does not turn the output into NaN). single says
// every output has exactly one tap of weight 1. outside[o] (nil unless tf_crop_and_resize)
// marks outputs that take the extrapolation value.
type axisTaps struct {
	first   []int
	off     []int
	w       []float64
	single  bool
	outside []bool
}

// taps builds the filter of axis a, whose input stride is stride.
func (r *resampler) taps(a *resampleAxis, stride int) axisTaps {
	t := axisTaps{first: make([]int, 1, a.out+1), single: true}
	if !a.resized {
		for o := range a.out {
			t.off = append(t.off, o*stride)
			t.w = append(t.w, 1)
			t.first = append(t.first, o+1)
		}
		return t
	}
	var buf []float64
	for o := range a.out {
		xo, out := r.srcCoord(a, o)
		if r.coord == coordTFCropAndResize {
			if t.outside == nil {
				t.outside = make([]bool, a.out)
			}
			t.outside[o] = out
		}
		ratio := 1.0
		if f := math.Floor(xo); xo != f {
			ratio = xo - f
		}
		c := r.coeffs(buf, ratio, a.scale)
		buf = c
		n := len(c)
		// The n indices nearest to x_ori, ties to the smaller, among the input padded by n/2
		// edge elements on both sides.
		pad := n / 2
		xc := min(max(xo, float64(-n-pad)), float64(a.in+n+pad)) // keeps the conversion in range
		start := int(math.Ceil(xc)) - n/2
		start = min(max(start, -pad), a.in+pad-n)
		if r.excludeOutside {
			for k := range c {
				if i := start + k; i < 0 || i >= a.in {
					c[k] = 0
				}
			}
			normalizeSum(c)
		}
		for k, w := range c {
			if w == 0 {
				continue
			}
			t.off = append(t.off, min(max(start+k, 0), a.in-1)*stride)
			t.w = append(t.w, w)
		}
		t.first = append(t.first, len(t.off))
		if t.first[o+1]-t.first[o] != 1 || t.w[t.first[o]] != 1 {
			t.single = false
		}
	}
	return t
}

// run resizes x into y; axes has one entry per dimension of x.
func (r *resampler) run(x, y *tensor.Tensor, axes []resampleAxis) error {
	shape := make([]int, len(axes))
	for k := range axes {
		shape[k] = axes[k].out
		if axes[k].in == 0 && axes[k].out > 0 {
			return fmt.Errorf("cannot resize the empty axis %d to %d elements", k, axes[k].out)
		}
	}
	y.Reset(x.DType, shape)
	if y.Len() == 0 {
		return nil
	}
	strides := tensor.Strides(x.Shape)
	if r.mode == interpNearest {
		tab := make([][]int, len(axes))
		for k := range axes {
			a := &axes[k]
			tab[k] = make([]int, a.out)
			for o := range a.out {
				if !a.resized {
					tab[k][o] = o * strides[k]
					continue
				}
				xo, outside := r.srcCoord(a, o)
				if outside {
					tab[k][o] = -1
					continue
				}
				tab[k][o] = r.nearestIndex(a, xo) * strides[k]
			}
		}
		fill, err := scalarFromFloat(x.DType, r.extrapolation)
		if err != nil {
			return fmt.Errorf("input \"X\": %w", err)
		}
		return copyTables(y.Data, x.Data, shape, tab, fill)
	}
	taps := make([]axisTaps, len(axes))
	for k := range axes {
		taps[k] = r.taps(&axes[k], strides[k])
	}
	switch d := y.Data.(type) {
	case []float32:
		interpolateTaps(d, x.F32(), shape, taps, r.extrapolation)
	case []float64:
		interpolateTaps(d, x.F64(), shape, taps, r.extrapolation)
	case []int64:
		interpolateTaps(d, x.I64(), shape, taps, r.extrapolation)
	case []int32:
		interpolateTaps(d, x.I32(), shape, taps, r.extrapolation)
	case []int8:
		interpolateTaps(d, x.Data.([]int8), shape, taps, r.extrapolation)
	case []uint8:
		interpolateTaps(d, x.Data.([]uint8), shape, taps, r.extrapolation)
	default:
		return fmt.Errorf("input \"X\": dtype %v cannot be interpolated (only nearest mode moves it)", x.DType)
	}
	return nil
}

// interpolateTaps computes every element of dst (shape shape) as the weighted sum of src over the
// per-axis taps, in float64.
func interpolateTaps[T numericElem](dst, src []T, shape []int, taps []axisTaps, extrapolation float64) {
	k := tapWalker[T]{src: src, taps: taps, idx: make([]int, len(shape))}
	for d, t := range taps {
		if t.single {
			k.fixed = append(k.fixed, d)
		} else {
			k.active = append(k.active, d)
		}
		if t.outside != nil {
			k.crop = append(k.crop, d)
		}
	}
	for o := range dst {
		v := extrapolation
		if !k.outside() {
			base := 0
			for _, d := range k.fixed {
				base += taps[d].off[taps[d].first[k.idx[d]]]
			}
			if len(k.active) == 0 {
				v = float64(src[base])
			} else {
				v = k.sum(0, base)
			}
		}
		dst[o] = T(v)
		for d := len(shape) - 1; d >= 0; d-- {
			k.idx[d]++
			if k.idx[d] < shape[d] {
				break
			}
			k.idx[d] = 0
		}
	}
}

// tapWalker evaluates the tensor-product filter at output index idx. Axes whose filter is a
// plain lookup (fixed) only shift the source offset; the others (active) are summed over.
type tapWalker[T numericElem] struct {
	src    []T
	taps   []axisTaps
	idx    []int
	fixed  []int
	active []int
	crop   []int // axes with outside marks
}

func (k *tapWalker[T]) outside() bool {
	for _, d := range k.crop {
		if k.taps[d].outside[k.idx[d]] {
			return true
		}
	}
	return false
}

// sum is the filtered value over the active axes from the p-th on, at source offset off: the
// innermost axes are summed first, as the reference does.
func (k *tapWalker[T]) sum(p, off int) float64 {
	t := &k.taps[k.active[p]]
	o := k.idx[k.active[p]]
	offs, ws := t.off[t.first[o]:t.first[o+1]], t.w[t.first[o]:t.first[o+1]]
	acc := 0.0
	if p == len(k.active)-1 {
		for i, s := range offs {
			acc += ws[i] * float64(k.src[off+s])
		}
		return acc
	}
	for i, s := range offs {
		acc += ws[i] * k.sum(p+1, off+s)
	}
	return acc
}
