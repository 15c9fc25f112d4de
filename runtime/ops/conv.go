package ops

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// Conv is the ONNX convolution (opset 1, 11, 22; float32; 1 to 3 spatial dimensions):
//
//	Y[n, m, o...] = B[m] + sum over c, t... of X[n, g*C/group + c, o*s - pad + t*d ...] * W[m, c, t...]
//
// for X [N, C, D1..Dn], W [M, C/group, k1..kn] and the optional bias B [M], where g = m /
// (M/group) is the group of output channel m. Taps in the padding read zero. The attributes
// are auto_pad, dilations, group (depthwise when group = C), kernel_shape (inferred from W when
// absent), pads and strides; see pool_geometry.go for the output size.
//
// Each (image, group) pair is one kernels.Conv call with ctx.Threads threads, an implicit
// GEMM Y_g [M/group, out] = W_g [M/group, C/group*k] × im2col(X_g) [C/group*k, out] + B_g
// that packs its operand panels straight from the image (no column matrix) and adds the bias
// as it stores the result.
type conv struct {
	win   windowAttrs
	group int
}

func newConv(n *Node) (Op, error) {
	if err := n.CheckArity(2, 3, 1, 1); err != nil {
		return nil, err
	}
	op := &conv{win: readWindowAttrs(n, false, false), group: readGroup(n)}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// readGroup reads the group attribute of Conv and ConvTranspose.
func readGroup(n *Node) int {
	g := n.Attrs.Int("group", 1)
	if g < 1 || g > 1<<20 {
		n.Attrs.Errorf("group", "want a positive value, got %d", g)
		return 1
	}
	return int(g)
}

// geometry checks the shapes of X, W and B (nil when absent) against each other and the
// attributes, and resolves the window; the output is [n, m, win.Out...]. Dimensions of -1
// are unknown (plan time; see pool_geometry.go).
func (op *conv) geometry(x, w, b []int) (win window, n, m int, err error) {
	if err := checkConvRanks(x, w); err != nil {
		return win, 0, 0, err
	}
	nd := len(x) - 2
	if err := op.win.checkND(nd); err != nil {
		return win, 0, 0, fmt.Errorf("input \"X\": %w", err)
	}
	n, c := x[0], x[1]
	m, cg := w[0], w[1]
	if cg >= 0 && c >= 0 && cg*op.group != c {
		return win, 0, 0, fmt.Errorf("input \"W\": want shape [M, C/group = %d, ...] for X with %d channels and group %d, got %s",
			c/op.group, c, op.group, dimsString(w))
	}
	if m >= 0 && m%op.group != 0 {
		return win, 0, 0, fmt.Errorf("input \"W\": %d output channels are not divisible by group %d", m, op.group)
	}
	var kbuf [kernels.MaxSpatial]int
	kernel, err := op.win.resolveKernel(kbuf[:nd], w[2:])
	if err != nil {
		return win, 0, 0, err
	}
	if m, err = convBias(b, m); err != nil {
		return win, 0, 0, err
	}
	if win, err = op.win.forward(x[2:], kernel); err != nil {
		return win, 0, 0, fmt.Errorf("input \"X\": %w", err)
	}
	win.Channels = cg
	return win, n, m, nil
}

func (op *conv) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	return op.run(ctx, in, out, kernels.ActNone)
}

// FuseRelu returns, when op is a Conv, an op that computes Relu(Conv(...)) in one pass
// (kernels.ActRelu: max(x, 0) applied as the results are stored, bitwise the same as a Relu
// after the Conv), with Conv's inputs and outputs; ok is false for any other op. The engine
// uses it for a Conv whose output only a Relu reads (Session.Run).
func FuseRelu(op Op) (fused Op, ok bool) {
	c, ok := op.(*conv)
	if !ok {
		return nil, false
	}
	return convRelu{c}, true
}

// convRelu is a Conv followed by Relu (FuseRelu).
type convRelu struct{ c *conv }

func (op convRelu) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	return op.c.run(ctx, in, out, kernels.ActRelu)
}

// run computes the convolution with activation act applied as it is stored.
func (op *conv) run(ctx *Ctx, in, out []*tensor.Tensor, act kernels.Activation) error {
	x, w := in[0], in[1]
	var b *tensor.Tensor
	if len(in) > 2 {
		b = in[2]
	}
	if err := checkConvDTypes(x, w, b); err != nil {
		return err
	}
	win, n, m, err := op.geometry(x.Shape, w.Shape, shapeOf(b))
	if err != nil {
		return err
	}
	var shp [kernels.MaxSpatial + 2]int
	y := out[0]
	y.Reset(tensor.Float32, win.outShape(shp[:0], n, m))

	c, cg := x.Shape[1], win.Channels
	xs, ws, ys := x.F32(), w.F32(), y.F32()
	inVol, outVol := win.In[0]*win.In[1]*win.In[2], win.ColCols()
	rows := win.ColRows() // C/group * kernel volume
	mg := m / op.group
	if cols := kernels.ConvScratch(&win.ConvGeometry); cols > 0 {
		if err := checkColumns(rows, cols/max(rows, 1)); err != nil {
			return err
		}
	}
	var bias []float32
	for i := range n {
		for g := range op.group {
			img := xs[(i*c+g*cg)*inVol : (i*c+(g+1)*cg)*inVol]
			dst := ys[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
			if b != nil {
				bias = b.F32()[g*mg : (g+1)*mg]
			}
			// dst [mg, outVol] = W_g [mg, rows] × im2col(img) [rows, outVol] + bias.
			kernels.Conv(ctx.Threads, &win.ConvGeometry, mg, ws[g*mg*rows:(g+1)*mg*rows], img, bias, act, dst)
		}
	}
	return nil
}

// Infer checks what is known of X, W and B and gives Y's type: float32 [N, M, out...], with
// the output sizes of geometry, -1 where they depend on unknown sizes.
func (op *conv) Infer(in []Type) ([]Type, error) {
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
	win, n, m, err := op.geometry(x, w, b)
	if err != nil {
		return nil, err
	}
	return []Type{{Ranked: true, DType: tensor.Float32, Shape: win.outShape(make([]int, 0, len(x)), n, m)}}, nil
}

// inferConvInputs checks the dtypes of Conv's and ConvTranspose's inputs and returns the
// shapes to give geometry: unranked X or W take the rank of the other, or nd+2 when the
// attributes fix nd spatial dimensions (nd > 0). x and w are nil when no rank is known; b is
// nil when B is absent or unranked.
func inferConvInputs(in []Type, nd int) (x, w, b []int, err error) {
	tx, tw, tb := in[0], in[1], inType(in, 2)
	for i, t := range []Type{tx, tw, tb} {
		if err := CheckDType(convInputs[i], t, tensor.Float32); err != nil {
			return nil, nil, nil, err
		}
	}
	rank := nd + 2
	switch {
	case tx.Ranked:
		rank = len(tx.Shape)
	case tw.Ranked:
		rank = len(tw.Shape)
		if err := checkConvRank("W", rank); err != nil {
			return nil, nil, nil, err
		}
	case nd == 0:
		return nil, nil, optShape(tb), nil
	}
	return shapeOr(tx, rank), shapeOr(tw, rank), optShape(tb), nil
}

// convInputs are the names of Conv's and ConvTranspose's inputs.
var convInputs = [3]string{"X", "W", "B"}

// checkConvDTypes checks that Conv's and ConvTranspose's inputs (b nil when absent) are float32.
func checkConvDTypes(x, w, b *tensor.Tensor) error {
	for i, t := range []*tensor.Tensor{x, w, b} {
		if t != nil && t.DType != tensor.Float32 {
			return fmt.Errorf("input %q: unsupported dtype %v (want float32)", convInputs[i], t.DType)
		}
	}
	return nil
}

// checkConvRanks checks the ranks of Conv's and ConvTranspose's X and W.
func checkConvRanks(x, w []int) error {
	if err := checkConvRank("X", len(x)); err != nil {
		return err
	}
	if len(w) != len(x) {
		return fmt.Errorf("input \"W\": want rank %d like X, got rank %d", len(x), len(w))
	}
	return nil
}

// checkConvRank checks the rank of X or W: [N, C, spatial...] with 1 to kernels.MaxSpatial
// spatial dimensions.
func checkConvRank(name string, r int) error {
	if r < 3 || r > kernels.MaxSpatial+2 {
		return fmt.Errorf("input %q: want rank 3 to %d ([N, C, spatial...]), got rank %d", name, kernels.MaxSpatial+2, r)
	}
	return nil
}

// convBias checks the bias shape b (nil when absent) against m output channels and returns
// m, or B's size when m is unknown.
func convBias(b []int, m int) (int, error) {
	if b == nil {
		return m, nil
	}
	if len(b) != 1 || (m >= 0 && b[0] >= 0 && b[0] != m) {
		want := "[M]"
		if m >= 0 {
			want = fmt.Sprintf("[%d]", m)
		}
		return m, fmt.Errorf("input \"B\": want shape %s, got %s", want, dimsString(b))
	}
	return mergeDim(m, b[0]), nil
}

// checkColumns bounds the column matrix that im2col or col2im needs, [rows, cols], by the cap
// the engine puts on tensors (tensor.MaxElements): a model cannot make a convolution allocate
// more scratch than it could allocate for an output. Both factors are sizes of tensors that
// exist, so their product does not overflow an int.
func checkColumns(rows, cols int) error {
	if rows*cols > tensor.MaxElements {
		return fmt.Errorf("the column matrix [%d, %d] needs more than tensor.MaxElements (%d) elements", rows, cols, tensor.MaxElements)
	}
	return nil
}

// resolveKernel writes the kernel sizes into dst (of length nd): W's spatial sizes fromW,
// or kernel_shape's where W's are unknown. kernel_shape, when given, must match W.
func (w *windowAttrs) resolveKernel(dst, fromW []int) ([]int, error) {
	copy(dst, fromW)
	if w.kernel == nil {
		return dst, nil
	}
	if !dimsAgree(fromW, w.kernel) {
		return nil, fmt.Errorf("attribute kernel_shape %v does not match W's spatial shape %s", w.kernel, dimsString(fromW))
	}
	copy(dst, w.kernel)
	return dst, nil
}

func fillConst(dst []float32, v float32) {
	for i := range dst {
		dst[i] = v
	}
}
