package grad

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

var convInputNames = []string{"X", "W", "B"}

// convGrad is the backward of Conv with respect to X.
//
// With unit strides it is itself a convolution, computed by kernels.ConvAdd straight from
// dY (an implicit GEMM: no column matrix): along each dimension
//
//	dX[c, i] += sum over m, t' of dY[m, i - ((k-1)*d - pad_begin) + t'*d] * W[m, c, k-1-t']
//
// that is a convolution of dY (C' = M/group channels) with the flipped, transposed filters
// W'[c, m, t'] = W[m, c, k-1-t'], dilation d, begin padding (k-1)*d - pad_begin (negative
// when the forward's padding exceeds the kernel's extent) and dX's size as its output. W' is
// built once per plan when W is a plan constant, else per call into scratch.
//
// Otherwise (strides, and 3-D geometries the implicit GEMM does not take), for each image
// and group,
//
//	dX_g += Col2im(W_gᵀ [C/group*k, M/group] × dY_g [M/group, out])
//
// (the adjoint of the forward's Im2col + SGEMM), computed in bands of output rows so that the
// column matrix stays under colBudget elements whatever the image size; a 1×1 convolution with
// unit strides and no padding is a single product into dX.
type convGrad struct {
	win   windowAttrs
	group int
	// wConst is W when it is a plan constant (nil otherwise); flipped holds W' built from it,
	// once (the first backward that needs it), for the unit-stride path.
	wConst  *tensor.Tensor
	flipMu  sync.Mutex
	flipped atomic.Pointer[[]float32]
}

// convImplicit selects the implicit-GEMM backwards (Conv with unit strides, ConvTranspose);
// a variable so that tests can compare them with the Col2im and Im2col paths.
var convImplicit = true

func newConvGrad(n *engine.Node, p *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, convInputNames, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &convGrad{win: readWindow(a, false), group: int(a.Int("group", 1))}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if len(n.Inputs) > 1 && n.Inputs[1] >= 0 {
		op.wConst = p.Constant(n.Inputs[1])
	}
	return op, nil
}

// flipWeights writes W' (see convGrad) for W [group*mg, cg, kvol] into dst: per group,
// [cg, mg*kvol] with W'[c, m, t'] = W[m, c, kvol-1-t'] (reversing the flattened taps
// reverses every spatial dimension).
func flipWeights(dst, w []float32, group, mg, cg, kvol int) {
	for g := range group {
		wg := w[g*mg*cg*kvol : (g+1)*mg*cg*kvol]
		dg := dst[g*mg*cg*kvol : (g+1)*mg*cg*kvol]
		for m := range mg {
			for c := range cg {
				src := wg[(m*cg+c)*kvol : (m*cg+c+1)*kvol]
				d := dg[(c*mg+m)*kvol : (c*mg+m+1)*kvol]
				for t, v := range src {
					d[kvol-1-t] = v
				}
			}
		}
	}
}

// flippedWeights returns W' for w: the cached one when w is the plan constant, else built in
// scratch buffer 1 of c.
func (op *convGrad) flippedWeights(c *ctx, w *tensor.Tensor, mg, cg, kvol int) []float32 {
	if w == op.wConst {
		if f := op.flipped.Load(); f != nil {
			return *f
		}
		op.flipMu.Lock()
		defer op.flipMu.Unlock()
		if f := op.flipped.Load(); f != nil { // built by another session meanwhile
			return *f
		}
		f := make([]float32, w.Len())
		flipWeights(f, w.F32(), op.group, mg, cg, kvol)
		op.flipped.Store(&f)
		return f
	}
	dst := c.scratch(1, w.Len())
	flipWeights(dst, w.F32(), op.group, mg, cg, kvol)
	return dst
}

// colBudget bounds the column matrices of the convolution backward (elements): 32 MiB. A
// variable so that tests can force narrow bands.
var colBudget = 1 << 23

func (op *convGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x, w, y := in[0], in[1], out[0]
	if w.DType != tensor.Float32 || w.Rank() != x.Rank() || x.Rank() < 3 {
		return fmt.Errorf("input \"W\": want a float32 tensor of X's rank, got %v", w)
	}
	kernel := w.Shape[2:]
	if op.win.kernel != nil {
		kernel = op.win.kernel
	}
	win := &c.win // in the session, so that the kernels' pointer arguments do not allocate
	var err error
	if *win, err = op.win.forward(x.Shape[2:], kernel); err != nil {
		return err
	}
	n, ch, m := x.Shape[0], x.Shape[1], w.Shape[0]
	if !win.isOut(y.Shape, n, m) {
		return fmt.Errorf("internal error: derived output shape %v, the forward computed %v", win.outShape(n, m), y.Shape)
	}
	cg, mg := ch/op.group, m/op.group
	win.Channels = cg
	dx, dy, ws := dIn[0].F32(), dOut[0].F32(), w.F32()
	inVol := win.In[0] * win.In[1] * win.In[2]
	outVol := win.ColCols()
	rows := win.ColRows()
	unit := win.Stride == [kernels.MaxSpatial]int{1, 1, 1}
	pointwise := rows == cg && win.Out == win.In && win.Pad == [kernels.MaxSpatial]int{} && unit
	if unit && !pointwise && convImplicit {
		// The transposed convolution over dY (see convGrad), in c.band.
		tg := &c.band
		*tg = win.ConvGeometry
		tg.Channels = mg
		tg.In, tg.Out = win.Out, win.In
		for j := range kernels.MaxSpatial {
			tg.Pad[j] = (win.Kernel[j]-1)*win.Dilation[j] - win.Pad[j]
		}
		if kernels.ConvScratch(tg) == 0 {
			kvol := rows / max(cg, 1)
			wf := op.flippedWeights(c, w, mg, cg, kvol)
			for i := range n {
				for g := range op.group {
					dyg := dy[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
					dxg := dx[(i*ch+g*cg)*inVol : (i*ch+(g+1)*cg)*inVol]
					// dX_g [cg, in] += W'_g [cg, mg*kvol] × im2col(dY_g) [mg*kvol, in]
					kernels.ConvAdd(c.threads, tg, cg, wf[g*cg*mg*kvol:(g+1)*cg*mg*kvol], dyg, dxg)
				}
			}
			return nil
		}
	}
	for i := range n {
		for g := range op.group {
			dyg := dy[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
			dxg := dx[(i*ch+g*cg)*inVol : (i*ch+(g+1)*cg)*inVol]
			wg := ws[g*mg*rows : (g+1)*mg*rows] // [mg, rows]
			if pointwise {
				// dX_g [cg, in] += W_gᵀ [cg, mg] × dY_g [mg, in]
				sgemm(c.threads, true, false, cg, outVol, mg, 1, wg, max(rows, 1), dyg, max(outVol, 1), 1, dxg, max(inVol, 1))
				continue
			}
			forBands(&win.ConvGeometry, rows, &c.band, func(band *kernels.ConvGeometry, c0, c1 int) {
				col := c.scratch(0, rows*(c1-c0))
				// col [rows, c1-c0] = W_gᵀ × dY_g[:, c0:c1]
				sgemm(c.threads, true, false, rows, c1-c0, mg, 1, wg, max(rows, 1), dyg[c0:], max(outVol, 1), 0, col, max(c1-c0, 1))
				col2imParallel(c.threads, band, col, dxg)
			})
		}
	}
	return nil
}

// forBands cuts the window positions of g into bands along its outermost non-trivial
// dimension so that each band's column matrix (rows × positions) stays under colBudget, and
// calls f with the geometry of each band and its range of positions [c0, c1) (contiguous in
// the column order). A band's geometry keeps the whole image and shifts the padding, which
// ConvGeometry allows to be negative, so Im2col and Col2im on it read and write the right
// image elements.
// band is where the band geometries are written.
func forBands(g *kernels.ConvGeometry, rows int, band *kernels.ConvGeometry, f func(band *kernels.ConvGeometry, c0, c1 int)) {
	j := 0
	for j < kernels.MaxSpatial-1 && g.Out[j] == 1 {
		j++
	}
	rest := 1 // positions per unit of dimension j
	for k := j + 1; k < kernels.MaxSpatial; k++ {
		rest *= g.Out[k]
	}
	step := max(1, colBudget/max(1, rows*rest))
	if step >= g.Out[j] {
		f(g, 0, g.ColCols())
		return
	}
	for o0 := 0; o0 < g.Out[j]; o0 += step {
		o1 := min(o0+step, g.Out[j])
		*band = *g
		band.Out[j] = o1 - o0
		band.Pad[j] = g.Pad[j] - o0*g.Stride[j]
		f(band, o0*rest, o1*rest)
	}
}

// sgemm is kernels.Sgemm, or kernels.SgemmParallel with threads > 1.
func sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if threads > 1 {
		kernels.SgemmParallel(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// parallelMin is the smallest column matrix (elements) that col2imParallel splits.
const parallelMin = 1 << 15

// col2imParallel is kernels.Col2im split over channel ranges on up to threads goroutines:
// channel c reads its own rows of col and adds into its own plane of img, so the ranges are
// independent. (The kernels package has Im2colParallel but no parallel Col2im.)
func col2imParallel(threads int, g *kernels.ConvGeometry, col, img []float32) {
	threads = min(threads, g.Channels)
	if threads <= 1 || g.ColRows()*g.ColCols() < parallelMin {
		kernels.Col2im(g, col, img)
		return
	}
	plane := g.In[0] * g.In[1] * g.In[2]
	perCh := g.Kernel[0] * g.Kernel[1] * g.Kernel[2] * g.ColCols()
	var wg sync.WaitGroup
	wg.Add(threads - 1)
	for t := threads - 1; t >= 0; t-- {
		lo, hi := t*g.Channels/threads, (t+1)*g.Channels/threads
		sub := *g
		sub.Channels = hi - lo
		c, im := col[lo*perCh:hi*perCh], img[lo*plane:hi*plane]
		if t == 0 {
			kernels.Col2im(&sub, c, im)
			break
		}
		go func() {
			defer wg.Done()
			kernels.Col2im(&sub, c, im)
		}()
	}
	wg.Wait()
}

// convTransposeGrad is the backward of ConvTranspose with respect to X: the convolution of dY
// with the same window,
//
//	dX_g [C/group, in] += W_g [C/group, M/group*k] × Im2col(dY_g) [M/group*k, in]
//
// computed by kernels.ConvAdd (no column matrix), or, for the 3-D geometries it does not
// take implicitly (and with convImplicit off), with Im2col in bands of input positions, like
// convGrad.
type convTransposeGrad struct {
	win   windowAttrs
	ct    convTransposeAttrs
	group int
}

func newConvTransposeGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, convInputNames, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &convTransposeGrad{win: readWindow(a, false), group: int(a.Int("group", 1)),
		ct: convTransposeAttrs{outputPadding: toInts(a.Ints("output_padding", nil)), outputShape: toInts(a.Ints("output_shape", nil))}}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *convTransposeGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x, w, y := in[0], in[1], out[0]
	if w.DType != tensor.Float32 || w.Rank() != x.Rank() || x.Rank() < 3 {
		return fmt.Errorf("input \"W\": want a float32 tensor of X's rank, got %v", w)
	}
	kernel := w.Shape[2:]
	if op.win.kernel != nil {
		kernel = op.win.kernel
	}
	win := &c.win
	var err error
	if *win, err = op.win.transposeWindow(&op.ct, x.Shape[2:], kernel); err != nil {
		return err
	}
	n, ch, mg := x.Shape[0], x.Shape[1], w.Shape[1]
	m := mg * op.group
	if !win.isIn(y.Shape, n, m) {
		return fmt.Errorf("internal error: derived output shape %v, the forward computed %v", win.inShape(n, m), y.Shape)
	}
	cg := ch / op.group
	win.Channels = mg
	dx, dy, ws := dIn[0].F32(), dOut[0].F32(), w.F32()
	inVol := win.ColCols()                      // X's spatial size: the window positions
	outVol := win.In[0] * win.In[1] * win.In[2] // Y's spatial size: the image
	rows := win.ColRows()                       // M/group * kernel volume
	implicit := convImplicit && kernels.ConvScratch(&win.ConvGeometry) == 0
	for i := range n {
		for g := range op.group {
			dyg := dy[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
			dxg := dx[(i*ch+g*cg)*inVol : (i*ch+(g+1)*cg)*inVol]
			wg := ws[g*cg*rows : (g+1)*cg*rows] // [cg, rows]
			if implicit {
				// dX_g [cg, in] += W_g [cg, rows] × im2col(dY_g), packed straight from dY_g.
				kernels.ConvAdd(c.threads, &win.ConvGeometry, cg, wg, dyg, dxg)
				continue
			}
			forBands(&win.ConvGeometry, rows, &c.band, func(band *kernels.ConvGeometry, c0, c1 int) {
				col := c.scratch(0, rows*(c1-c0))
				if c.threads > 1 {
					kernels.Im2colParallel(c.threads, band, dyg, col)
				} else {
					kernels.Im2col(band, dyg, col)
				}
				// dX_g[:, c0:c1] += W_g [cg, rows] × col [rows, c1-c0]
				sgemm(c.threads, false, false, cg, c1-c0, rows, 1, wg, max(rows, 1), col, max(c1-c0, 1), 1, dxg[c0:], max(inVol, 1))
			})
		}
	}
	return nil
}
