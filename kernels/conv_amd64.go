package kernels

import "unsafe"

// kernel6x16EpAVX2 is the AVX2+FMA micro-kernel with the convolution's epilogue
// (conv_amd64.s; see microKernel.fnEp); bias is read only when flags&epBias.
//
//go:noescape
func kernel6x16EpAVX2(kc int, a, b, c *float32, ldc int, bias *float32, flags, rows int)

// packGather16AVX2 packs one 16-wide panel of the implicit im2col by masked gathers
// (conv_amd64.s; see microKernel.packGather16).
//
//go:noescape
func packGather16AVX2(kc int, img *float32, rows *int32, cols *int32, inH, inW int32, dst *float32)

// packRows16AVX packs one 16-wide panel whose taps each read 16 consecutive image elements
// (conv_amd64.s; see microKernel.packRows16).
//
//go:noescape
func packRows16AVX(kc int, img *float32, rows *int32, base int, dst *float32)

// packA6AVX packs 8*kc8 columns of a 6-row block of a row-major A as an A panel
// (conv_amd64.s; see microKernel.packA6).
//
//go:noescape
func packA6AVX(kc8 int, a *float32, lda int, dst *float32)

func packA6(kc int, a []float32, lda int, dst []float32) {
	kc8 := kc / 8
	if kc8 > 0 {
		// The assembly reads a[r*lda : r*lda+8*kc8] for r < 6 and writes dst[:48*kc8].
		_ = a[5*lda+8*kc8-1]
		_ = dst[48*kc8-1]
		packA6AVX(kc8, unsafe.SliceData(a), lda, unsafe.SliceData(dst))
	}
	for p := 8 * kc8; p < kc; p++ {
		d := dst[6*p : 6*p+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = a[p], a[lda+p], a[2*lda+p], a[3*lda+p], a[4*lda+p], a[5*lda+p]
	}
}

// packA6TAVX packs a 6-wide block of a transposed A as an A panel (conv_amd64.s; see
// microKernel.packA6T).
//
//go:noescape
func packA6TAVX(kc int, a *float32, lda int, dst *float32)

func packA6T(kc int, a []float32, lda int, dst []float32) {
	// The assembly reads a[p*lda : p*lda+6] for p < kc and writes dst[:6kc].
	_ = a[(kc-1)*lda+5]
	_ = dst[6*kc-1]
	packA6TAVX(kc, unsafe.SliceData(a), lda, unsafe.SliceData(dst))
}

// packB8TAVX packs 8 lanes of a 16-wide B panel from a transposed B (conv_amd64.s; see
// microKernel.packB16T).
//
//go:noescape
func packB8TAVX(kc8 int, b *float32, ldb int, dst *float32)

func packB16T(kc int, b []float32, ldb int, dst []float32) {
	kc8 := kc / 8
	if kc8 > 0 {
		// The assembly reads b[j*ldb : j*ldb+8*kc8] for j < 16 and writes dst[:16*8*kc8].
		_ = b[15*ldb+8*kc8-1]
		_ = dst[128*kc8-1]
		packB8TAVX(kc8, unsafe.SliceData(b), ldb, unsafe.SliceData(dst))
		packB8TAVX(kc8, unsafe.SliceData(b[8*ldb:]), ldb, unsafe.SliceData(dst[8:]))
	}
	for p := 8 * kc8; p < kc; p++ {
		d := dst[16*p : 16*p+16]
		for j := range d {
			d[j] = b[j*ldb+p]
		}
	}
}

func kernel6x16Ep(kc int, a, b, c []float32, ldc int, bias []float32, flags, rows int) {
	// The driver passes panels of exactly 6*kc and 16*kc floats, a C with at least
	// (rows-1)*ldc+16 floats and, with epBias, rows bias values: the assembly touches only
	// those.
	if rows < 1 || rows > 6 {
		panic("kernels: kernel6x16Ep: rows must be 1 to 6")
	}
	_ = a[6*kc-1]
	_ = b[16*kc-1]
	_ = c[(rows-1)*ldc+15]
	bp := (*float32)(nil)
	if flags&epBias != 0 {
		_ = bias[rows-1]
		bp = unsafe.SliceData(bias)
	}
	kernel6x16EpAVX2(kc, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, bp, flags, rows)
}

func packGather16(kc int, img []float32, rows, lanes []int32, inH, inW int32, dst []float32) {
	// The assembly reads rows[:3kc], lanes[:48] and only image elements at valid lanes,
	// whose offsets conv's tables keep inside img (checked against ImageLen by Conv), and
	// writes dst[:16kc].
	_ = rows[3*kc-1]
	_ = lanes[47]
	_ = dst[16*kc-1]
	packGather16AVX2(kc, unsafe.SliceData(img), unsafe.SliceData(rows), unsafe.SliceData(lanes), inH, inW, unsafe.SliceData(dst))
}

func packRows16(kc int, img []float32, rows []int32, base int, dst []float32) {
	// The caller has checked that img[base+rows[3p] : base+rows[3p]+16] is inside the image
	// for every tap p.
	_ = rows[3*kc-1]
	_ = dst[16*kc-1]
	packRows16AVX(kc, unsafe.SliceData(img), unsafe.SliceData(rows), base, unsafe.SliceData(dst))
}
