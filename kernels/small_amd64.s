// AVX2+FMA kernels of the small-M path (see small.go): a row of C from one row of op(A) and
// a B that is not packed. Hand-written; amd64 only.
//
// Every element of C goes through the same sequence of operations whichever loop (4 rows of
// B at a time or 1; 64, 32, 16 or 8 columns at a time or a masked tail) computes it, so the
// result does not depend on how the driver cuts n (chunks, SgemmParallel's bands).

#include "textflag.h"

// smallMask<>: 8 all-ones lanes then 8 zero lanes. The 8 floats at smallMask<>+32-4r have
// their first r lanes set: the VMASKMOVPS mask of an r-element tail.
DATA smallMask<>+0(SB)/4, $0xffffffff
DATA smallMask<>+4(SB)/4, $0xffffffff
DATA smallMask<>+8(SB)/4, $0xffffffff
DATA smallMask<>+12(SB)/4, $0xffffffff
DATA smallMask<>+16(SB)/4, $0xffffffff
DATA smallMask<>+20(SB)/4, $0xffffffff
DATA smallMask<>+24(SB)/4, $0xffffffff
DATA smallMask<>+28(SB)/4, $0xffffffff
DATA smallMask<>+32(SB)/4, $0
DATA smallMask<>+36(SB)/4, $0
DATA smallMask<>+40(SB)/4, $0
DATA smallMask<>+44(SB)/4, $0
DATA smallMask<>+48(SB)/4, $0
DATA smallMask<>+52(SB)/4, $0
DATA smallMask<>+56(SB)/4, $0
DATA smallMask<>+60(SB)/4, $0
GLOBL smallMask<>(SB), RODATA|NOPTR, $64

// func dotNTAVX(k int, a, b *float32, ldb, n int, c *float32, alpha, beta float32, load int)
//
// c[j] = alpha * dot(a[0:k], b[j*ldb : j*ldb+k]) (+ beta*c[j] when load != 0) for j < n:
// one row of C = alpha*A·Bᵀ with B stored n×k. k >= 1, n >= 0.
//
// Per dot product: two 8-lane accumulators take 16 elements a step (acc0 the first 8, acc1
// the next 8); a remaining 8 go to acc0, a remaining k%8 (masked loads) to acc1; then
// acc0+acc1, low half + high half, and (l0+l1)+(l2+l3). Four rows of B run together (8
// accumulators), the last n%4 one by one with the same operations.
//
// Registers: SI a, R10..R13 rows of B, R8 ldb in bytes, R9 rows left, DX c, AX load, BX byte
// offset into the rows, R14 bytes covered by 16-element steps, CX k; Y0..Y7 accumulators
// (row r in Y(2r):Y(2r+1)), Y8 Y9 A, Y12 alpha, Y13 beta, Y15 tail mask.
TEXT ·dotNTAVX(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R10
	MOVQ ldb+24(FP), R8
	MOVQ n+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ load+56(FP), AX
	SHLQ $2, R8
	VBROADCASTSS alpha+48(FP), Y12
	VBROADCASTSS beta+52(FP), Y13

	MOVQ CX, R14
	ANDQ $-16, R14
	SHLQ $2, R14

	// Y15 = mask of the k%8 tail.
	MOVQ  CX, BX
	ANDQ  $7, BX
	SHLQ  $2, BX
	LEAQ  smallMask<>+32(SB), DI
	SUBQ  BX, DI
	VMOVUPS (DI), Y15

	CMPQ R9, $4
	JLT  single

group4:
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ BX, BX
	CMPQ BX, R14
	JGE  g4tail8

g4loop:
	VMOVUPS (SI)(BX*1), Y8
	VMOVUPS 32(SI)(BX*1), Y9
	VFMADD231PS (R10)(BX*1), Y8, Y0
	VFMADD231PS 32(R10)(BX*1), Y9, Y1
	VFMADD231PS (R11)(BX*1), Y8, Y2
	VFMADD231PS 32(R11)(BX*1), Y9, Y3
	VFMADD231PS (R12)(BX*1), Y8, Y4
	VFMADD231PS 32(R12)(BX*1), Y9, Y5
	VFMADD231PS (R13)(BX*1), Y8, Y6
	VFMADD231PS 32(R13)(BX*1), Y9, Y7
	ADDQ $64, BX
	CMPQ BX, R14
	JLT  g4loop

g4tail8:
	TESTQ $8, CX
	JZ    g4tailmask
	VMOVUPS (SI)(BX*1), Y8
	VFMADD231PS (R10)(BX*1), Y8, Y0
	VFMADD231PS (R11)(BX*1), Y8, Y2
	VFMADD231PS (R12)(BX*1), Y8, Y4
	VFMADD231PS (R13)(BX*1), Y8, Y6
	ADDQ $32, BX

g4tailmask:
	TESTQ $7, CX
	JZ    g4reduce
	VMASKMOVPS (SI)(BX*1), Y15, Y8
	VMASKMOVPS (R10)(BX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y1
	VMASKMOVPS (R11)(BX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y3
	VMASKMOVPS (R12)(BX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y5
	VMASKMOVPS (R13)(BX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y7

g4reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VEXTRACTF128 $1, Y2, X3
	VADDPS X3, X2, X2
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VEXTRACTF128 $1, Y6, X7
	VADDPS X7, X6, X6
	VHADDPS X2, X0, X0
	VHADDPS X6, X4, X4
	VHADDPS X4, X0, X0
	VMULPS X12, X0, X0
	TESTQ AX, AX
	JZ    g4store
	VFMADD231PS (DX), X13, X0

g4store:
	VMOVUPS X0, (DX)
	ADDQ $16, DX
	LEAQ (R13)(R8*1), R10
	SUBQ $4, R9
	CMPQ R9, $4
	JGE  group4

single:
	TESTQ R9, R9
	JZ    done

row1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ BX, BX
	CMPQ BX, R14
	JGE  r1tail8

r1loop:
	VMOVUPS (SI)(BX*1), Y8
	VMOVUPS 32(SI)(BX*1), Y9
	VFMADD231PS (R10)(BX*1), Y8, Y0
	VFMADD231PS 32(R10)(BX*1), Y9, Y1
	ADDQ $64, BX
	CMPQ BX, R14
	JLT  r1loop

r1tail8:
	TESTQ $8, CX
	JZ    r1tailmask
	VMOVUPS (SI)(BX*1), Y8
	VFMADD231PS (R10)(BX*1), Y8, Y0
	ADDQ $32, BX

r1tailmask:
	TESTQ $7, CX
	JZ    r1reduce
	VMASKMOVPS (SI)(BX*1), Y15, Y8
	VMASKMOVPS (R10)(BX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y1

r1reduce:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMULSS X12, X0, X0
	TESTQ AX, AX
	JZ    r1store
	VFMADD231SS (DX), X13, X0

r1store:
	VMOVSS X0, (DX)
	ADDQ $4, DX
	ADDQ R8, R10
	DECQ R9
	JNZ  row1

done:
	VZEROUPPER
	RET

// AXSTORE finishes accumulator acc for the 8 floats at off(DX): acc = alpha*acc (Y12), plus
// beta (Y13) times the old value when AX != 0, stored.
#define AXSTORE(acc, off) \
	VMULPS Y12, acc, acc \
	TESTQ AX, AX \
	JZ    2(PC) \
	VFMADD231PS off(DX), Y13, acc \
	VMOVUPS acc, off(DX)

// func axpyNNAVX(k int, a, b *float32, ldb, n int, c *float32, alpha, beta float32, load int)
//
// c[j] = alpha * sum_p a[p]*b[p*ldb+j] (+ beta*c[j] when load != 0) for j < n: one row of
// C = alpha*A·B with B stored k×n. k >= 1, n >= 0.
//
// Per element: acc = 0; acc = fma(a[p], b[p, j], acc) for p = 0, 1, ...; then alpha*acc and
// the beta term. Columns go 64 at a time (8 accumulators), then 32, 16 and 8, then a masked
// tail of n%8.
//
// Registers: SI a, R10 the column strip of B, DI down its rows, R8 ldb in bytes, R9 columns
// left, DX c, AX load, BX p, CX k; Y0..Y7 accumulators, Y12 alpha, Y13 beta, Y14 tail mask,
// Y15 the broadcast a[p].
TEXT ·axpyNNAVX(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R10
	MOVQ ldb+24(FP), R8
	MOVQ n+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ load+56(FP), AX
	SHLQ $2, R8
	VBROADCASTSS alpha+48(FP), Y12
	VBROADCASTSS beta+52(FP), Y13

	CMPQ R9, $64
	JLT  w32

w64:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ R10, DI
	XORQ BX, BX

w64loop:
	VBROADCASTSS (SI)(BX*4), Y15
	VFMADD231PS (DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	VFMADD231PS 64(DI), Y15, Y2
	VFMADD231PS 96(DI), Y15, Y3
	VFMADD231PS 128(DI), Y15, Y4
	VFMADD231PS 160(DI), Y15, Y5
	VFMADD231PS 192(DI), Y15, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ R8, DI
	INCQ BX
	CMPQ BX, CX
	JLT  w64loop

	AXSTORE(Y0, 0)
	AXSTORE(Y1, 32)
	AXSTORE(Y2, 64)
	AXSTORE(Y3, 96)
	AXSTORE(Y4, 128)
	AXSTORE(Y5, 160)
	AXSTORE(Y6, 192)
	AXSTORE(Y7, 224)
	ADDQ $256, R10
	ADDQ $256, DX
	SUBQ $64, R9
	CMPQ R9, $64
	JGE  w64

w32:
	CMPQ R9, $32
	JLT  w16
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ R10, DI
	XORQ BX, BX

w32loop:
	VBROADCASTSS (SI)(BX*4), Y15
	VFMADD231PS (DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	VFMADD231PS 64(DI), Y15, Y2
	VFMADD231PS 96(DI), Y15, Y3
	ADDQ R8, DI
	INCQ BX
	CMPQ BX, CX
	JLT  w32loop

	AXSTORE(Y0, 0)
	AXSTORE(Y1, 32)
	AXSTORE(Y2, 64)
	AXSTORE(Y3, 96)
	ADDQ $128, R10
	ADDQ $128, DX
	SUBQ $32, R9

w16:
	CMPQ R9, $16
	JLT  w8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R10, DI
	XORQ BX, BX

w16loop:
	VBROADCASTSS (SI)(BX*4), Y15
	VFMADD231PS (DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	ADDQ R8, DI
	INCQ BX
	CMPQ BX, CX
	JLT  w16loop

	AXSTORE(Y0, 0)
	AXSTORE(Y1, 32)
	ADDQ $64, R10
	ADDQ $64, DX
	SUBQ $16, R9

w8:
	CMPQ R9, $8
	JLT  wmask
	VXORPS Y0, Y0, Y0
	MOVQ R10, DI
	XORQ BX, BX

w8loop:
	VBROADCASTSS (SI)(BX*4), Y15
	VFMADD231PS (DI), Y15, Y0
	ADDQ R8, DI
	INCQ BX
	CMPQ BX, CX
	JLT  w8loop

	AXSTORE(Y0, 0)
	ADDQ $32, R10
	ADDQ $32, DX
	SUBQ $8, R9

wmask:
	TESTQ R9, R9
	JZ    axdone
	SHLQ  $2, R9
	LEAQ  smallMask<>+32(SB), DI
	SUBQ  R9, DI
	VMOVUPS (DI), Y14
	VXORPS Y0, Y0, Y0
	MOVQ R10, DI
	XORQ BX, BX

wmaskloop:
	VBROADCASTSS (SI)(BX*4), Y15
	VMASKMOVPS (DI), Y14, Y1
	VFMADD231PS Y1, Y15, Y0
	ADDQ R8, DI
	INCQ BX
	CMPQ BX, CX
	JLT  wmaskloop

	VMULPS Y12, Y0, Y0
	TESTQ AX, AX
	JZ    wmaskstore
	VMASKMOVPS (DX), Y14, Y1
	VFMADD231PS Y1, Y13, Y0

wmaskstore:
	VMASKMOVPS Y0, Y14, (DX)

axdone:
	VZEROUPPER
	RET

// ACCLOAD sets acc to 0 when AX bit 0 (first rows) is set, else to the 8 floats at off(DI).
#define ACCLOAD(acc, off) \
	VXORPS acc, acc, acc \
	TESTQ  $1, AX \
	JNZ    2(PC) \
	VMOVUPS off(DI), acc

// ACCSTORE stores acc to off(DI) unless AX bit 1 (last rows) is set; then it stores
// alpha*acc (Y12), plus beta (Y13) times the old value when AX bit 2 is set, to off(DX).
#define ACCSTORE(acc, off) \
	TESTQ  $2, AX \
	JNZ    3(PC) \
	VMOVUPS acc, off(DI) \
	JMP    6(PC) \
	VMULPS Y12, acc, acc \
	TESTQ  $4, AX \
	JZ     2(PC) \
	VFMADD231PS off(DX), Y13, acc \
	VMOVUPS acc, off(DX)

// ROWS4 adds a0*b0 + a1*b1 + a2*b2 + a3*b3 (in that order, one FMA each) to acc, with the
// B values at off in the four rows R10..R13 and a0..a3 broadcast in Y8..Y11.
#define ROWS4(acc, off) \
	VFMADD231PS off(R10), Y8, acc \
	VFMADD231PS off(R11), Y9, acc \
	VFMADD231PS off(R12), Y10, acc \
	VFMADD231PS off(R13), Y11, acc

// func axpyRowsAVX(rows, n int, a, b *float32, ldb int, acc, c *float32, alpha, beta float32, flags int)
//
// Streams rows (4 or 1) rows of a row-major B across all n columns: for j < n,
// x = (flags&1 ? 0 : acc[j]); x = fma(a[r], b[r*ldb+j], x) for r < rows; then acc[j] = x,
// or when flags&2 (the last rows) c[j] = alpha*x (+ beta*c[j] when flags&4). Called for rows
// 0, 4, 8, ... of B in turn, each element of C gets the same FMA sequence as in axpyNNAVX,
// reading B row by row (friendly to the TLB and the prefetcher when B is large).
//
// Registers: R10..R13 rows of B, DI acc, DX c, R9 columns left, R8 ldb in bytes, AX flags,
// Y8..Y11 a[0..3], Y12 alpha, Y13 beta, Y14 tail mask, Y0..Y3 values, Y4..Y7 B (tail).
TEXT ·axpyRowsAVX(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), CX
	MOVQ n+8(FP), R9
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), R10
	MOVQ ldb+32(FP), R8
	MOVQ acc+40(FP), DI
	MOVQ c+48(FP), DX
	MOVQ flags+64(FP), AX
	SHLQ $2, R8
	VBROADCASTSS alpha+56(FP), Y12
	VBROADCASTSS beta+60(FP), Y13
	CMPQ CX, $4
	JNE  rows1

	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VBROADCASTSS 0(SI), Y8
	VBROADCASTSS 4(SI), Y9
	VBROADCASTSS 8(SI), Y10
	VBROADCASTSS 12(SI), Y11

	CMPQ R9, $32
	JLT  r4w8

r4w32:
	ACCLOAD(Y0, 0)
	ACCLOAD(Y1, 32)
	ACCLOAD(Y2, 64)
	ACCLOAD(Y3, 96)
	ROWS4(Y0, 0)
	ROWS4(Y1, 32)
	ROWS4(Y2, 64)
	ROWS4(Y3, 96)
	ACCSTORE(Y0, 0)
	ACCSTORE(Y1, 32)
	ACCSTORE(Y2, 64)
	ACCSTORE(Y3, 96)
	ADDQ $128, R10
	ADDQ $128, R11
	ADDQ $128, R12
	ADDQ $128, R13
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $32, R9
	CMPQ R9, $32
	JGE  r4w32

r4w8:
	CMPQ R9, $8
	JLT  r4mask
	ACCLOAD(Y0, 0)
	ROWS4(Y0, 0)
	ACCSTORE(Y0, 0)
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, R9
	JMP  r4w8

r4mask:
	TESTQ R9, R9
	JZ    rowsdone
	SHLQ  $2, R9
	LEAQ  smallMask<>+32(SB), BX
	SUBQ  R9, BX
	VMOVUPS (BX), Y14
	VXORPS Y0, Y0, Y0
	TESTQ $1, AX
	JNZ   2(PC)
	VMASKMOVPS (DI), Y14, Y0
	VMASKMOVPS (R10), Y14, Y4
	VMASKMOVPS (R11), Y14, Y5
	VMASKMOVPS (R12), Y14, Y6
	VMASKMOVPS (R13), Y14, Y7
	VFMADD231PS Y4, Y8, Y0
	VFMADD231PS Y5, Y9, Y0
	VFMADD231PS Y6, Y10, Y0
	VFMADD231PS Y7, Y11, Y0
	JMP  maskstore

rows1:
	VBROADCASTSS 0(SI), Y8
	CMPQ R9, $32
	JLT  r1w8

r1w32:
	ACCLOAD(Y0, 0)
	ACCLOAD(Y1, 32)
	ACCLOAD(Y2, 64)
	ACCLOAD(Y3, 96)
	VFMADD231PS 0(R10), Y8, Y0
	VFMADD231PS 32(R10), Y8, Y1
	VFMADD231PS 64(R10), Y8, Y2
	VFMADD231PS 96(R10), Y8, Y3
	ACCSTORE(Y0, 0)
	ACCSTORE(Y1, 32)
	ACCSTORE(Y2, 64)
	ACCSTORE(Y3, 96)
	ADDQ $128, R10
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $32, R9
	CMPQ R9, $32
	JGE  r1w32

r1w8:
	CMPQ R9, $8
	JLT  r1mask
	ACCLOAD(Y0, 0)
	VFMADD231PS 0(R10), Y8, Y0
	ACCSTORE(Y0, 0)
	ADDQ $32, R10
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, R9
	JMP  r1w8

r1mask:
	TESTQ R9, R9
	JZ    rowsdone
	SHLQ  $2, R9
	LEAQ  smallMask<>+32(SB), BX
	SUBQ  R9, BX
	VMOVUPS (BX), Y14
	VXORPS Y0, Y0, Y0
	TESTQ $1, AX
	JNZ   2(PC)
	VMASKMOVPS (DI), Y14, Y0
	VMASKMOVPS (R10), Y14, Y4
	VFMADD231PS Y4, Y8, Y0

maskstore:
	TESTQ $2, AX
	JNZ   3(PC)
	VMASKMOVPS Y0, Y14, (DI)
	JMP   rowsdone
	VMULPS Y12, Y0, Y0
	TESTQ $4, AX
	JZ    3(PC)
	VMASKMOVPS (DX), Y14, Y1
	VFMADD231PS Y1, Y13, Y0
	VMASKMOVPS Y0, Y14, (DX)

rowsdone:
	VZEROUPPER
	RET

// func dotNT2AVX(k int, a *float32, lda int, b *float32, ldb, n int, c *float32, ldc int, alpha, beta float32, load int)
//
// dotNTAVX for two rows of A at once (a and a+lda; C rows c and c+ldc): c[i*ldc+j] =
// alpha*dot(a[i*lda : i*lda+k], b[j*ldb : j*ldb+k]) (+ beta*c[i*ldc+j] when load != 0) for
// i < 2, j < n. Each dot product goes through exactly the operations of dotNTAVX, so the
// bits are the same; each row of B is read once for both rows of A. Rows of B go two at a
// time, then the last n%2.
//
// Registers: SI, DI rows of A; R10, R11 rows of B; R8 ldb in bytes; R9 rows of B left; DX,
// R13 rows of C; AX load; BX byte offset; R14 bytes of 16-element steps; CX k. Y0..Y7
// accumulators: (A row 0, B row 0) Y0:Y1, (0, 1) Y2:Y3, (1, 0) Y4:Y5, (1, 1) Y6:Y7. Y8, Y9 A
// row 0; Y10, Y11 A row 1; Y12 alpha; Y13 beta; Y14 temporary; Y15 tail mask.
TEXT ·dotNT2AVX(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DI
	MOVQ b+24(FP), R10
	MOVQ ldb+32(FP), R8
	MOVQ n+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R13
	MOVQ load+72(FP), AX
	LEAQ (SI)(DI*4), DI
	LEAQ (DX)(R13*4), R13
	SHLQ $2, R8
	VBROADCASTSS alpha+64(FP), Y12
	VBROADCASTSS beta+68(FP), Y13

	MOVQ CX, R14
	ANDQ $-16, R14
	SHLQ $2, R14
	MOVQ  CX, BX
	ANDQ  $7, BX
	SHLQ  $2, BX
	LEAQ  smallMask<>+32(SB), R12
	SUBQ  BX, R12
	VMOVUPS (R12), Y15

	CMPQ R9, $2
	JLT  d2single

d2pair:
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ BX, BX
	CMPQ BX, R14
	JGE  d2tail8

d2loop:
	VMOVUPS (SI)(BX*1), Y8
	VMOVUPS 32(SI)(BX*1), Y9
	VMOVUPS (DI)(BX*1), Y10
	VMOVUPS 32(DI)(BX*1), Y11
	VFMADD231PS (R10)(BX*1), Y8, Y0
	VFMADD231PS 32(R10)(BX*1), Y9, Y1
	VFMADD231PS (R11)(BX*1), Y8, Y2
	VFMADD231PS 32(R11)(BX*1), Y9, Y3
	VFMADD231PS (R10)(BX*1), Y10, Y4
	VFMADD231PS 32(R10)(BX*1), Y11, Y5
	VFMADD231PS (R11)(BX*1), Y10, Y6
	VFMADD231PS 32(R11)(BX*1), Y11, Y7
	ADDQ $64, BX
	CMPQ BX, R14
	JLT  d2loop

d2tail8:
	TESTQ $8, CX
	JZ    d2tailmask
	VMOVUPS (SI)(BX*1), Y8
	VMOVUPS (DI)(BX*1), Y10
	VFMADD231PS (R10)(BX*1), Y8, Y0
	VFMADD231PS (R11)(BX*1), Y8, Y2
	VFMADD231PS (R10)(BX*1), Y10, Y4
	VFMADD231PS (R11)(BX*1), Y10, Y6
	ADDQ $32, BX

d2tailmask:
	TESTQ $7, CX
	JZ    d2reduce
	VMASKMOVPS (SI)(BX*1), Y15, Y8
	VMASKMOVPS (DI)(BX*1), Y15, Y10
	VMASKMOVPS (R10)(BX*1), Y15, Y9
	VMASKMOVPS (R11)(BX*1), Y15, Y11
	VFMADD231PS Y9, Y8, Y1
	VFMADD231PS Y11, Y8, Y3
	VFMADD231PS Y9, Y10, Y5
	VFMADD231PS Y11, Y10, Y7

d2reduce:
	// X0 = [dot(0,0), dot(0,1), dot(1,0), dot(1,1)], each reduced as in dotNTAVX.
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VEXTRACTF128 $1, Y2, X3
	VADDPS X3, X2, X2
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VEXTRACTF128 $1, Y6, X7
	VADDPS X7, X6, X6
	VHADDPS X2, X0, X0
	VHADDPS X6, X4, X4
	VHADDPS X4, X0, X0
	VMULPS X12, X0, X0
	TESTQ AX, AX
	JZ    d2store
	VMOVSD (DX), X14
	VMOVHPS (R13), X14, X14
	VFMADD231PS X14, X13, X0

d2store:
	VMOVSD X0, (DX)
	VMOVHPS X0, (R13)
	ADDQ $8, DX
	ADDQ $8, R13
	LEAQ (R11)(R8*1), R10
	SUBQ $2, R9
	CMPQ R9, $2
	JGE  d2pair

d2single:
	TESTQ R9, R9
	JZ    d2done
	// The last row of B against both rows of A: accumulators Y0:Y1 and Y4:Y5.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	XORQ BX, BX
	CMPQ BX, R14
	JGE  d1tail8

d1loop:
	VMOVUPS (R10)(BX*1), Y8
	VMOVUPS 32(R10)(BX*1), Y9
	VFMADD231PS (SI)(BX*1), Y8, Y0
	VFMADD231PS 32(SI)(BX*1), Y9, Y1
	VFMADD231PS (DI)(BX*1), Y8, Y4
	VFMADD231PS 32(DI)(BX*1), Y9, Y5
	ADDQ $64, BX
	CMPQ BX, R14
	JLT  d1loop

d1tail8:
	TESTQ $8, CX
	JZ    d1tailmask
	VMOVUPS (R10)(BX*1), Y8
	VFMADD231PS (SI)(BX*1), Y8, Y0
	VFMADD231PS (DI)(BX*1), Y8, Y4
	ADDQ $32, BX

d1tailmask:
	TESTQ $7, CX
	JZ    d1reduce
	VMASKMOVPS (R10)(BX*1), Y15, Y9
	VMASKMOVPS (SI)(BX*1), Y15, Y8
	VFMADD231PS Y9, Y8, Y1
	VMASKMOVPS (DI)(BX*1), Y15, Y8
	VFMADD231PS Y9, Y8, Y5

d1reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y5, Y4, Y4
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X4, X4, X4
	VHADDPS X4, X4, X4
	VMULSS X12, X0, X0
	VMULSS X12, X4, X4
	TESTQ AX, AX
	JZ    d1store
	VFMADD231SS (DX), X13, X0
	VFMADD231SS (R13), X13, X4

d1store:
	VMOVSS X0, (DX)
	VMOVSS X4, (R13)

d2done:
	VZEROUPPER
	RET
