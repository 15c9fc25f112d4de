package gonumblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// stored returns the rows and columns of X as stored when op(X) is r×c.
func stored(t blas.Transpose, r, c int) (int, int) {
	if t == blas.NoTrans {
		return r, c
	}
	return c, r
}

// checkSgemm runs one product through Implementation{Threads: threads} and through gonum
// and compares them. The tolerance: both are float32 sums of k terms, each within about
// k·ε·s of the exact value, where s = |alpha|·Σ_p|a_ip·b_pj| + |beta·c_ij| (ε = 2⁻²³); they
// must agree within 2(k+2)·ε·s + 1e-30. Padding past each row (ld > width) must be untouched.
func checkSgemm(t *testing.T, rng *rand.Rand, threads int, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta float32) {
	t.Helper()
	ar, ac := stored(tA, m, k)
	br, bc := stored(tB, k, n)
	lda, ldb, ldc := max(1, ac)+pad, max(1, bc)+pad, max(1, n)+pad
	a := randSlice(rng, max(0, (ar-1)*lda+ac))
	b := randSlice(rng, max(0, (br-1)*ldb+bc))
	c0 := randSlice(rng, max(0, m*ldc))
	if beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // beta == 0 must not read C
		}
	}
	want := append([]float32(nil), c0...)
	got := append([]float32(nil), c0...)
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	Implementation{Threads: threads}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	at := func(x []float32, ld, i, j int, tr blas.Transpose) float64 {
		if tr != blas.NoTrans {
			i, j = j, i
		}
		return float64(x[i*ld+j])
	}
	const eps = 1.0 / (1 << 23)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += math.Abs(at(a, lda, i, p, tA) * at(b, ldb, p, j, tB))
			}
			s = math.Abs(float64(alpha)) * s
			if beta != 0 {
				s += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
			}
			tol := 2*float64(k+2)*eps*s + 1e-30
			g, w := float64(got[i*ldc+j]), float64(want[i*ldc+j])
			if !(math.Abs(g-w) <= tol) {
				t.Fatalf("threads=%d tA=%c tB=%c m=%d n=%d k=%d pad=%d alpha=%g beta=%g: C[%d,%d] = %g, gonum %g (tol %g)",
					threads, tA, tB, m, n, k, pad, alpha, beta, i, j, g, w, tol)
			}
		}
		for j := n; j < ldc && i*ldc+j < len(got); j++ {
			if math.Float32bits(got[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
				t.Fatalf("threads=%d tA=%c tB=%c m=%d n=%d k=%d pad=%d: padding C[%d,%d] written", threads, tA, tB, m, n, k, pad, i, j)
			}
		}
	}
}

func TestSgemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	alphas := []float32{1, -0.5, 2.25, 0}
	betas := []float32{0, 1, -1.5, 0.75}
	dims := []int{0, 1, 2, 3, 5, 6, 7, 15, 16, 17, 31, 33, 64, 97}
	for iter := range 400 {
		tA, tB := transposes[rng.IntN(3)], transposes[rng.IntN(3)]
		m, n, k := dims[rng.IntN(len(dims))], dims[rng.IntN(len(dims))], dims[rng.IntN(len(dims))]
		alpha, beta := alphas[rng.IntN(len(alphas))], betas[rng.IntN(len(betas))]
		checkSgemm(t, rng, 1+iter%3, tA, tB, m, n, k, rng.IntN(3), alpha, beta)
	}
}

// TestSgemmShapes covers products large enough to be split over threads, and the shapes of
// the char-LSTM (gates [4H,B] = W[4H,V]·x[V,B], and the gradient products with transposes).
func TestSgemmShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, s := range []struct{ m, n, k int }{
		{512, 128, 128}, {512, 128, 91}, {128, 128, 512}, {91, 128, 128}, {200, 150, 70}, {1, 300, 257}, {300, 1, 257},
	} {
		for _, tA := range transposes[:2] {
			for _, tB := range transposes[:2] {
				for _, threads := range []int{0, 1, 2} {
					checkSgemm(t, rng, threads, tA, tB, s.m, s.n, s.k, 0, 1, 0)
				}
				checkSgemm(t, rng, 2, tA, tB, s.m, s.n, s.k, 3, -0.75, 1)
			}
		}
	}
}

// TestSgemmPanicsAsGonum checks that arguments gonum rejects make Sgemm panic with gonum's
// message, and that those gonum accepts do not panic.
func TestSgemmPanicsAsGonum(t *testing.T) {
	type call struct {
		tA, tB     blas.Transpose
		m, n, k    int
		la, lb, lc int
		lda, ldb   int
		ldc        int
	}
	calls := []call{
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 12, 6, 4, 3, 3},     // valid
		{blas.NoTrans, blas.NoTrans, 0, 3, 4, 0, 12, 0, 4, 3, 3},     // m == 0
		{blas.Trans, blas.NoTrans, 2, 3, 0, 0, 0, 6, 2, 3, 3},        // k == 0
		{'x', blas.NoTrans, 2, 3, 4, 8, 12, 6, 4, 3, 3},              // bad transpose
		{blas.NoTrans, 'y', 2, 3, 4, 8, 12, 6, 4, 3, 3},              // bad transpose
		{blas.NoTrans, blas.NoTrans, -1, 3, 4, 8, 12, 6, 4, 3, 3},    // m < 0
		{blas.NoTrans, blas.NoTrans, 2, -3, 4, 8, 12, 6, 4, 3, 3},    // n < 0
		{blas.NoTrans, blas.NoTrans, 2, 3, -4, 8, 12, 6, 4, 3, 3},    // k < 0
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 12, 6, 3, 3, 3},     // lda < k
		{blas.Trans, blas.NoTrans, 2, 3, 4, 8, 12, 6, 1, 3, 3},       // lda < m
		{blas.NoTrans, blas.Trans, 2, 3, 4, 8, 12, 6, 4, 3, 3},       // ldb < k
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 12, 6, 4, 3, 2},     // ldc < n
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 7, 12, 6, 4, 3, 3},     // short A
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 11, 6, 4, 3, 3},     // short B
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 12, 5, 4, 3, 3},     // short C
		{blas.NoTrans, blas.NoTrans, 2, 3, 0, 0, 0, 6, 1, 3, 3},      // k == 0, short A (gonum needs (m-1)*lda)
		{blas.ConjTrans, blas.ConjTrans, 2, 3, 4, 8, 12, 6, 2, 4, 3}, // valid, ConjTrans
	}
	catch := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	for i, c := range calls {
		a, b, cc := make([]float32, c.la), make([]float32, c.lb), make([]float32, c.lc)
		want := catch(func() { gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a, c.lda, b, c.ldb, 0, cc, c.ldc) })
		got := catch(func() { Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, a, c.lda, b, c.ldb, 0, cc, c.ldc) })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("call %d %+v: panic %v, gonum's %v", i, c, got, want)
		}
	}
}

// TestDelegates spot-checks that the other routines are gonum's.
func TestDelegates(t *testing.T) {
	x, y := []float32{1, 2, 3}, []float32{4, 5, 6}
	if got := (Implementation{}).Sdot(3, x, 1, y, 1); got != 32 {
		t.Errorf("Sdot = %g, want 32", got)
	}
	a := []float64{1, 2, 3, 4} // [[1 2] [3 4]]
	xd, yd := []float64{1, 1}, []float64{0, 0}
	Implementation{}.Dgemv(blas.Trans, 2, 2, 1, a, 2, xd, 1, 0, yd, 1)
	if yd[0] != 4 || yd[1] != 6 {
		t.Errorf("Dgemv = %v, want [4 6]", yd)
	}
	ys := []float32{0, 0}
	Implementation{}.Sgemv(blas.NoTrans, 2, 2, 1, []float32{1, 2, 3, 4}, 2, []float32{1, 1}, 1, 0, ys, 1)
	if ys[0] != 3 || ys[1] != 7 {
		t.Errorf("Sgemv = %v, want [3 7]", ys)
	}
}

// TestSgemmAllocs checks that a steady-state product allocates nothing.
func TestSgemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m, n, k := 256, 128, 128
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	impl := Implementation{}
	f := func() { impl.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0, c, n) }
	f()
	if allocs := testing.AllocsPerRun(20, f); allocs > 0.5 {
		t.Errorf("Sgemm allocates %.1f times per call", allocs)
	}
}
