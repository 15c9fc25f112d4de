package layers

import (
	"runtime"
	"sync"

	"github.com/gendl/gendl/kernels"
)

// float is the element type of the ops: float32 for training, float64 for gradient checks.
type float interface{ float32 | float64 }

// forceReference makes the float32 ops use the reference loops instead of package kernels
// (tests compare the two).
var forceReference = false

// The three per-image primitives of a convolution geometry g (package doc):
//
//	toCols:   cols[M, P]   = W[M, CKK] · im2col(img)[CKK, P]    (+ bias per row)
//	toImage:  img[C, HW]   = col2im(Wᵀ · cols)                  (+ bias per channel)
//	filter:   dW[M, CKK]  += cols[M, P] · im2col(img)ᵀ
//
// col is scratch of CKK·P elements. The functions below are the definitions: the float64
// path, and float32's with forceReference or implicitConv off. Otherwise float32 takes the
// paths of prim_fast.go, which need no col: toCols is an implicit GEMM (kernels.Conv) or,
// with few output channels, a product on the image lowered to rows; toImage is computed by
// the batch loop as sub-convolutions on kernels.Conv where they apply (subPlan), else by the
// toImage below; the filter gradient on the lowered image where that pays (filterLowering),
// else by the filterGrad below.

func toCols[F float](g convGeom, kg *kernels.ConvGeometry, img, w, bias, cols, col []F) {
	if implicit32[F]() {
		kernels.Conv(1, kg, g.M, any(w).([]float32), any(img).([]float32), any(bias).([]float32), kernels.ActNone, any(cols).([]float32))
		return
	}
	im2colF(kg, img, col)
	P, CKK := g.p(), g.ckk()
	gemm(false, false, g.M, P, CKK, w, CKK, col, P, 0, cols, P)
	if bias != nil {
		for m := range g.M {
			row, b := cols[m*P:(m+1)*P], bias[m]
			for i := range row {
				row[i] += b
			}
		}
	}
}

func toImage[F float](g convGeom, kg *kernels.ConvGeometry, cols, w, bias, img, col []F) {
	P, CKK := g.p(), g.ckk()
	gemm(true, false, CKK, P, g.M, w, CKK, cols, P, 0, col, P)
	HW := g.H * g.W
	for c := range g.C {
		plane := img[c*HW : (c+1)*HW]
		var b F
		if bias != nil {
			b = bias[c]
		}
		for i := range plane {
			plane[i] = b
		}
	}
	col2imF(kg, col, img)
}

func filterGrad[F float](g convGeom, kg *kernels.ConvGeometry, img, cols, dw, col []F) {
	im2colF(kg, img, col)
	P, CKK := g.p(), g.ckk()
	gemm(false, true, g.M, CKK, P, cols, P, col, P, 1, dw, CKK)
}

func im2colF[F float](g *kernels.ConvGeometry, img, col []F) {
	if im, ok := any(img).([]float32); ok && !forceReference {
		kernels.Im2col(g, im, any(col).([]float32))
		return
	}
	im2colRef(g, img, col, false)
}

func col2imF[F float](g *kernels.ConvGeometry, col, img []F) {
	if c, ok := any(col).([]float32); ok && !forceReference {
		kernels.Col2im(g, c, any(img).([]float32))
		return
	}
	im2colRef(g, img, col, true)
}

// im2colRef is the definition of im2col (add: its adjoint, col2im, accumulating) for 2-D
// geometries: col[(c·KH+kh)·KW+kw, oh·OW+ow] = img[c, oh·SH-PT+kh, ow·SW-PL+kw], 0 outside.
func im2colRef[F float](g *kernels.ConvGeometry, img, col []F, add bool) {
	C, H, W := g.Channels, g.In[1], g.In[2]
	KH, KW, OH, OW := g.Kernel[1], g.Kernel[2], g.Out[1], g.Out[2]
	P := OH * OW
	for c := range C {
		for kh := range KH {
			for kw := range KW {
				r := (c*KH+kh)*KW + kw
				for oh := range OH {
					ih := oh*g.Stride[1] - g.Pad[1] + kh
					for ow := range OW {
						iw := ow*g.Stride[2] - g.Pad[2] + kw
						k := r*P + oh*OW + ow
						inside := ih >= 0 && ih < H && iw >= 0 && iw < W
						switch {
						case add && inside:
							img[(c*H+ih)*W+iw] += col[k]
						case !add && inside:
							col[k] = img[(c*H+ih)*W+iw]
						case !add:
							col[k] = 0
						}
					}
				}
			}
		}
	}
}

// gemm computes c = op(a)·op(b) + beta·c (alpha 1) for row-major matrices: float32 on
// kernels.Sgemm, float64 (and float32 with forceReference) by plain loops.
func gemm[F float](transA, transB bool, m, n, k int, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if a32, ok := any(a).([]float32); ok && !forceReference {
		kernels.Sgemm(transA, transB, m, n, k, 1, a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
		for p := range k {
			var av F
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av == 0 {
				continue
			}
			if transB {
				for j := range n {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				br := b[p*ldb : p*ldb+n]
				for j := range n {
					row[j] += av * br[j]
				}
			}
		}
	}
}

// parallelRanges calls fn on contiguous ranges covering [0, n), on up to GOMAXPROCS
// goroutines (the calling one included), and waits.
func parallelRanges(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/workers)
	wg.Wait()
}

// filterChunk is the number of images whose filter gradients one partial sum collects. The
// partial sums are added in chunk order, so the result does not depend on how many threads
// computed them.
const filterChunk = 8

// Batch loops over the images of a geometry. Each returns the output it allocated. In
// float32 they hand the whole batch to the paths of prim_fast.go where those apply: the
// lowering and the phase filters are set up once per call, not per image.

func batchToCols[F float](g convGeom, img, w, bias []F) []F {
	kg := g.kernel()
	out := make([]F, g.N*g.colsLen())
	il, cl := g.imageLen(), g.colsLen()
	colLen := g.ckk() * g.p()
	if implicit32[F]() {
		if r := colsLowering(g); r != nil {
			colsLowered(g, r, any(img).([]float32), any(w).([]float32), any(bias).([]float32), any(out).([]float32))
			return out
		}
		colLen = 0 // kernels.Conv packs straight from the image
	}
	parallelRanges(g.N, func(lo, hi int) {
		col := scratch[F](colLen)
		defer release(col)
		for n := lo; n < hi; n++ {
			toCols(g, &kg, img[n*il:(n+1)*il], w, bias, out[n*cl:(n+1)*cl], col)
		}
	})
	return out
}

func batchToImage[F float](g convGeom, cols, w, bias []F) []F {
	kg := g.kernel()
	out := make([]F, g.N*g.imageLen())
	il, cl := g.imageLen(), g.colsLen()
	if implicit32[F]() {
		// The phase filters depend on W: built once per call, shared by the images.
		if p := newSubPlan(g, any(w).([]float32)); p != nil {
			defer p.release()
			imageSub(g, p, any(cols).([]float32), any(bias).([]float32), any(out).([]float32))
			return out
		}
	}
	parallelRanges(g.N, func(lo, hi int) {
		col := scratch[F](g.ckk() * g.p())
		defer release(col)
		for n := lo; n < hi; n++ {
			toImage(g, &kg, cols[n*cl:(n+1)*cl], w, bias, out[n*il:(n+1)*il], col)
		}
	})
	return out
}

func batchFilter[F float](g convGeom, img, cols []F) []F {
	kg := g.kernel()
	wl := g.M * g.ckk()
	il, cl := g.imageLen(), g.colsLen()
	chunks := (g.N + filterChunk - 1) / filterChunk
	partial := make([]F, chunks*wl)
	var r *rowLowering
	if implicit32[F]() {
		r = filterLowering(g)
	}
	if r != nil {
		filterLowered(g, r, any(img).([]float32), any(cols).([]float32), any(partial).([]float32))
	} else {
		parallelRanges(chunks, func(lo, hi int) {
			col := scratch[F](g.ckk() * g.p())
			defer release(col)
			for ch := lo; ch < hi; ch++ {
				dw := partial[ch*wl : (ch+1)*wl]
				for n := ch * filterChunk; n < min((ch+1)*filterChunk, g.N); n++ {
					filterGrad(g, &kg, img[n*il:(n+1)*il], cols[n*cl:(n+1)*cl], dw, col)
				}
			}
		})
	}
	out := partial[:wl]
	for ch := 1; ch < chunks; ch++ {
		p := partial[ch*wl : (ch+1)*wl]
		for i := range out {
			out[i] += p[i]
		}
	}
	return out
}

// Scratch buffers (im2col columns) are reused across calls: a training step would otherwise
// allocate tens of megabytes of them, and the garbage collector's pauses showed in profiles.
var (
	pool32 sync.Pool
	pool64 sync.Pool
)

// scratch returns a slice of n elements with arbitrary contents.
func scratch[F float](n int) []F {
	var z F
	p := &pool32
	if _, ok := any(z).(float64); ok {
		p = &pool64
	}
	if v, ok := p.Get().(*[]F); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]F, n)
}

func release[F float](s []F) {
	var z F
	p := &pool32
	if _, ok := any(z).(float64); ok {
		p = &pool64
	}
	p.Put(&s)
}

// channelSums returns s[c] = Σ_{n, i} y[n, c, i] for y [N, C, S] (a bias gradient), summed
// in float64.
func channelSums[F float](y []F, N, C, S int) []F {
	acc := make([]float64, C)
	for n := range N {
		for c := range C {
			var s float64
			for _, v := range y[(n*C+c)*S : (n*C+c+1)*S] {
				s += float64(v)
			}
			acc[c] += s
		}
	}
	out := make([]F, C)
	for c, v := range acc {
		out[c] = F(v)
	}
	return out
}
