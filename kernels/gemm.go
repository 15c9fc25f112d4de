package kernels

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(X) is X or
// its transpose. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row strides
// of A, B and C as stored. When beta is 0, C is not read (NaNs in C do not propagate).
//
// It runs on the calling goroutine only (SgemmParallel splits the work over threads) with the
// micro-kernel KernelName names (for m <= 4, the small-M kernels of the same family, which
// read B unpacked), and allocates nothing in the steady state: its packing
// buffers come from a pool. As in the reference BLAS, every product term is computed, so a
// zero in A does not hide a NaN or Inf in B; when alpha is 0 or k is 0, C is only scaled by
// beta and A and B are not read.
//
// It panics if a slice is too short for the given sizes: that is a programming error, not bad
// input.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(bestKernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if m < 0 || n < 0 || k < 0 || lda < max(ac, 1) || ldb < max(bc, 1) || ldc < max(n, 1) {
		panic(fmt.Sprintf("kernels: Sgemm: bad sizes m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc))
	}
	if ar > 0 && ac > 0 && la < (ar-1)*lda+ac {
		panic(fmt.Sprintf("kernels: Sgemm: A has %d elements, needs %d", la, (ar-1)*lda+ac))
	}
	if br > 0 && bc > 0 && lb < (br-1)*ldb+bc {
		panic(fmt.Sprintf("kernels: Sgemm: B has %d elements, needs %d", lb, (br-1)*ldb+bc))
	}
	if lc < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: Sgemm: C has %d elements, needs %d", lc, (m-1)*ldc+n))
	}
}
