package grad

import (
	"fmt"
	"sync"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

var convInputNames = []string{"X", "W", "B"}

// convGrad is the backward of Conv with respect to X. For each image and group,
//
//	dX_g += Col2im(W_gᵀ [C/group*k, M/group] × dY_g [M/group, out])
//
// (the adjoint of the forward's Im2col + SGEMM), computed in bands of output rows so that the
// column matrix stays under colBudget elements whatever the image size; a 1×1 convolution with
// unit strides and no padding is a single product into dX.
type convGrad struct {
	win   windowAttrs
	group int
}

func newConvGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, convInputNames, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &convGrad{win: readWindow(a, false), group: int(a.Int("group", 1))}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
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
	pointwise := rows == cg && win.Out == win.In && win.Pad == [kernels.MaxSpatial]int{} &&
		win.Stride == [kernels.MaxSpatial]int{1, 1, 1}
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
// in bands of input positions, like convGrad.
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
	for i := range n {
		for g := range op.group {
			dyg := dy[(i*m+g*mg)*outVol : (i*m+(g+1)*mg)*outVol]
			dxg := dx[(i*ch+g*cg)*inVol : (i*ch+(g+1)*cg)*inVol]
			wg := ws[g*cg*rows : (g+1)*cg*rows] // [cg, rows]
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
