package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernel6x16AVX2 is the AVX2+FMA micro-kernel (kernel_amd64.s): C[0:6, 0:16] = A·B, plus
// beta*C when load != 0, for a packed 6×kc A panel and a packed kc×16 B panel; C has row
// stride ldc floats.
//
//go:noescape
func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, beta float32, load int)

// packB16AVX copies kc rows of 16 floats, b[p*ldb:p*ldb+16], to dst[16p:16p+16].
//
//go:noescape
func packB16AVX(kc int, b *float32, ldb int, dst *float32)

// dotNTAVX and axpyNNAVX are the AVX2+FMA small-M kernels (small_amd64.s; see
// microKernel.dotNT and axpyNN); load is 0 or 1.
//
//go:noescape
func dotNTAVX(k int, a, b *float32, ldb, n int, c *float32, alpha, beta float32, load int)

//go:noescape
func dotNT2AVX(k int, a *float32, lda int, b *float32, ldb, n int, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func axpyRowsAVX(rows, n int, a, b *float32, ldb int, acc, c *float32, alpha, beta float32, flags int)

//go:noescape
func axpyNNAVX(k int, a, b *float32, ldb, n int, c *float32, alpha, beta float32, load int)

// hasAVX2FMA reports whether the CPU has AVX2 and FMA and the OS saves YMM state.
func hasAVX2FMA() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// avx2Kernel is the 6×16 AVX2+FMA micro-kernel with its cache blocking: a 6×256 A
// micro-panel and a 256×16 B micro-panel (16 KiB, L1), an MC×KC = 144×256 A block (144 KiB,
// L2: 512 KiB per core on the Zen 3 it was written on) and a KC×NC = 256×4080 B block (L3).
// The sizes follow BLIS's Haswell/Zen choices; they are not tuned by search yet.
var avx2Kernel = &microKernel{
	name: "avx2",
	mr:   6, nr: 16,
	mc: 144, kc: 256, nc: 4080,
	fnEp:         kernel6x16Ep,
	packA6:       packA6,
	packA6T:      packA6T,
	packB16T:     packB16T,
	packGather16: packGather16,
	packRows16:   packRows16,
	packB16: func(kc int, b []float32, ldb int, dst []float32) {
		_ = b[(kc-1)*ldb+15]
		_ = dst[16*kc-1]
		packB16AVX(kc, unsafe.SliceData(b), ldb, unsafe.SliceData(dst))
	},
	fn: func(kc int, a, b, c []float32, ldc int, beta float32, load bool) {
		// The driver passes panels of exactly 6*kc and 16*kc floats and a C with at
		// least 5*ldc+16 floats: the assembly reads and writes only those.
		_ = a[6*kc-1]
		_ = b[16*kc-1]
		_ = c[5*ldc+15]
		l := 0
		if load {
			l = 1
		}
		kernel6x16AVX2(kc, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, beta, l)
	},
	dotNT: func(k int, a, b []float32, ldb, n int, c []float32, alpha, beta float32, load bool) {
		// The assembly reads a[:k], rows j < n of B (k floats each) and c[:n] only.
		_ = a[k-1]
		_ = b[(n-1)*ldb+k-1]
		_ = c[n-1]
		dotNTAVX(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, n, unsafe.SliceData(c), alpha, beta, boolInt(load))
	},
	axpyNN: func(k int, a, b []float32, ldb, n int, c []float32, alpha, beta float32, load bool) {
		// The assembly reads a[:k], b[p*ldb : p*ldb+n] for p < k and c[:n] only.
		_ = a[k-1]
		_ = b[(k-1)*ldb+n-1]
		_ = c[n-1]
		axpyNNAVX(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, n, unsafe.SliceData(c), alpha, beta, boolInt(load))
	},
	dotNT2: func(k int, a []float32, lda int, b []float32, ldb, n int, c []float32, ldc int, alpha, beta float32, load bool) {
		// The assembly reads a[i*lda : i*lda+k] for i < 2, rows j < n of B (k floats each)
		// and c[i*ldc : i*ldc+n] for i < 2, and writes those of C.
		_ = a[lda+k-1]
		_ = b[(n-1)*ldb+k-1]
		_ = c[ldc+n-1]
		dotNT2AVX(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), ldb, n, unsafe.SliceData(c), ldc, alpha, beta, boolInt(load))
	},
	axpyRows: func(rows, n int, a, b []float32, ldb int, acc, c []float32, alpha, beta float32, flags int) {
		// The assembly reads a[:rows], b[r*ldb : r*ldb+n] for r < rows, acc[:n] and c[:n]
		// only, and writes acc[:n] or c[:n].
		if rows != 1 && rows != 4 {
			panic("kernels: axpyRows: rows must be 1 or 4")
		}
		_ = a[rows-1]
		_ = b[(rows-1)*ldb+n-1]
		_ = acc[n-1]
		_ = c[n-1]
		axpyRowsAVX(rows, n, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(acc), unsafe.SliceData(c), alpha, beta, flags)
	},
}

// simdKernels lists the SIMD micro-kernels this CPU can run, best first.
func simdKernels() []*microKernel {
	if hasAVX2FMA() {
		return []*microKernel{avx2Kernel}
	}
	return nil
}
