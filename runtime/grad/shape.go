package grad

import (
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// concatGrad is the backward of Concat: each input receives its slice of dY along the axis.
type concatGrad struct{ axis int64 }

func newConcatGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	a := onnx.NewAttrs(n.Proto)
	op := concatGrad{axis: a.Int("axis", 0)}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op concatGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	y := out[0]
	r := int64(y.Rank())
	axis := op.axis
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return fmt.Errorf("attribute \"axis\": %d is out of range for rank %d", op.axis, r)
	}
	outer, inner := 1, 1
	for _, d := range y.Shape[:axis] {
		outer *= d
	}
	for _, d := range y.Shape[axis+1:] {
		inner *= d
	}
	rowLen := y.Shape[axis] * inner
	dy := dOut[0].F32()
	off := 0 // start of input i's slice within a row of dY
	for i, x := range in {
		chunk := x.Shape[axis] * inner
		if d := dIn[i]; d != nil {
			dx := d.F32()
			for o := range outer {
				src := dy[o*rowLen+off : o*rowLen+off+chunk]
				dst := dx[o*chunk : (o+1)*chunk]
				for j, v := range src {
					dst[j] += v
				}
			}
		}
		off += chunk
	}
	return nil
}

// transposeGrad is the backward of Transpose: dX is dY transposed back.
type transposeGrad struct{ perm []int64 }

func newTransposeGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"data"}, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := transposeGrad{perm: a.Ints("perm", nil)}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op transposeGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	perm := make([]int, r)
	for i := range perm {
		perm[i] = r - 1 - i
		if op.perm != nil {
			if len(op.perm) != r {
				return fmt.Errorf("attribute \"perm\" has %d entries for rank %d", len(op.perm), r)
			}
			perm[i] = int(op.perm[i])
		}
	}
	// Y[i...] = X[j...] with j[perm[k]] = i[k]: walk Y in order and find each X offset.
	xs := tensor.Strides(x.Shape)
	yShape := out[0].Shape
	src := make([]int, r) // X stride of each Y dimension
	for k, p := range perm {
		src[k] = xs[p]
	}
	dx, dy := dIn[0].F32(), dOut[0].F32()
	if len(dy) == 0 {
		return nil
	}
	if r == 0 {
		dx[0] += dy[0]
		return nil
	}
	idx := make([]int, r)
	inner, innerStride := yShape[r-1], src[r-1]
	off := 0
	for o := 0; o < len(dy); o += inner {
		for j, v := range dy[o : o+inner] {
			dx[off+j*innerStride] += v
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			off += src[d]
			if idx[d] < yShape[d] {
				break
			}
			off -= src[d] * yShape[d]
			idx[d] = 0
		}
	}
	return nil
}

// padGrad is the backward of Pad: every output element that copies an input element (any
// mode: constant, reflect, edge, wrap, and cropping by negative pads) sends its gradient back
// to that element; the constant fill receives none. The pads and axes are attributes before
// opset 11 and inputs after (axes from opset 18), read from the forward values.
type padGrad struct {
	mode  string
	attrs bool
	pads  []int64
}

func newPadGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"data", "pads", "constant_value", "axes"}, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &padGrad{mode: a.String("mode", "constant"), attrs: n.Opset < 11}
	if op.attrs {
		op.pads = a.Ints("pads", nil)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *padGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x, y := in[0], out[0]
	r := x.Rank()
	pads := op.pads
	if !op.attrs {
		p, err := in[1].Int64s()
		if err != nil {
			return fmt.Errorf("input \"pads\": %w", err)
		}
		pads = p
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if len(in) > 3 && in[3] != nil {
		a, err := in[3].Int64s()
		if err != nil {
			return fmt.Errorf("input \"axes\": %w", err)
		}
		axes = axes[:0]
		for _, ax := range a {
			if ax < 0 {
				ax += int64(r)
			}
			axes = append(axes, int(ax))
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("pads: want %d values, got %d", 2*len(axes), len(pads))
	}
	begin := make([]int, r)
	for i, ax := range axes {
		if ax < 0 || ax >= r {
			return fmt.Errorf("input \"axes\": axis %d is out of range for rank %d", ax, r)
		}
		begin[ax] = int(pads[i])
	}
	if y.Len() == 0 || r == 0 {
		if r == 0 && y.Len() == 1 {
			dIn[0].F32()[0] += dOut[0].F32()[0]
		}
		return nil
	}
	strides := tensor.Strides(x.Shape)
	tabs := make([][]int, r)
	for ax := range r {
		tabs[ax] = padTable(op.mode, x.Shape[ax], begin[ax], y.Shape[ax], strides[ax])
	}
	dx, dy := dIn[0].F32(), dOut[0].F32()
	// Walk Y row by row (the last axis); off[d] is the X offset of Y's index prefix up to d.
	idx := make([]int, r)
	last := r - 1
	tl := tabs[last]
	for o := 0; o < len(dy); o += y.Shape[last] {
		base, skip := 0, false
		for d := range last {
			t := tabs[d][idx[d]]
			if t < 0 {
				skip = true
				break
			}
			base += t
		}
		if !skip {
			for j, v := range dy[o : o+y.Shape[last]] {
				if t := tl[j]; t >= 0 {
					dx[base+t] += v
				}
			}
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < y.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return nil
}

// padTable maps each of the out positions of a padded axis to a source offset (index times
// stride), or -1 for the constant (runtime/ops pad.go). The input axis has n elements and
// begin elements of padding before it (negative: cropped).
func padTable(mode string, n, begin, out, stride int) []int {
	tab := make([]int, out)
	for o := range tab {
		i := o - begin
		if i < 0 || i >= n {
			switch mode {
			case "edge":
				i = min(max(i, 0), n-1)
			case "wrap":
				i = wrapIndex(i, n)
			case "reflect":
				if n == 1 {
					i = 0
				} else {
					p := 2 * (n - 1)
					i = wrapIndex(i, p)
					if i >= n {
						i = p - i
					}
				}
			default: // constant
				tab[o] = -1
				continue
			}
		}
		tab[o] = i * stride
	}
	return tab
}

func wrapIndex(a, m int) int {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}
