package kernels

import (
	"os"
	"sync"
)

// The blocked SGEMM follows Goto and van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication" (ACM TOMS 34(3), 2008), in the loop order of BLIS (Van Zee and van de Geijn,
// ACM TOMS 41(3), 2015):
//
//	for jc in steps of NC over n:            B block  [KC, NC] -> packed, L3
//	  for pc in steps of KC over k:
//	    pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide column panels
//	    for ic in steps of MC over m:        A block  [MC, KC] -> packed, L2
//	      pack alpha*op(A)[ic:ic+mc, pc:pc+kc] into MR-high row panels
//	      for jr in steps of NR, ir in steps of MR:
//	        micro-kernel: C[MR, NR] (+)= A panel [MR, kc] · B panel [kc, NR]
//
// Packing reads the operands in whichever layout they are stored (transA, transB), scales A
// by alpha and pads partial panels with zeros, so the micro-kernel always computes a full
// MR×NR tile; a tile that sticks out of C is computed into a scratch tile and the valid part
// is merged. beta is applied while storing the first k block (C is not read when beta is 0);
// later k blocks accumulate. Every product term is computed, also when a factor is zero, so
// NaN and Inf propagate as in the reference BLAS.

// microKernel is one register-blocked micro-kernel with its blocking parameters.
type microKernel struct {
	name       string
	mr, nr     int // tile of C computed per call
	mc, kc, nc int // cache blocks: mc a multiple of mr, nc of nr
	// fn computes C[0:mr, 0:nr] = A·B (+ beta*C[0:mr, 0:nr] when load) for a packed mr×kc A
	// panel (column p at a[p*mr:]) and a packed kc×nr B panel (row p at b[p*nr:]); C has row
	// stride ldc. kc >= 1; len(a) >= mr*kc, len(b) >= nr*kc, len(c) >= (mr-1)*ldc+nr.
	fn func(kc int, a, b, c []float32, ldc int, beta float32, load bool)
	// fnEp, if not nil, is fn with the convolution's epilogue (conv.go) for the first rows
	// rows of the tile (1 <= rows <= mr): C[0:rows, 0:nr] = A·B, plus the old C when
	// flags&epLoad, plus bias[r] on row r when flags&epBias (bias has rows values), then
	// max(x, 0) with NaN kept when flags&epRelu. Rows past rows are not touched.
	fnEp func(kc int, a, b, c []float32, ldc int, bias []float32, flags, rows int)
	// packGather16 and packRows16, if not nil, pack one 16-wide B panel of the implicit
	// im2col (conv.go; only for nr == 16): packGather16 by masked gathers, lanes holding the
	// 16 lanes' offsets, rows and columns; packRows16 when every tap reads 16 consecutive
	// image elements, from img[base+rows[3p]:].
	packGather16 func(kc int, img []float32, rows, lanes []int32, inH, inW int32, dst []float32)
	packRows16   func(kc int, img []float32, rows []int32, base int, dst []float32)
	// packA6, if not nil, packs one full 6-row A panel of a row-major A with alpha 1:
	// dst[6p+r] = a[r*lda+p] for p < kc, r < 6. Only for mr == 6.
	packA6 func(kc int, a []float32, lda int, dst []float32)
	// packA6T, if not nil, is packA6 for an A stored k×m (transA): dst[6p+r] = a[p*lda+r].
	packA6T func(kc int, a []float32, lda int, dst []float32)
	// packB16T, if not nil, packs one full 16-wide panel of a B stored n×k (transB):
	// dst[16p+j] = b[j*ldb+p] for p < kc, j < 16. Only for nr == 16.
	packB16T func(kc int, b []float32, ldb int, dst []float32)
	// packB16, if not nil, packs one full 16-wide panel of a row-major B: kc rows
	// b[p*ldb:p*ldb+16] to dst[16p:16p+16]. Only for nr == 16.
	packB16 func(kc int, b []float32, ldb int, dst []float32)
	// dotNT and axpyNN are the small-M path's kernels (small.go), each computing n elements
	// of one row of C from one contiguous row a[:k] of op(A) and an unpacked B, with
	// k >= 1 and n >= 1; C is not read unless load:
	//   dotNT:  c[j] = alpha*dot(a[:k], b[j*ldb:j*ldb+k]) (+ beta*c[j])   (B stored n×k)
	//   axpyNN: c[j] = alpha*sum_p a[p]*b[p*ldb+j] (+ beta*c[j])           (B stored k×n)
	// Each element goes through the same operations whatever n and the position of j.
	dotNT, axpyNN func(k int, a, b []float32, ldb, n int, c []float32, alpha, beta float32, load bool)
	// axpyRows, if not nil, computes what axpyNN does, bit for bit, streaming B by rows
	// (better when B is large): called for rows 0, 4, 8, ... of B in turn (rows = 4, or 1
	// for the last k%4), it sets x = (flags&1 ? 0 : acc[j]), x = fma(a[r], b[r*ldb+j], x) for
	// r < rows, and stores acc[j] = x, or, when flags&2 (the last rows), c[j] = alpha*x
	// (+ beta*c[j] when flags&4). n >= 1.
	axpyRows func(rows, n int, a, b []float32, ldb int, acc, c []float32, alpha, beta float32, flags int)
	// dotNT2, if not nil, is dotNT for two rows of A (a, a[lda:]) and of C (c, c[ldc:]) at
	// once, bit for bit, reading B once for both.
	dotNT2 func(k int, a []float32, lda int, b []float32, ldb, n int, c []float32, ldc int, alpha, beta float32, load bool)
}

// genericKernel is the portable micro-kernel: a 4×4 tile held in 16 scalar accumulators.
var genericKernel = &microKernel{
	name: "generic",
	mr:   4, nr: 4,
	mc: 128, kc: 256, nc: 2048,
	fn:     kernel4x4Go,
	dotNT:  dotNTGo,
	axpyNN: axpyNNGo,
}

// KernelsEnv is the environment variable that selects Sgemm's micro-kernel, read once when
// the program starts: "generic" forces the portable Go kernel; a SIMD kernel's name ("avx2")
// selects it if the CPU supports it; empty or any other value selects the best kernel the CPU
// supports.
const KernelsEnv = "GENDL_KERNELS"

// bestKernel is the micro-kernel Sgemm and SgemmParallel use.
var bestKernel = chooseKernel(os.Getenv(KernelsEnv), simdKernels())

func chooseKernel(env string, simd []*microKernel) *microKernel {
	if env == genericKernel.name || len(simd) == 0 {
		return genericKernel
	}
	for _, k := range simd {
		if k.name == env {
			return k
		}
	}
	return simd[0]
}

// KernelName names the micro-kernel Sgemm uses: "avx2" or "generic" (see KernelsEnv).
func KernelName() string { return bestKernel.name }

// workspace holds the packing buffers of one Sgemm call; calls take them from a pool, so a
// steady stream of calls allocates nothing.
type workspace struct {
	a, b, tile []float32
	lanes      [3 * 16]int32 // Conv's panel lanes (convArgs.packPanel); here, as a local array would escape
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// sgemm is Sgemm with a given micro-kernel, after the argument checks.
func sgemm(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	mr, nr := kern.mr, kern.nr
	kcMax := min(k, kern.kc)
	ncMax := min(roundUp(n, nr), kern.nc)
	mcMax := min(roundUp(m, mr), kern.mc)
	ws := workspaces.Get().(*workspace)
	ws.a = grow(ws.a, mcMax*kcMax)
	ws.b = grow(ws.b, kcMax*ncMax)
	ws.tile = grow(ws.tile, mr*nr)
	tile := ws.tile
	for jc := 0; jc < n; jc += kern.nc {
		nc := min(kern.nc, n-jc)
		for pc := 0; pc < k; pc += kern.kc {
			kc := min(kern.kc, k-pc)
			bp := ws.b[:roundUp(nc, nr)*kc]
			packB(kern, transB, kc, nc, b, ldb, pc, jc, bp)
			bet, load := float32(1), true
			if pc == 0 {
				bet, load = beta, beta != 0
			}
			for ic := 0; ic < m; ic += kern.mc {
				mc := min(kern.mc, m-ic)
				ap := ws.a[:roundUp(mc, mr)*kc]
				packA(kern, transA, mc, kc, mr, alpha, a, lda, ic, pc, ap)
				for jr := 0; jr < nc; jr += nr {
					nrr := min(nr, nc-jr)
					bpan := bp[jr*kc : (jr+nr)*kc]
					for ir := 0; ir < mc; ir += mr {
						mrr := min(mr, mc-ir)
						apan := ap[ir*kc : (ir+mr)*kc]
						ci := (ic+ir)*ldc + jc + jr
						if mrr == mr && nrr == nr {
							kern.fn(kc, apan, bpan, c[ci:], ldc, bet, load)
							continue
						}
						kern.fn(kc, apan, bpan, tile, nr, 0, false)
						mergeTile(tile, nr, mrr, nrr, c[ci:], ldc, bet, load)
					}
				}
			}
		}
	}
	workspaces.Put(ws)
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// scaleC sets C = beta*C, without reading C when beta is 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// mergeTile stores the top-left mrr×nrr corner of an mr×nr tile into C the way a kernel
// stores a full tile: C = tile (+ beta*C when load).
func mergeTile(tile []float32, nr, mrr, nrr int, c []float32, ldc int, beta float32, load bool) {
	for r := 0; r < mrr; r++ {
		src := tile[r*nr : r*nr+nrr]
		dst := c[r*ldc : r*ldc+nrr]
		if load {
			for j, v := range src {
				dst[j] = v + beta*dst[j]
			}
		} else {
			copy(dst, src)
		}
	}
}

// packA copies alpha*op(A)[ic:ic+mc, pc:pc+kc] into dst as row panels of height mr: panel q
// (rows ic+q*mr ...) starts at dst[q*mr*kc] and holds column p at [p*mr : p*mr+mr]; rows
// past mc are zero.
func packA(kern *microKernel, transA bool, mc, kc, mr int, alpha float32, a []float32, lda, ic, pc int, dst []float32) {
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : (ir+mr)*kc]
		if !transA && alpha == 1 && rows == 6 && kern.packA6 != nil {
			kern.packA6(kc, a[(ic+ir)*lda+pc:], lda, d)
			continue
		}
		if transA && alpha == 1 && rows == 6 && kern.packA6T != nil {
			kern.packA6T(kc, a[pc*lda+ic+ir:], lda, d)
			continue
		}
		if transA {
			// A stored k×m: column p of the panel is contiguous in row pc+p of A.
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir : (pc+p)*lda+ic+ir+rows]
				dp := d[p*mr : p*mr+mr]
				for r, v := range src {
					dp[r] = alpha * v
				}
				clear(dp[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(ic+ir+r)*lda+pc : (ic+ir+r)*lda+pc+kc]
			for p, v := range src {
				d[p*mr+r] = alpha * v
			}
		}
		for r := rows; r < mr; r++ {
			for p := 0; p < kc; p++ {
				d[p*mr+r] = 0
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as column panels of width nr: panel q
// (columns jc+q*nr ...) starts at dst[q*nr*kc] and holds row p at [p*nr : p*nr+nr]; columns
// past nc are zero.
func packB(kern *microKernel, transB bool, kc, nc int, b []float32, ldb, pc, jc int, dst []float32) {
	nr := kern.nr
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		if transB && cols == 16 && kern.packB16T != nil {
			kern.packB16T(kc, b[(jc+jr)*ldb+pc:], ldb, d)
			continue
		}
		if transB {
			// B stored n×k: column j of the panel is contiguous in row jc+jr+j of B.
			for j := 0; j < cols; j++ {
				src := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc]
				for p, v := range src {
					d[p*nr+j] = v
				}
			}
			for j := cols; j < nr; j++ {
				for p := 0; p < kc; p++ {
					d[p*nr+j] = 0
				}
			}
			continue
		}
		if cols == 16 && kern.packB16 != nil {
			kern.packB16(kc, b[pc*ldb+jc+jr:], ldb, d)
			continue
		}
		for p := 0; p < kc; p++ {
			o := (pc+p)*ldb + jc + jr
			dp := d[p*nr : p*nr+nr]
			copy(dp, b[o:o+cols])
			clear(dp[cols:])
		}
	}
}

// kernel4x4Go is the portable micro-kernel (see microKernel.fn) for a 4×4 tile.
func kernel4x4Go(kc int, a, b, c []float32, ldc int, beta float32, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a, b = a[:4*kc], b[:4*kc]
	for p := 0; p+4 <= len(a); p += 4 {
		ap, bp := a[p:p+4:p+4], b[p:p+4:p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0*ldc:0*ldc+4], c00, c01, c02, c03, beta, load)
	storeRow4(c[1*ldc:1*ldc+4], c10, c11, c12, c13, beta, load)
	storeRow4(c[2*ldc:2*ldc+4], c20, c21, c22, c23, beta, load)
	storeRow4(c[3*ldc:3*ldc+4], c30, c31, c32, c33, beta, load)
}

func storeRow4(c []float32, v0, v1, v2, v3, beta float32, load bool) {
	c = c[:4]
	if load {
		v0 += beta * c[0]
		v1 += beta * c[1]
		v2 += beta * c[2]
		v3 += beta * c[3]
	}
	c[0], c[1], c[2], c[3] = v0, v1, v2, v3
}
