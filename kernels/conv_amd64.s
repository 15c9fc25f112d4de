// AVX2+FMA kernels of the implicit-GEMM convolution (conv.go): the 6×16 micro-kernel with a
// fused epilogue (bias, Relu) and the packing of B panels straight from the image by masked
// gathers. Hand-written; amd64 only.

#include "textflag.h"

// FMAROW and STEP are as in kernel_amd64.s: one rank-1 update of the 6×16 accumulators
// Y0..Y11 with column p of the A panel (SI+aoff) and row p of the B panel (DI+boff).
#define FMAROW(off, lo, hi) \
	VBROADCASTSS off(SI), Y14 \
	VFMADD231PS  Y12, Y14, lo \
	VFMADD231PS  Y13, Y14, hi

#define STEP(aoff, boff) \
	VMOVUPS boff(DI), Y12 \
	VMOVUPS boff+32(DI), Y13 \
	FMAROW(aoff, Y0, Y1) \
	FMAROW(aoff+4, Y2, Y3) \
	FMAROW(aoff+8, Y4, Y5) \
	FMAROW(aoff+12, Y6, Y7) \
	FMAROW(aoff+16, Y8, Y9) \
	FMAROW(aoff+20, Y10, Y11)

// EPROW finishes accumulator pair lo:hi of row number row and stores it to the 16 floats at
// DX, then advances DX by one row (R8 bytes). Flags in R9: bit 0 adds the old C, bit 1 adds
// bias[row] (R10 points at bias[0]), bit 2 applies Relu as max(x, 0) with NaN kept (the
// blend puts x back where x is unordered). Y15 holds zero; Y12..Y14 are scratch.
#define EPROW(row, lo, hi) \
	TESTQ $1, R9 \
	JZ    3(PC) \
	VADDPS (DX), lo, lo \
	VADDPS 32(DX), hi, hi \
	TESTQ $2, R9 \
	JZ    4(PC) \
	VBROADCASTSS (row*4)(R10), Y12 \
	VADDPS Y12, lo, lo \
	VADDPS Y12, hi, hi \
	TESTQ $4, R9 \
	JZ    7(PC) \
	VMAXPS Y15, lo, Y12 \
	VCMPPS $3, lo, lo, Y13 \
	VBLENDVPS Y13, lo, Y12, lo \
	VMAXPS Y15, hi, Y12 \
	VCMPPS $3, hi, hi, Y13 \
	VBLENDVPS Y13, hi, Y12, hi \
	VMOVUPS lo, (DX) \
	VMOVUPS hi, 32(DX) \
	ADDQ R8, DX

// func kernel6x16EpAVX2(kc int, a, b, c *float32, ldc int, bias *float32, flags, rows int)
//
// C[0:rows, 0:16] = ep(A·B) for a packed 6×kc A panel and a packed kc×16 B panel (layouts as
// in kernel6x16AVX2), where ep adds the old C (flags&1), bias[r] to row r (flags&2) and
// applies Relu (flags&4), in that order. Only the first rows (1 to 6) rows of C are
// touched (prefetched, read, written), and bias[:rows] read; the products of the other rows
// are computed and dropped. The C rows are prefetched first, so that their loads overlap the
// products. kc >= 0; bias is read only when flags&2.
TEXT ·kernel6x16EpAVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	MOVQ bias+40(FP), R10
	MOVQ flags+48(FP), R9
	SHLQ $2, R8

	MOVQ rows+56(FP), R12
	MOVQ DX, R11
	MOVQ R12, R13
prefetch:
	PREFETCHT0 (R11)
	PREFETCHT0 60(R11)
	ADDQ R8, R11
	DECQ R13
	JNZ  prefetch

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	ANDQ $3, CX
	TESTQ BX, BX
	JZ   tail

loop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    store

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

store:
	VXORPS Y15, Y15, Y15
	EPROW(0, Y0, Y1)
	CMPQ R12, $1
	JLE  epdone
	EPROW(1, Y2, Y3)
	CMPQ R12, $2
	JLE  epdone
	EPROW(2, Y4, Y5)
	CMPQ R12, $3
	JLE  epdone
	EPROW(3, Y6, Y7)
	CMPQ R12, $4
	JLE  epdone
	EPROW(4, Y8, Y9)
	CMPQ R12, $5
	JLE  epdone
	EPROW(5, Y10, Y11)

epdone:
	VZEROUPPER
	RET

// GATHER8 packs 8 lanes of one B row: lanes whose image row (colH+rowH, in Y12) and column
// (colW+rowW, in Y13) are inside [0, inH) × [0, inW) read img[colIdx+rowOff], the others
// read 0; the 8 floats are stored at off(DI). Y8 is all ones (-1), Y6/Y7 hold inH/inW;
// Y14, Y15 are scratch; Y12 and Y13 are consumed.
#define GATHER8(colIdx, off) \
	VPCMPGTD Y8, Y12, Y14 \
	VPCMPGTD Y12, Y6, Y15 \
	VPAND    Y15, Y14, Y14 \
	VPCMPGTD Y8, Y13, Y15 \
	VPAND    Y15, Y14, Y14 \
	VPCMPGTD Y13, Y7, Y15 \
	VPAND    Y15, Y14, Y14 \
	VPADDD   colIdx, Y9, Y12 \
	VXORPS   Y13, Y13, Y13 \
	VGATHERDPS Y14, (SI)(Y12*4), Y13 \
	VMOVUPS  Y13, off(DI)

// func packGather16AVX2(kc int, img *float32, rows *int32, cols *int32, inH, inW int32, dst *float32)
//
// Packs one 16-wide B panel of the implicit im2col: for p < kc and lane j < 16,
// dst[16p+j] = img[cols[j] + rows[3p]] if 0 <= cols[16+j]+rows[3p+1] < inH and
// 0 <= cols[32+j]+rows[3p+2] < inW, else 0. rows holds (offset, row, column) of each tap
// (3 int32 per B row); cols holds the 16 lanes' image offsets, rows and columns (48 int32).
// Lanes outside the image are never read (masked gather).
TEXT ·packGather16AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ img+8(FP), SI
	MOVQ rows+16(FP), R10
	MOVQ cols+24(FP), R11
	MOVQ dst+40(FP), DI
	VMOVDQU (R11), Y0
	VMOVDQU 32(R11), Y1
	VMOVDQU 64(R11), Y2
	VMOVDQU 96(R11), Y3
	VMOVDQU 128(R11), Y4
	VMOVDQU 160(R11), Y5
	MOVL inH+32(FP), AX
	MOVL inW+36(FP), BX
	VMOVD AX, X6
	VMOVD BX, X7
	VPBROADCASTD X6, Y6
	VPBROADCASTD X7, Y7
	VPCMPEQD Y8, Y8, Y8
	TESTQ CX, CX
	JZ   gdone

gloop:
	VPBROADCASTD (R10), Y9
	VPBROADCASTD 4(R10), Y10
	VPBROADCASTD 8(R10), Y11
	VPADDD Y2, Y10, Y12
	VPADDD Y4, Y11, Y13
	GATHER8(Y0, 0)
	VPADDD Y3, Y10, Y12
	VPADDD Y5, Y11, Y13
	GATHER8(Y1, 32)
	ADDQ $12, R10
	ADDQ $64, DI
	DECQ CX
	JNZ  gloop

gdone:
	VZEROUPPER
	RET

// func packRows16AVX(kc int, img *float32, rows *int32, base int, dst *float32)
//
// Packs one 16-wide B panel whose 16 lanes read 16 consecutive image elements for every tap
// (an interior panel of a stride-1 convolution): dst[16p : 16p+16] = img[base+rows[3p] :
// base+rows[3p]+16] for p < kc.
TEXT ·packRows16AVX(SB), NOSPLIT, $0-40
	MOVQ kc+0(FP), CX
	MOVQ img+8(FP), SI
	MOVQ rows+16(FP), R10
	MOVQ base+24(FP), AX
	MOVQ dst+32(FP), DI
	LEAQ (SI)(AX*4), SI
	TESTQ CX, CX
	JZ   rdone

rloop:
	MOVLQSX (R10), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $12, R10
	ADDQ $64, DI
	DECQ CX
	JNZ  rloop

rdone:
	VZEROUPPER
	RET

// func packA6AVX(kc8 int, a *float32, lda int, dst *float32)
//
// Packs the first 8*kc8 columns of a 6-row block of a row-major A (row r at a[r*lda:]) as
// the micro-kernel's A panel: dst[6p+r] = a[r*lda+p] for p < 8*kc8, r < 6. Each group of 8
// columns is transposed in registers (rows 6 and 7 of the 8×8 transpose are zero) and
// stored as 8 overlapping 8-float stores of 6 useful floats, in increasing address order,
// the last one narrowed to 6 floats so nothing past the 48 floats is written.
TEXT ·packA6AVX(SB), NOSPLIT, $0-32
	MOVQ kc8+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	VXORPS Y15, Y15, Y15
	TESTQ CX, CX
	JZ   adone

aloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(R8*1), Y4
	VMOVUPS (R9)(R8*2), Y5
	VUNPCKLPS Y1, Y0, Y6
	VUNPCKHPS Y1, Y0, Y7
	VUNPCKLPS Y3, Y2, Y8
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10
	VUNPCKHPS Y5, Y4, Y11
	VSHUFPS $0x44, Y8, Y6, Y0
	VSHUFPS $0xEE, Y8, Y6, Y1
	VSHUFPS $0x44, Y9, Y7, Y2
	VSHUFPS $0xEE, Y9, Y7, Y3
	VSHUFPS $0x44, Y15, Y10, Y4
	VSHUFPS $0xEE, Y15, Y10, Y5
	VSHUFPS $0x44, Y15, Y11, Y6
	VSHUFPS $0xEE, Y15, Y11, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VMOVUPS Y8, (DI)
	VPERM2F128 $0x20, Y5, Y1, Y8
	VMOVUPS Y8, 24(DI)
	VPERM2F128 $0x20, Y6, Y2, Y8
	VMOVUPS Y8, 48(DI)
	VPERM2F128 $0x20, Y7, Y3, Y8
	VMOVUPS Y8, 72(DI)
	VPERM2F128 $0x31, Y4, Y0, Y8
	VMOVUPS Y8, 96(DI)
	VPERM2F128 $0x31, Y5, Y1, Y8
	VMOVUPS Y8, 120(DI)
	VPERM2F128 $0x31, Y6, Y2, Y8
	VMOVUPS Y8, 144(DI)
	VPERM2F128 $0x31, Y7, Y3, Y8
	VMOVUPS X8, 168(DI)
	VEXTRACTF128 $1, Y8, X9
	VMOVSD X9, 184(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $192, DI
	DECQ CX
	JNZ  aloop

adone:
	VZEROUPPER
	RET

// func packA6TAVX(kc int, a *float32, lda int, dst *float32)
//
// Packs a 6-column block of a row-major A stored k×m (the transA case: column p of the panel
// is contiguous in row p of A) with alpha 1: dst[6p+r] = a[p*lda+r] for p < kc, r < 6.
TEXT ·packA6TAVX(SB), NOSPLIT, $0-32
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	TESTQ CX, CX
	JZ   tdone

tloop:
	VMOVUPS (SI), X0
	VMOVSD  16(SI), X1
	VMOVUPS X0, (DI)
	VMOVSD  X1, 16(DI)
	ADDQ R8, SI
	ADDQ $24, DI
	DECQ CX
	JNZ  tloop

tdone:
	RET

// func packB8TAVX(kc8 int, b *float32, ldb int, dst *float32)
//
// Packs 8 lanes of a 16-wide B panel from a B stored n×k (the transB case: lane j of the
// panel is contiguous in row j of B): dst[16p+j] = b[j*ldb+p] for j < 8, p < 8*kc8. Each
// group of 8 columns is an 8×8 transpose in registers.
TEXT ·packB8TAVX(SB), NOSPLIT, $0-32
	MOVQ kc8+0(FP), CX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	LEAQ (SI)(R8*4), R10
	LEAQ (R10)(R8*2), R11
	ADDQ R8, R11
	TESTQ CX, CX
	JZ   bdone

bloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R10), Y4
	VMOVUPS (R10)(R8*1), Y5
	VMOVUPS (R10)(R8*2), Y6
	VMOVUPS (R11), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VMOVUPS Y8, (DI)
	VPERM2F128 $0x20, Y5, Y1, Y8
	VMOVUPS Y8, 64(DI)
	VPERM2F128 $0x20, Y6, Y2, Y8
	VMOVUPS Y8, 128(DI)
	VPERM2F128 $0x20, Y7, Y3, Y8
	VMOVUPS Y8, 192(DI)
	VPERM2F128 $0x31, Y4, Y0, Y8
	VMOVUPS Y8, 256(DI)
	VPERM2F128 $0x31, Y5, Y1, Y8
	VMOVUPS Y8, 320(DI)
	VPERM2F128 $0x31, Y6, Y2, Y8
	VMOVUPS Y8, 384(DI)
	VPERM2F128 $0x31, Y7, Y3, Y8
	VMOVUPS Y8, 448(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $512, DI
	DECQ CX
	JNZ  bloop

bdone:
	VZEROUPPER
	RET
