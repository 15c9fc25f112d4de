package ops

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// ConvTranspose is the ONNX transposed convolution (opset 1, 11, 22; float32; 1 to 3 spatial
// dimensions), the adjoint of Conv with the same window: every input element X[n, c, i...]
// adds X[n, c, i...] * W[c, m, t...] into Y[n, g*M/group + m, i*s - pad + t*d ...], for X
// [N, C, D1..Dn], W [C, M/group, k1..kn] and the optional bias B [M] that Y starts from.
//
// The output size along each spatial dimension is
//
//	out = s*(in-1) + output_padding + (k-1)*d + 1 - pad_begin - pad_end
//
// with the pads attribute (auto_pad NOTSET) or no padding (VALID). When output_shape is given,
// or auto_pad is SAME_UPPER or SAME_LOWER (then output_shape = in*s), the output has that size
// and the pads follow from total = s*(in-1) + output_padding + (k-1)*d + 1 - out: the odd one
// goes to the end for SAME_UPPER and to the beginning otherwise, with Python's floor division,
// so a negative total (output_shape larger than the full result) pads the output with zeros.
// This is the current spec text, the ONNX reference implementation and the conformance data
// (convtranspose_autopad_same, convtranspose_output_shape); older releases of the text had
// the split the other way round, and ONNX Runtime changed to this one in its PR 12537. Every
// opset is read this way.
//
// With 16 output channels per group or more (convTransposeSubMin), no dilation and at most
// two non-trivial spatial dimensions, each (image, group) pair is computed as stride^nd
// sub-convolutions on kernels.Conv, one per output phase (see runSub): the outputs o with
// (o + pad_begin) mod s = r read only the taps t = r + s*u, so they form a stride-1
// convolution of X with those taps, flipped and transposed, whose result is then copied
// into every s-th output element. The phase filters are packed once at plan time when W is
// a constant, per run otherwise. Other cases are computed with kernels.Sgemm and
// kernels.Col2im: col [M/group*k, in] = W_gᵀ × X_g, then Col2im adds col into Y_g.
type convTranspose struct {
	win           windowAttrs
	group         int
	outputPadding []int // nil: all 0
	outputShape   []int // output_shape as given (spatial sizes, or N, C and spatial sizes); nil when absent
	// wConst is W when it is a plan-time constant, and phaseW its phase filters (subConvs);
	// nil otherwise.
	wConst *tensor.Tensor
	phaseW []float32
}

// convTransposeSub selects the sub-convolution path; a variable so that tests can compare it
// with the Col2im path.
var convTransposeSub = true

// convTransposeSubMin is the fewest output channels per group for which the sub-convolution
// path is taken: with fewer, the phase convolutions' products have fewer rows than the
// micro-kernel's 6 and waste most of it, while the Col2im path's product has M/group*k rows
// (BenchmarkConvTransposeAB: 4-9x slower with 1 or 3 output channels, 15-25% faster with 64
// or 128). A variable so that tests can lower it.
var convTransposeSubMin = 16

func newConvTranspose(n *Node) (Op, error) {
	if err := n.CheckArity(2, 3, 1, 1); err != nil {
		return nil, err
	}
	op := &convTranspose{win: readWindowAttrs(n, false, false), group: readGroup(n)}
	defer op.planPhases(n)
	a := n.Attrs
	if a.Has("output_padding") {
		v := a.Ints("output_padding", nil)
		op.outputPadding = make([]int, len(v))
		for i, p := range v {
			if p < 0 || p > 1<<20 {
				a.Errorf("output_padding", "want values in [0, 2^20], got %v", v)
				break
			}
			op.outputPadding[i] = int(p)
		}
		op.checkLen(a, "output_padding", len(v))
	}
	if a.Has("output_shape") {
		v := a.Ints("output_shape", nil)
		op.outputShape = make([]int, len(v))
		for i, size := range v {
			if size < 0 || size > 1<<30 {
				a.Errorf("output_shape", "want values in [0, 2^30], got %v", v)
				break
			}
			op.outputShape[i] = int(size)
		}
		// Some writers include the batch and channel sizes; Run drops them.
		if k := len(v); k < 1 || k > kernels.MaxSpatial+2 || (op.win.nd != 0 && k != op.win.nd && k != op.win.nd+2) {
			a.Errorf("output_shape", "want one value per spatial dimension, got %d values", k)
		}
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// checkLen checks that an attribute has one value per spatial dimension.
func (op *convTranspose) checkLen(a *onnx.Attrs, name string, k int) {
	switch {
	case k < 1 || k > kernels.MaxSpatial:
		a.Errorf(name, "want 1 to %d values, got %d", kernels.MaxSpatial, k)
	case op.win.nd == 0:
		op.win.nd = k
	case op.win.nd != k:
		a.Errorf(name, "has %d spatial dimensions, other attributes have %d", k, op.win.nd)
	}
}

// shapes checks the shapes of X, W and B (nil when absent) against each other and the
// attributes, and resolves the window (see window); the output is [n, m, win.In...].
// Dimensions of -1 are unknown (plan time; see pool_geometry.go).
func (op *convTranspose) shapes(x, w, b []int) (win window, n, m int, err error) {
	if err := checkConvRanks(x, w); err != nil {
		return win, 0, 0, err
	}
	nd := len(x) - 2
	if err := op.win.checkND(nd); err != nil {
		return win, 0, 0, fmt.Errorf("input \"X\": %w", err)
	}
	n, c := x[0], x[1]
	if w[0] >= 0 && c >= 0 && w[0] != c {
		return win, 0, 0, fmt.Errorf("input \"W\": want shape [C = %d, M/group, ...] for X with %d channels, got %s", c, c, dimsString(w))
	}
	c = mergeDim(c, w[0])
	if c >= 0 && c%op.group != 0 {
		return win, 0, 0, fmt.Errorf("input \"X\": %d channels are not divisible by group %d", c, op.group)
	}
	mg := w[1]
	m = mulDim(mg, op.group)
	var kbuf [kernels.MaxSpatial]int
	kernel, err := op.win.resolveKernel(kbuf[:nd], w[2:])
	if err != nil {
		return win, 0, 0, err
	}
	if m, err = convBias(b, m); err != nil {
		return win, 0, 0, err
	}
	if win, err = op.window(x[2:], kernel); err != nil {
		return win, 0, 0, err
	}
	win.Channels = mg
	return win, n, m, nil
}

// imageShape writes [n, m, out...] into dst (room for nd+2 values) for a window from
// convTranspose.shapes: the output's spatial sizes are the image sizes of the matching Conv.
func (win *window) imageShape(dst []int, n, m int) []int {
	dst = append(dst[:0], n, m)
	for i := range win.nd {
		dst = append(dst, win.In[spatialSlot(win.nd, i)])
	}
	return dst
}

func (op *convTranspose) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, w := in[0], in[1]
	var b *tensor.Tensor
	if len(in) > 2 {
		b = in[2]
	}
	if err := checkConvDTypes(x, w, b); err != nil {
		return err
	}
	win, n, m, err := op.shapes(x.Shape, w.Shape, shapeOf(b))
	if err != nil {
		return err
	}
	var shp [kernels.MaxSpatial + 2]int
	y := out[0]
	y.Reset(tensor.Float32, win.imageShape(shp[:0], n, m))

	c, mg := x.Shape[1], win.Channels
	cg := c / op.group
	xs, ws, ys := x.F32(), w.F32(), y.F32()
	inVol := win.ColCols() // the input's spatial size: Col2im's window positions
	outVol := win.In[0] * win.In[1] * win.In[2]
	rows := win.ColRows() // M/group * kernel volume
	if err := checkColumns(rows, inVol); err != nil {
		return err
	}
	if convTransposeSub && mg >= convTransposeSubMin && op.subOK(&win) {
		return op.runSub(ctx, &win, x, w, b, y, n, m)
	}
	col := ctx.Float32s(0, rows*inVol)
	for i := range n {
		for g := range op.group {
			src := xs[(i*c+g*cg)*inVol : (i*c+(g+1)*cg)*inVol]
			dst := ys[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
			if b != nil {
				for j, v := range b.F32()[g*mg : (g+1)*mg] {
					fillConst(dst[j*outVol:(j+1)*outVol], v)
				}
			} else {
				clear(dst)
			}
			// col [rows, inVol] = W_gᵀ × X_g, with W_g stored [cg, rows] and X_g [cg, inVol].
			sgemmThreads(ctx.Threads, true, false, rows, inVol, cg, 1, ws[g*cg*rows:(g+1)*cg*rows], max(rows, 1),
				src, max(inVol, 1), 0, col, max(inVol, 1))
			kernels.Col2im(&win.ConvGeometry, col, dst)
		}
	}
	return nil
}

// window resolves the output size and pads for input spatial sizes in and kernel sizes
// kernel. The returned window describes the matching Conv: its image (In) is the output of
// ConvTranspose and its window positions (Out) are the input's elements. At plan time sizes
// may be -1 (unknown): an output size is then -1 unless it does not depend on them
// (output_shape gives it; SAME_* needs only in), and nothing is checked.
func (op *convTranspose) window(in, kernel []int) (window, error) {
	nd := len(in)
	win := window{nd: nd}
	outShape := op.outputShape
	if len(outShape) == nd+2 {
		outShape = outShape[2:]
	}
	if outShape != nil && len(outShape) != nd {
		return win, fmt.Errorf("attribute output_shape %v: want %d spatial sizes", op.outputShape, nd)
	}
	for i := range nd {
		k, s, d := kernel[i], op.win.stride(i), op.win.dilation(i)
		full := -1 // the size without padding
		if in[i] >= 0 && k >= 0 {
			full = s*(in[i]-1) + intAtOr(op.outputPadding, i, 0) + (k-1)*d + 1
		}
		var size, pb, pe int
		switch {
		case outShape != nil || op.win.autoPad == autoPadSameUpper || op.win.autoPad == autoPadSameLower:
			size = mulDim(in[i], s)
			if outShape != nil {
				size = outShape[i]
			}
			if full >= 0 {
				total := full - size
				if op.win.autoPad == autoPadSameUpper {
					pb = floorHalf(total)
				} else {
					pb = total - floorHalf(total)
				}
				pe = total - pb
			}
		case op.win.autoPad == autoPadNotSet && op.win.pads != nil:
			pb, pe = op.win.pads[i], op.win.pads[nd+i]
			size = full
			if full >= 0 {
				size = full - pb - pe
			}
		default: // VALID, or NOTSET without pads
			size = full
		}
		if full >= 0 && size < 0 {
			return win, fmt.Errorf("spatial dimension %d: pads %d+%d exceed the full output size %d", i, pb, pe, full)
		}
		win.Set(nd, i, size, k, in[i], s, d, pb)
		win.PadEnd[spatialSlot(nd, i)] = pe
	}
	return win, nil
}

// Infer checks what is known of X, W and B and gives Y's type: float32 [N, M, out...], with
// the output sizes of window, -1 where they depend on unknown sizes.
func (op *convTranspose) Infer(in []Type) ([]Type, error) {
	x, w, b, err := inferConvInputs(in, op.win.nd)
	if err != nil {
		return nil, err
	}
	if x == nil { // no rank known: only B can be checked
		if _, err := convBias(b, -1); err != nil {
			return nil, err
		}
		return []Type{{DType: tensor.Float32}}, nil
	}
	win, n, m, err := op.shapes(x, w, b)
	if err != nil {
		return nil, err
	}
	return []Type{{Ranked: true, DType: tensor.Float32, Shape: win.imageShape(make([]int, 0, len(x)), n, m)}}, nil
}

// The sub-convolution path. Along one dimension with stride s, kernel k, begin pad pb and no
// dilation, input element i adds into output o = i*s - pb + t for taps t < k. Output o
// therefore reads the taps t ≡ r (mod s), r = (o + pb) mod s, that is t = r + s*u for
// u < U = ceil((k - r)/s), from inputs i = q - u, q = (o + pb - r)/s. The outputs of phase r
// are o = q*s + r - pb for q in [q0, q1] (those inside [0, out)), and numbering them j = q -
// q0, output j is
//
//	sum over u' < U of X[j - (U - 1 - q0) + u'] * W[r + s*(U-1-u')]
//
// a stride-1 convolution of X with the phase's taps reversed, begin padding U - 1 - q0 and
// q1 - q0 + 1 outputs. With several spatial dimensions the phases are the combinations of
// each dimension's; per group the phase filter is [M/group, C/group, U...] (W is [C,
// M/group, k...]). A phase with no tap (r >= k, when s > k) has K = 0 and gives the bias.

// ctPhase is one output phase: per ConvGeometry dimension its residue r and tap count U,
// and the offset of its filters in the packed phase filters (all groups).
type ctPhase struct {
	r, u [kernels.MaxSpatial]int
	off  int
}

// ctPhases calls each with the phases of kernel sizes kernel and strides stride
// (ConvGeometry order, trivial leading dimensions included), in the order of the packed
// phase filters.
func ctPhases(kernel, stride [kernels.MaxSpatial]int, each func(ph *ctPhase)) {
	var ph ctPhase
	off := 0
	for r0 := range stride[0] {
		for r1 := range stride[1] {
			for r2 := range stride[2] {
				ph.r = [kernels.MaxSpatial]int{r0, r1, r2}
				vol := 1
				for j := range kernels.MaxSpatial {
					ph.u[j] = max(0, (kernel[j]-ph.r[j]+stride[j]-1)/stride[j])
					vol *= ph.u[j]
				}
				ph.off = off
				each(&ph)
				off += vol
			}
		}
	}
}

// subOK reports whether the sub-convolution path takes win: no dilation, and a geometry
// kernels.Conv computes without a column matrix (at most 2 non-trivial dimensions).
func (op *convTranspose) subOK(win *window) bool {
	if win.Dilation != [kernels.MaxSpatial]int{1, 1, 1} {
		return false
	}
	return win.In[0] == 1 && win.Kernel[0] == 1 && win.Out[0] == 1
}

// packPhases writes the phase filters of W (w: [group*cg, mg, k...], ConvGeometry kernel
// sizes kernel, strides stride) into dst (len(w) elements): per phase (in ctPhases order)
// per group, [mg, cg, U...] with the taps of each dimension reversed.
func packPhases(dst, w []float32, group, cg, mg int, kernel, stride [kernels.MaxSpatial]int) {
	kvol := kernel[0] * kernel[1] * kernel[2]
	ctPhases(kernel, stride, func(ph *ctPhase) {
		uvol := ph.u[0] * ph.u[1] * ph.u[2]
		if uvol == 0 {
			return
		}
		for g := range group {
			base := ph.off*group*cg*mg + g*mg*cg*uvol
			for m := range mg {
				for c := range cg {
					d := dst[base+(m*cg+c)*uvol : base+(m*cg+c+1)*uvol]
					src := w[((g*cg+c)*mg+m)*kvol : ((g*cg+c)*mg+m+1)*kvol]
					i := 0
					for u0 := range ph.u[0] {
						t0 := ph.r[0] + stride[0]*(ph.u[0]-1-u0)
						for u1 := range ph.u[1] {
							t1 := ph.r[1] + stride[1]*(ph.u[1]-1-u1)
							for u2 := range ph.u[2] {
								t2 := ph.r[2] + stride[2]*(ph.u[2]-1-u2)
								d[i] = src[(t0*kernel[1]+t1)*kernel[2]+t2]
								i++
							}
						}
					}
				}
			}
		}
	})
}

// planPhases packs the phase filters at plan time when W is a constant whose shape fixes
// the kernel (called after the constructor's checks; an error leaves the run-time path).
func (op *convTranspose) planPhases(n *Node) {
	if len(n.Consts) < 2 || n.Consts[1] == nil || op.group < 1 {
		return
	}
	w := n.Consts[1]
	nd := w.Rank() - 2
	if w.DType != tensor.Float32 || nd < 1 || nd > kernels.MaxSpatial || w.Shape[0]%op.group != 0 || op.win.checkND(nd) != nil {
		return
	}
	if op.win.kernel != nil && !dimsAgree(w.Shape[2:], op.win.kernel) {
		return
	}
	var kernel, stride [kernels.MaxSpatial]int
	for j := range kernels.MaxSpatial {
		kernel[j], stride[j] = 1, 1
	}
	for i := range nd {
		kernel[spatialSlot(nd, i)] = w.Shape[2+i]
		stride[spatialSlot(nd, i)] = op.win.stride(i)
	}
	op.wConst = w
	op.phaseW = make([]float32, w.Len())
	packPhases(op.phaseW, w.F32(), op.group, w.Shape[0]/op.group, w.Shape[1], kernel, stride)
}

// runSub computes the transposed convolution by sub-convolutions (see above) into y, whose
// shape is set.
func (op *convTranspose) runSub(ctx *Ctx, win *window, x, w, b, y *tensor.Tensor, n, m int) error {
	c, mg := x.Shape[1], win.Channels
	cg := c / op.group
	xs, ys := x.F32(), y.F32()
	inVol := win.ColCols()
	outVol := win.In[0] * win.In[1] * win.In[2]
	phaseW := op.phaseW
	if w != op.wConst || phaseW == nil {
		phaseW = ctx.Float32s(1, w.Len())
		packPhases(phaseW, w.F32(), op.group, cg, mg, win.Kernel, win.Stride)
	}
	// The largest phase output, for the scratch.
	most := 1
	for j := range kernels.MaxSpatial {
		most *= (win.In[j] + win.Stride[j] - 1) / win.Stride[j]
	}
	tmp := ctx.Float32s(0, mg*most)
	ctPhases(win.Kernel, win.Stride, func(ph *ctPhase) {
		// The phase's convolution geometry: X's image, the phase's taps and outputs.
		var pg kernels.ConvGeometry
		var q0, cnt [kernels.MaxSpatial]int
		pg.Channels = cg
		pg.In = win.Out // X's spatial sizes
		for j := range kernels.MaxSpatial {
			s, pb := win.Stride[j], win.Pad[j]
			q0[j] = ceilDiv(pb-ph.r[j], s)
			q1 := floorDiv(win.In[j]-1+pb-ph.r[j], s)
			cnt[j] = max(0, q1-q0[j]+1)
			pg.Kernel[j], pg.Out[j], pg.Stride[j], pg.Dilation[j] = ph.u[j], cnt[j], 1, 1
			pg.Pad[j] = ph.u[j] - 1 - q0[j]
		}
		pvol := cnt[0] * cnt[1] * cnt[2]
		if pvol == 0 {
			return
		}
		uvol := ph.u[0] * ph.u[1] * ph.u[2]
		out := tmp[:mg*pvol]
		for i := range n {
			for g := range op.group {
				img := xs[(i*c+g*cg)*inVol : (i*c+(g+1)*cg)*inVol]
				dst := ys[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
				var bias []float32
				if b != nil {
					bias = b.F32()[g*mg : (g+1)*mg]
				}
				base := ph.off*op.group*cg*mg + g*mg*cg*uvol
				// out [mg, pvol] = W_phase,g [mg, cg*uvol] × im2col(X_g) + bias
				kernels.Conv(ctx.Threads, &pg, mg, phaseW[base:base+mg*cg*uvol], img, bias, kernels.ActNone, out)
				scatterPhase(win, ph, &q0, &cnt, out, dst, mg)
			}
		}
	})
	return nil
}

// scatterPhase copies a phase's output [mg, cnt...] into the image dst [mg, In...]: phase
// element j goes to (q0 + j)*s + r - pb along each dimension.
func scatterPhase(win *window, ph *ctPhase, q0, cnt *[kernels.MaxSpatial]int, src, dst []float32, mg int) {
	inD, inH, inW := win.In[0], win.In[1], win.In[2]
	sD, sH, sW := win.Stride[0], win.Stride[1], win.Stride[2]
	o0 := [kernels.MaxSpatial]int{}
	for j := range kernels.MaxSpatial {
		o0[j] = q0[j]*win.Stride[j] + ph.r[j] - win.Pad[j]
	}
	k := 0
	for c := range mg {
		plane := dst[c*inD*inH*inW : (c+1)*inD*inH*inW]
		for jd := range cnt[0] {
			od := o0[0] + jd*sD
			for jh := range cnt[1] {
				row := plane[(od*inH+o0[1]+jh*sH)*inW:]
				s := src[k : k+cnt[2]]
				k += cnt[2]
				if sW == 1 {
					copy(row[o0[2]:], s)
					continue
				}
				for jw, v := range s {
					row[o0[2]+jw*sW] = v
				}
			}
		}
	}
}

// floorDiv is a/b rounded toward negative infinity (b > 0).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv is a/b rounded toward positive infinity (b > 0).
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }
