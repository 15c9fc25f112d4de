package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the reference: the definition of GEMM in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float32 {
	out := make([]float32, len(c))
	copy(out, c)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			prev := float64(0)
			if beta != 0 {
				prev = float64(beta) * float64(c[i*ldc+j])
			}
			out[i*ldc+j] = float32(float64(alpha)*s + prev)
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestSgemmProperty compares Sgemm with the naive definition on random shapes (sizes 1, odd
// and larger), every transpose combination, padded leading dimensions and alpha/beta values.
func TestSgemmProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 7, 16, 33, 64}
	// Float32 accumulation over k terms of unit-normal products: error ~ sqrt(k)*eps*|terms|.
	const rtol, atol = 1e-5, 1e-4
	for trial := 0; trial < 300; trial++ {
		m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
		ta, tb := r.IntN(2) == 1, r.IntN(2) == 1
		alpha := []float32{1, 0.5, -2, 0}[r.IntN(4)]
		beta := []float32{0, 1, 0.25}[r.IntN(3)]
		ar, ac := m, k
		if ta {
			ar, ac = k, m
		}
		br, bc := k, n
		if tb {
			br, bc = n, k
		}
		lda, ldb, ldc := ac+r.IntN(3), bc+r.IntN(3), n+r.IntN(3)
		a, b, c := randSlice(r, ar*lda), randSlice(r, br*ldb), randSlice(r, m*ldc)
		want := naiveGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		for i := range want {
			if d := math.Abs(float64(c[i] - want[i])); d > atol+rtol*math.Abs(float64(want[i])) {
				t.Fatalf("m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v: C[%d] = %v, want %v", m, n, k, ta, tb, alpha, beta, i, c[i], want[i])
			}
		}
	}
}

// TestSgemmBetaZeroIgnoresNaN pins the BLAS rule that beta=0 does not read C.
func TestSgemmBetaZeroIgnoresNaN(t *testing.T) {
	c := []float32{float32(math.NaN())}
	Sgemm(false, false, 1, 1, 1, 1, []float32{2}, 1, []float32{3}, 1, 0, c, 1)
	if c[0] != 6 {
		t.Fatalf("C = %v, want 6", c[0])
	}
}

// TestSgemmPropagatesNaN pins that a zero in A does not hide a NaN or Inf in B (numpy and
// ONNX Runtime give NaN; an early version skipped zero terms).
func TestSgemmPropagatesNaN(t *testing.T) {
	for _, transA := range []bool{false, true} {
		c := []float32{0}
		Sgemm(transA, false, 1, 1, 2, 1, []float32{0, 1}, 2-btoi(transA), []float32{float32(math.Inf(1)), 1}, 1, 0, c, 1)
		if !math.IsNaN(float64(c[0])) {
			t.Errorf("transA=%v: 0*Inf + 1*1 = %v, want NaN", transA, c[0])
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
