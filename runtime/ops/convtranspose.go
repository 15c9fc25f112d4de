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
// Each (image, group) pair is computed with kernels.Sgemm and kernels.Col2im:
// col [M/group*k, in] = W_gᵀ × X_g, then Col2im adds col into Y_g.
type convTranspose struct {
	win           windowAttrs
	group         int
	outputPadding []int // nil: all 0
	outputShape   []int // output_shape as given (spatial sizes, or N, C and spatial sizes); nil when absent
}

func newConvTranspose(n *Node) (Op, error) {
	if err := n.CheckArity(2, 3, 1, 1); err != nil {
		return nil, err
	}
	op := &convTranspose{win: readWindowAttrs(n, false, false), group: readGroup(n)}
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
