package kernels

import (
	"fmt"
	"runtime"
	"sync"
)

// The implicit-GEMM convolution. Conv computes one image's convolution as the product
// W [M, K] × col [K, N] of Im2col's lowering, but never materialises col: the blocked SGEMM's
// B panels (kc rows × nr columns, see sgemm.go) are packed straight from the image. Row p of
// col is one tap (c, kh, kw) of the window, column j one output position (oh, ow), so
// element (p, j) is img[c, oh*sH - pH + kh*dH, ow*sW - pW + kw*dW], or 0 in the padding. With
//
//	rowOff[p] = c*H*W + kh*dH*W + kw*dW,   rowH[p] = kh*dH,          rowW[p] = kw*dW
//	colIdx[j] = colH[j]*W + colW[j],       colH[j] = oh*sH - pH,     colW[j] = ow*sW - pW
//
// element (p, j) is img[colIdx[j] + rowOff[p]] when 0 <= colH[j]+rowH[p] < H and
// 0 <= colW[j]+rowW[p] < W. A panel's 16 columns are packed per tap with two masked 8-lane
// gathers (AVX2), or, when all 16 read consecutive image elements for every tap (stride 1,
// one output row, no padding touched: most panels of a large image), with two plain loads.
//
// The bias and the activation are applied when the micro-kernel stores the last k block
// (bias with the first, Relu with the last), so the output is written once per k block and
// never re-read by a separate pass. Threads split the output columns into bands of whole
// panels; each band packs its own panels and A blocks, and every output element is computed
// by the same operations whatever the thread count, so results are bitwise independent of it.
//
// Geometries the tables cannot describe (a third spatial dimension that is not trivial, or
// offsets beyond the int32 range) take the explicit path: Im2col into a pooled buffer, then
// Sgemm. So do convolutions with no taps (K = 0), which are just the bias.

// Activation selects what Conv applies to each output element after adding the bias.
type Activation int

const (
	// ActNone leaves the output as it is.
	ActNone Activation = iota
	// ActRelu applies max(x, 0) (NaN stays NaN, -0 becomes +0), as the ONNX Relu op.
	ActRelu
)

// Epilogue flags of the micro-kernels' store (microKernel.fnEp, mergeTileEp).
const (
	epLoad = 1 << iota // add the old C
	epBias             // add bias[r] to row r
	epRelu             // max(x, 0), NaN kept
)

// Conv computes one image's convolution: out[M, N] = act(W × col + bias), where col =
// Im2col(g, img) is [K, N] with K = g.ColRows() and N = g.ColCols(), W is row-major [M, K]
// (the ONNX filter [M, C, kD, kH, kW] of one group, flattened), bias is nil (no bias) or
// holds at least M values (bias[i] added to row i), and out is row-major [M, N]. Every
// element of out is written; out must not overlap img, w or bias.
//
// It computes with up to threads goroutines (threads <= 0 means runtime.GOMAXPROCS(0)), on
// the micro-kernel KernelName names, packing B straight from the image (see the comment at
// the top of conv.go), and allocates nothing in the steady state. The result is bitwise the
// same for every thread count.
//
// It panics if a slice is too short or the geometry is invalid: those are programming
// errors, not bad input.
func Conv(threads int, g *ConvGeometry, m int, w, img, bias []float32, act Activation, out []float32) {
	g.checkGeometry("Conv")
	if len(img) < g.ImageLen() {
		panic(fmt.Sprintf("kernels: Conv: image has %d elements, want %d", len(img), g.ImageLen()))
	}
	k, n := g.ColRows(), g.ColCols()
	if m < 0 || len(w) < m*k || len(out) < m*n || (bias != nil && len(bias) < m) || act < ActNone || act > ActRelu {
		panic(fmt.Sprintf("kernels: Conv: bad arguments: m=%d, w has %d elements (want %d), out %d (want %d), bias %d, act %d",
			m, len(w), m*k, len(out), m*n, len(bias), act))
	}
	conv(bestKernel, threads, convParallelMinFlops, g, m, w, img, bias, act == ActRelu, false, out)
}

// ConvAdd is Conv without bias or activation that adds into out instead of overwriting it:
// out[M, N] += W × col. The arguments, threads and panics are Conv's; the adds come after
// the product of each k block of W (kc wide, see sgemm.go), so the result is bitwise
// independent of the thread count but not the same as Conv followed by a separate add.
func ConvAdd(threads int, g *ConvGeometry, m int, w, img, out []float32) {
	g.checkGeometry("ConvAdd")
	if len(img) < g.ImageLen() {
		panic(fmt.Sprintf("kernels: ConvAdd: image has %d elements, want %d", len(img), g.ImageLen()))
	}
	k, n := g.ColRows(), g.ColCols()
	if m < 0 || len(w) < m*k || len(out) < m*n {
		panic(fmt.Sprintf("kernels: ConvAdd: bad arguments: m=%d, w has %d elements (want %d), out %d (want %d)",
			m, len(w), m*k, len(out), m*n))
	}
	conv(bestKernel, threads, convParallelMinFlops, g, m, w, img, nil, false, true, out)
}

// ConvScratch is the number of float32s of column matrix that Conv allocates (from a pool,
// kept for later calls) for geometry g: 0 when it packs straight from the image, ColRows *
// ColCols when g takes the explicit path (a non-trivial third spatial dimension, or offsets
// beyond the int32 range). Callers that bound memory check it before calling Conv.
func ConvScratch(g *ConvGeometry) int {
	if g.ColRows() == 0 || implicitOK(g) {
		return 0
	}
	return g.ColRows() * g.ColCols()
}

// convParallelMinFlops is the smallest convolution (2*M*K*N) Conv splits over threads; as
// for SgemmParallel, below it a worker's wake-up costs more than it saves.
const convParallelMinFlops = parallelMinFlops

// convArgs is one Conv call, shared by its bands.
type convArgs struct {
	kern       *microKernel
	g          ConvGeometry // a copy: the caller's may live on its stack
	m, k, n    int
	w, img     []float32
	bias       []float32
	relu       bool
	acc        bool // add into out (ConvAdd)
	out        []float32
	rows       []int32 // 3 per tap: rowOff, rowH, rowW
	minH, maxH int32   // range of rowH over all taps
	minW, maxW int32   // range of rowW over all taps
}

// convScratch holds the tap table of one call; pooled.
type convScratch struct {
	rows []int32
	args convArgs
}

var convScratches = sync.Pool{New: func() any { return new(convScratch) }}

// implicitOK reports whether conv's tables describe g: the leading spatial dimension is
// trivial (1-D and 2-D convolutions, as ConvGeometry.Set makes them), and every offset and
// coordinate the tables and lanes hold stays well inside the int32 range.
func implicitOK(g *ConvGeometry) bool {
	if g.In[0] != 1 || g.Kernel[0] != 1 || g.Out[0] != 1 || g.Pad[0] != 0 {
		return false
	}
	const lim = 1 << 29
	abs := func(x int) int { return max(x, -x) }
	for _, v := range []int{g.In[1], g.In[2], g.Out[1] * g.Stride[1], g.Out[2] * g.Stride[2], abs(g.Pad[1]), abs(g.Pad[2]),
		g.Kernel[1] * g.Dilation[1], g.Kernel[2] * g.Dilation[2]} {
		if v >= lim {
			return false
		}
	}
	// |colIdx| <= (Out1*s1 + |p1|) * W + Out2*s2 + |p2|, and rowOff < C*H*W.
	span := (g.Out[1]*g.Stride[1] + abs(g.Pad[1]) + 1) * (g.In[2] + 1)
	return span < lim && span+g.Out[2]*g.Stride[2]+abs(g.Pad[2]) < lim && g.ImageLen() < lim
}

// conv is Conv (ConvAdd with acc) with a given micro-kernel after the checks; it runs
// serially when 2*M*K*N < minFlops.
func conv(kern *microKernel, threads int, minFlops float64, g *ConvGeometry, m int, w, img, bias []float32, relu, acc bool, out []float32) {
	k, n := g.ColRows(), g.ColCols()
	if m == 0 || n == 0 {
		return
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if k == 0 || !implicitOK(g) {
		convExplicit(kern, threads, g, m, w, img, bias, relu, acc, out)
		return
	}
	cs := convScratches.Get().(*convScratch)
	if cap(cs.rows) < 3*k {
		cs.rows = make([]int32, 3*k)
	}
	a := &cs.args
	*a = convArgs{kern: kern, g: *g, m: m, k: k, n: n, w: w, img: img, bias: bias, relu: relu, acc: acc, out: out, rows: cs.rows[:3*k]}
	a.fillRows()
	tiles := (n + kern.nr - 1) / kern.nr
	threads = min(threads, tiles)
	if threads <= 1 || 2*float64(m)*float64(k)*float64(n) < minFlops {
		a.band(0, n)
	} else {
		runBands(threads, a, tiles)
	}
	*a = convArgs{} // drop the references to the caller's slices
	convScratches.Put(cs)
}

// fillRows fills the tap table: for tap p = (c*KH + kh)*KW + kw, its image offset, row and
// column displacement, and their ranges.
func (a *convArgs) fillRows() {
	g := &a.g
	inW := g.In[2]
	plane := g.In[1] * inW
	a.minH, a.maxH, a.minW, a.maxW = 1<<30, -1<<30, 1<<30, -1<<30
	p := 0
	for c := range g.Channels {
		for kh := range g.Kernel[1] {
			dh := int32(kh * g.Dilation[1])
			for kw := range g.Kernel[2] {
				dw := int32(kw * g.Dilation[2])
				a.rows[3*p] = int32(c*plane) + dh*int32(inW) + dw
				a.rows[3*p+1], a.rows[3*p+2] = dh, dw
				a.minH, a.maxH = min(a.minH, dh), max(a.maxH, dh)
				a.minW, a.maxW = min(a.minW, dw), max(a.maxW, dw)
				p++
			}
		}
	}
}

// runBands splits the output columns into threads bands of whole panels (tiles of them in
// all) and runs them on the worker pool and the calling goroutine.
func runBands(threads int, a *convArgs, tiles int) {
	ensureWorkers(threads - 1)
	batch := gemmBatches.Get().(*gemmBatch)
	if cap(batch.jobs) < threads {
		batch.jobs = make([]gemmJob, threads)
	}
	jobs := batch.jobs[:threads]
	nr := a.kern.nr
	for t := range jobs {
		lo, hi := t*tiles/threads, (t+1)*tiles/threads
		jobs[t] = gemmJob{conv: a, j0: lo * nr, j1: min(hi*nr, a.n), done: &batch.done}
	}
	batch.done.Add(threads - 1)
	for t := 1; t < threads; t++ {
		gemmJobs <- &jobs[t]
	}
	jobs[0].run()
	batch.done.Wait()
	clear(jobs)
	gemmBatches.Put(batch)
}

// band computes output columns [j0, j1) with the blocked loops of sgemm (sgemm.go), packing
// B from the image and storing through the epilogue.
func (a *convArgs) band(j0, j1 int) {
	kern := a.kern
	mr, nr := kern.mr, kern.nr
	m, k, n := a.m, a.k, a.n
	ws := workspaces.Get().(*workspace)
	kcMax := min(k, kern.kc)
	ws.a = grow(ws.a, min(roundUp(m, mr), kern.mc)*kcMax)
	ws.b = grow(ws.b, kcMax*min(roundUp(j1-j0, nr), kern.nc))
	ws.tile = grow(ws.tile, mr*nr)
	tile := ws.tile
	lanes := &ws.lanes
	for jc := j0; jc < j1; jc += kern.nc {
		nc := min(kern.nc, j1-jc)
		for pc := 0; pc < k; pc += kern.kc {
			kc := min(kern.kc, k-pc)
			bp := ws.b[:roundUp(nc, nr)*kc]
			for jr := 0; jr < nc; jr += nr {
				a.packPanel(kc, pc, jc+jr, min(nr, nc-jr), bp[jr*kc:(jr+nr)*kc], lanes[:])
			}
			flags := 0
			if pc > 0 || a.acc {
				flags |= epLoad
			} else if a.bias != nil {
				flags |= epBias
			}
			if a.relu && pc+kc == k {
				flags |= epRelu
			}
			for ic := 0; ic < m; ic += kern.mc {
				mc := min(kern.mc, m-ic)
				ap := ws.a[:roundUp(mc, mr)*kc]
				packA(kern, false, mc, kc, mr, 1, a.w, k, ic, pc, ap)
				for jr := 0; jr < nc; jr += nr {
					nrr := min(nr, nc-jr)
					bpan := bp[jr*kc : (jr+nr)*kc]
					for ir := 0; ir < mc; ir += mr {
						mrr := min(mr, mc-ir)
						apan := ap[ir*kc : (ir+mr)*kc]
						ci := (ic+ir)*n + jc + jr
						var bias []float32
						if flags&epBias != 0 {
							bias = a.bias[ic+ir : ic+ir+mrr]
						}
						if nrr == nr && kern.fnEp != nil {
							kern.fnEp(kc, apan, bpan, a.out[ci:], n, bias, flags, mrr)
							continue
						}
						kern.fn(kc, apan, bpan, tile, nr, 0, false)
						mergeTileEp(tile, nr, mrr, nrr, a.out[ci:], n, bias, flags)
					}
				}
			}
		}
	}
	workspaces.Put(ws)
}

// invalidLane is the row coordinate of lanes past the last output column: adding any tap's
// row displacement keeps it negative, so those lanes read 0.
const invalidLane = -1 << 30

// packPanel packs rows [pc, pc+kc) of col's columns [j, j+cols) into dst as one nr-wide B
// panel (row p at dst[p*nr:], columns past cols zero). lanes is scratch for 3*nr int32: the
// lanes' offsets, rows and columns.
func (a *convArgs) packPanel(kc, pc, j, cols int, dst []float32, lanes []int32) {
	g := &a.g
	nr := a.kern.nr
	inH, inW := g.In[1], g.In[2]
	oW, sH, sW := g.Out[2], g.Stride[1], g.Stride[2]
	colIdx, colH, colW := lanes[:nr], lanes[nr:2*nr], lanes[2*nr:3*nr]
	oh, ow := j/oW, j%oW
	for l := range nr {
		if l >= cols {
			colIdx[l], colH[l], colW[l] = 0, invalidLane, invalidLane
			continue
		}
		h, w := oh*sH-g.Pad[1], ow*sW-g.Pad[2]
		colIdx[l], colH[l], colW[l] = int32(h*inW+w), int32(h), int32(w)
		if ow++; ow == oW {
			ow, oh = 0, oh+1
		}
	}
	rows := a.rows[3*pc : 3*(pc+kc)]
	if nr == 16 && cols == 16 && a.kern.packRows16 != nil && sW == 1 && colH[0] == colH[15] &&
		colH[0]+a.minH >= 0 && int(colH[0]+a.maxH) < inH && colW[0]+a.minW >= 0 && int(colW[15]+a.maxW) < inW {
		// Every tap reads 16 consecutive elements inside the image.
		a.kern.packRows16(kc, a.img, rows, int(colIdx[0]), dst)
		return
	}
	if nr == 16 && a.kern.packGather16 != nil {
		a.kern.packGather16(kc, a.img, rows, lanes, int32(inH), int32(inW), dst)
		return
	}
	packGatherGo(kc, nr, a.img, rows, colIdx, colH, colW, inH, inW, dst)
}

// packGatherGo is the portable panel packing: dst[p*nr+l] = img[colIdx[l]+rows[3p]] when
// the lane's row and column plus the tap's are inside the image, else 0.
func packGatherGo(kc, nr int, img []float32, rows, colIdx, colH, colW []int32, inH, inW int, dst []float32) {
	for p := range kc {
		off, dh, dw := rows[3*p], rows[3*p+1], rows[3*p+2]
		d := dst[p*nr : p*nr+nr]
		for l := range d {
			h, w := int(colH[l]+dh), int(colW[l]+dw)
			if h >= 0 && h < inH && w >= 0 && w < inW {
				d[l] = img[colIdx[l]+off]
			} else {
				d[l] = 0
			}
		}
	}
}

// mergeTileEp stores the top-left mrr×nrr corner of an mr×nr tile into C through the
// epilogue, as the micro-kernels' fnEp stores a full tile: x = tile (+ C if epLoad)
// (+ bias[r] if epBias), then max(x, 0) if epRelu.
func mergeTileEp(tile []float32, nr, mrr, nrr int, c []float32, ldc int, bias []float32, flags int) {
	for r := range mrr {
		src := tile[r*nr : r*nr+nrr]
		dst := c[r*ldc : r*ldc+nrr]
		var b float32
		if flags&epBias != 0 {
			b = bias[r]
		}
		for j, v := range src {
			if flags&epLoad != 0 {
				v += dst[j]
			}
			if flags&epBias != 0 {
				v += b
			}
			if flags&epRelu != 0 {
				v = max(v, 0)
			}
			dst[j] = v
		}
	}
}

// convCols is the pool of column buffers of the explicit path.
var convCols = sync.Pool{New: func() any { return new([]float32) }}

// convExplicit is the explicit path: im2col into a pooled buffer, the bias written first and
// accumulated into by SgemmParallel (or, with acc, out itself), then the activation in a
// separate pass.
func convExplicit(kern *microKernel, threads int, g *ConvGeometry, m int, w, img, bias []float32, relu, acc bool, out []float32) {
	k, n := g.ColRows(), g.ColCols()
	out = out[:m*n]
	for i := range m {
		if acc {
			break
		}
		var v float32
		if bias != nil {
			v = bias[i]
		}
		row := out[i*n : (i+1)*n]
		for j := range row {
			row[j] = v
		}
	}
	if k > 0 {
		buf := convCols.Get().(*[]float32)
		*buf = grow(*buf, k*n)
		col := *buf
		im2colParallel(threads, im2colParallelMin, g, img, col)
		sgemmParallel(kern, threads, parallelMinFlops, false, false, m, n, k, 1, w, k, col, n, 1, out, n)
		convCols.Put(buf)
	}
	if relu {
		for i, v := range out {
			out[i] = max(v, 0)
		}
	}
}
