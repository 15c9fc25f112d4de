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
}

// simdKernels lists the SIMD micro-kernels this CPU can run, best first.
func simdKernels() []*microKernel {
	if hasAVX2FMA() {
		return []*microKernel{avx2Kernel}
	}
	return nil
}
