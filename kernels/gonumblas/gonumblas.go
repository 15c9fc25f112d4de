package gonumblas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gendl/gendl/kernels"
)

// Implementation is gonum's pure-Go BLAS with Sgemm computed by kernels.SgemmParallel. The
// zero value is ready to use and splits large products over runtime.GOMAXPROCS(0) threads.
type Implementation struct {
	gonum.Implementation

	// Threads is the number of goroutines a large Sgemm may use; <= 0 means
	// runtime.GOMAXPROCS(0) at the time of the call. Products below about 2 MFLOP run on
	// the calling goroutine whatever it says.
	Threads int
}

var (
	_ blas.Float32    = Implementation{}
	_ blas.Float64    = Implementation{}
	_ blas.Complex64  = Implementation{}
	_ blas.Complex128 = Implementation{}
)

// Sgemm performs C = alpha*op(A)*op(B) + beta*C on row-major matrices, where op(X) is X for
// blas.NoTrans and Xᵀ for blas.Trans or blas.ConjTrans; op(A) is m×k, op(B) is k×n and C is
// m×n. When beta is 0, C is only written. Arguments gonum would reject make it panic with
// gonum's message.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !validGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		// gonum panics with its message; the second panic is only reached if gonum and
		// validGemm ever disagree.
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		panic("gonumblas: Sgemm: invalid arguments")
	}
	if m == 0 || n == 0 || ((alpha == 0 || k == 0) && beta == 1) {
		return
	}
	kernels.SgemmParallel(impl.Threads, isTrans(tA), isTrans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func isTrans(t blas.Transpose) bool { return t == blas.Trans || t == blas.ConjTrans }

// validGemm reports whether gonum's Sgemm accepts the arguments (the same checks, in terms of
// slice lengths).
func validGemm(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	for _, t := range [2]blas.Transpose{tA, tB} {
		if t != blas.NoTrans && t != blas.Trans && t != blas.ConjTrans {
			return false
		}
	}
	if m < 0 || n < 0 || k < 0 {
		return false
	}
	ar, ac := m, k // A as stored
	if isTrans(tA) {
		ar, ac = k, m
	}
	br, bc := k, n // B as stored
	if isTrans(tB) {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) {
		return false
	}
	if m == 0 || n == 0 {
		return true
	}
	// gonum checks (rows-1)*ld+cols also when k == 0, which a nil slice satisfies only then.
	return la >= (ar-1)*lda+ac && lb >= (br-1)*ldb+bc && lc >= (m-1)*ldc+n
}
