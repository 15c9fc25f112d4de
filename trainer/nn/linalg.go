package nn

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gendl/gendl/kernels"
)

// float is the element type of the fused ops: float32 for training, float64 for gradient
// checks.
type float interface{ float32 | float64 }

// gemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices (op(X) = X or Xᵀ; op(A)
// m×k, op(B) k×n; lda, ldb, ldc the row strides as stored). float32 runs on gendl's SGEMM
// split over GOMAXPROCS threads (kernels.SgemmParallel); float64, used by gradient checks
// only, on gonum's Dgemm.
func gemm[F float](transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch c := any(c).(type) {
	case []float32:
		kernels.SgemmParallel(0, transA, transB, m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), c, ldc)
	case []float64:
		if k == 0 { // gonum wants non-empty A and B even when k is 0
			for i := range m {
				row := c[i*ldc : i*ldc+n]
				for j := range row {
					row[j] *= float64(beta)
				}
			}
			return
		}
		tr := func(t bool) blas.Transpose {
			if t {
				return blas.Trans
			}
			return blas.NoTrans
		}
		gonum.Implementation{}.Dgemm(tr(transA), tr(transB), m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), c, ldc)
	}
}

// sigmoid sets x[i] = 1/(1+exp(-x[i])): kernels.SigmoidF32 for float32 (within 2 ulp),
// math.Exp for float64.
func sigmoid[F float](x []F) {
	switch x := any(x).(type) {
	case []float32:
		kernels.SigmoidF32(x, x)
	case []float64:
		for i, v := range x {
			x[i] = 1 / (1 + math.Exp(-v))
		}
	}
}

// tanh sets dst[i] = tanh(src[i]): kernels.TanhF32 for float32 (within 2 ulp), math.Tanh for
// float64. dst and src may be the same slice.
func tanh[F float](dst, src []F) {
	switch d := any(dst).(type) {
	case []float32:
		kernels.TanhF32(d, any(src).([]float32))
	case []float64:
		s := any(src).([]float64)
		for i, v := range s {
			d[i] = math.Tanh(v)
		}
	}
}

// colSums sets dst[j] = Σ_i a[i, j] for the [rows, cols] row-major a, as a product with a row
// of ones (ones must hold at least rows ones): one pass over a on the GEMM's small-M path.
func colSums[F float](dst, a, ones []F, rows, cols int) {
	if rows == 0 {
		clear(dst[:cols])
		return
	}
	gemm(false, false, 1, cols, rows, 1, ones[:rows], rows, a, cols, 0, dst[:cols], cols)
}

// addTo sets dst[i] += src[i].
func addTo[F float](dst, src []F) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// add sets dst[i] = a[i] + b[i].
func add[F float](dst, a, b []F) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// mul sets dst[i] = a[i]·b[i].
func mul[F float](dst, a, b []F) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// transpose writes the [rows, cols] row-major src into dst as [cols, rows].
func transpose[F float](dst, src []F, rows, cols int) {
	for i := range rows {
		row := src[i*cols : (i+1)*cols]
		for j, v := range row {
			dst[j*rows+i] = v
		}
	}
}

// grow returns s resized to n elements, reusing its array when it is large enough. The
// contents are not cleared.
func grow[F float](s []F, n int) []F {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]F, n)
}

// ones returns a slice of n ones.
func ones[F float](n int) []F {
	s := make([]F, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// splitMinRows is the smallest row count splitRows splits: a row of an LSTM step is about
// 4H element operations, so below 32 rows a goroutine's start costs more than it saves.
const splitMinRows = 32

// splitRows calls fn(lo, hi) over [0, n) in two halves, one on another goroutine, when
// GOMAXPROCS > 1 and n >= splitMinRows; else fn(0, n). The halves must be independent.
func splitRows(n int, fn func(lo, hi int)) {
	if n < splitMinRows || runtime.GOMAXPROCS(0) < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(n/2, n)
	}()
	fn(0, n/2)
	wg.Wait()
}
