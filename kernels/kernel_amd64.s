// AVX2+FMA micro-kernel of the blocked SGEMM (see sgemm.go) and the CPUID/XGETBV probes that
// decide whether it may run. Hand-written; amd64 only.

#include "textflag.h"

// FMAROW multiplies the 16 packed B values in Y12:Y13 by A value number off (a byte offset in
// SI) and adds the product to the accumulator pair lo:hi.
#define FMAROW(off, lo, hi) \
	VBROADCASTSS off(SI), Y14 \
	VFMADD231PS  Y12, Y14, lo \
	VFMADD231PS  Y13, Y14, hi

// STEP does one rank-1 update of the 6×16 accumulators Y0..Y11 with column p of the A panel
// (6 floats at SI+aoff) and row p of the B panel (16 floats at DI+boff).
#define STEP(aoff, boff) \
	VMOVUPS boff(DI), Y12 \
	VMOVUPS boff+32(DI), Y13 \
	FMAROW(aoff, Y0, Y1) \
	FMAROW(aoff+4, Y2, Y3) \
	FMAROW(aoff+8, Y4, Y5) \
	FMAROW(aoff+12, Y6, Y7) \
	FMAROW(aoff+16, Y8, Y9) \
	FMAROW(aoff+20, Y10, Y11)

// STOREROW writes accumulator pair lo:hi to the 16 floats at DX, after adding beta (Y12) times
// their old value when R9 != 0, and advances DX by one row (R8 bytes).
#define STOREROW(lo, hi) \
	TESTQ R9, R9 \
	JZ    3(PC) \
	VFMADD231PS (DX), Y12, lo \
	VFMADD231PS 32(DX), Y12, hi \
	VMOVUPS lo, (DX) \
	VMOVUPS hi, 32(DX) \
	ADDQ R8, DX

// func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, beta float32, load int)
//
// C[0:6, 0:16] = A·B (+ beta*C when load != 0), where A is a packed 6×kc panel (column p at
// a[6p:6p+6]), B a packed kc×16 panel (row p at b[16p:16p+16]) and C row-major with row
// stride ldc floats. kc >= 0. Registers: Y0..Y11 accumulators (row r in Y(2r):Y(2r+1)),
// Y12:Y13 the B row, Y14 the broadcast A value; Y15 is not used.
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	MOVQ load+48(FP), R9
	SHLQ $2, R8

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

	// Four steps per iteration, then the remaining kc%4 one at a time.
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
	VBROADCASTSS beta+40(FP), Y12
	STOREROW(Y0, Y1)
	STOREROW(Y2, Y3)
	STOREROW(Y4, Y5)
	STOREROW(Y6, Y7)
	STOREROW(Y8, Y9)
	STOREROW(Y10, Y11)
	VZEROUPPER
	RET

// func packB16AVX(kc int, b *float32, ldb int, dst *float32)
//
// Copies kc rows of 16 floats, b[p*ldb : p*ldb+16] for p < kc, to dst[16p : 16p+16]: one
// packed B panel of the AVX2 kernel from a row-major B.
TEXT ·packB16AVX(SB), NOSPLIT, $0-32
	MOVQ kc+0(FP), CX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	TESTQ CX, CX
	JZ   done

packloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ R8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  packloop

done:
	VZEROUPPER
	RET
