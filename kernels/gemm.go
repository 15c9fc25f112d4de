package kernels

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(X) is X or
// its transpose. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row strides
// of A, B and C as stored. When beta is 0, C is not read (NaNs in C do not propagate).
//
// It panics if a slice is too short for the given sizes: that is a programming error, not bad
// input.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	// Scale C by beta first.
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
	if k == 0 || alpha == 0 {
		return
	}
	// No term is skipped when a factor is zero: 0*Inf and 0*NaN must give NaN, as in the
	// BLAS reference and numpy.
	switch {
	case !transA && !transB:
		// C[i,:] += alpha*A[i,p]*B[p,:]: unit-stride inner loop over n.
		for i := 0; i < m; i++ {
			crow := c[i*ldc : i*ldc+n]
			arow := a[i*lda : i*lda+k]
			for p, av := range arow {
				axpy(alpha*av, b[p*ldb:p*ldb+n], crow)
			}
		}
	case transA && !transB:
		// A stored k×m: C[i,:] += alpha*A[p,i]*B[p,:].
		for p := 0; p < k; p++ {
			brow := b[p*ldb : p*ldb+n]
			for i := 0; i < m; i++ {
				axpy(alpha*a[p*lda+i], brow, c[i*ldc:i*ldc+n])
			}
		}
	case !transA && transB:
		// B stored n×k: C[i,j] += alpha*dot(A[i,:], B[j,:]).
		for i := 0; i < m; i++ {
			arow := a[i*lda : i*lda+k]
			for j := 0; j < n; j++ {
				c[i*ldc+j] += alpha * dot(arow, b[j*ldb:j*ldb+k])
			}
		}
	default:
		// A stored k×m, B stored n×k.
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*lda+i] * b[j*ldb+p]
				}
				c[i*ldc+j] += alpha * s
			}
		}
	}
}

func axpy(s float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += s * x[i]
		y[i+1] += s * x[i+1]
		y[i+2] += s * x[i+2]
		y[i+3] += s * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += s * x[i]
	}
}

func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
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
