package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// smallKernels is every kernel family this machine can run, for the small-M path (which does
// not use the cache blocks).
func smallKernels() []*microKernel {
	return append([]*microKernel{genericKernel}, simdKernels()...)
}

// TestSgemmSmallProperty compares the small-M path of every kernel family, called directly,
// serially and split over 1-4 threads, with the naive definition: m 1-4 (and a few larger m,
// which the path also computes), n and k around the kernels' strip widths (4 rows of B; 8,
// 16, 32, 64 columns; 16-element steps, 8 and masked tails), k large enough that m > 1 cuts n
// into chunks, every transpose, padded leading dimensions, alpha/beta including 0.
func TestSgemmSmallProperty(t *testing.T) {
	ms := []int{1, 1, 1, 2, 3, 4, 5, 7}
	ns := []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 60, 63, 64, 65, 100, 127, 128, 129, 200, 515}
	ks := []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 60, 128, 129, 600, 1031}
	for _, kern := range smallKernels() {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			for trial := 0; trial < 600; trial++ {
				g := newGemmCase(r, ms[r.IntN(len(ms))], ns[r.IntN(len(ns))], ks[r.IntN(len(ks))])
				checkAgainstNaive(t, "small", g, func(c []float32) {
					sgemmSmall(kern, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
				})
				if g.m > smallM {
					continue
				}
				threads := 1 + r.IntN(4)
				checkAgainstNaive(t, fmt.Sprintf("threads=%d", threads), g, func(c []float32) {
					sgemmParallelForced(kern, threads, g, c)
				})
			}
		})
	}
}

// TestSgemmSmallDispatch pins that Sgemm and SgemmParallel take the small-M path exactly for
// m <= smallM: their results are bitwise those of sgemmSmall there, of sgemm above.
func TestSgemmSmallDispatch(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for m := 1; m <= smallM+2; m++ {
		g := newGemmCase(r, m, 300, 700)
		g.alpha, g.beta = 1, 0
		want := append([]float32(nil), g.c...)
		if m <= smallM {
			sgemmSmall(bestKernel, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, want, g.ldc)
		} else {
			sgemm(bestKernel, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, want, g.ldc)
		}
		for _, threads := range []int{0, 1, 2} {
			got := append([]float32(nil), g.c...)
			if threads == 0 {
				Sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, got, g.ldc)
			} else {
				SgemmParallel(threads, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, got, g.ldc)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("threads=%d (0: Sgemm) %v: C[%d] = %v, want %v", threads, g, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSmallKernelsPositionFree pins the property the chunks and bands rely on: a kernel
// computes each element of C with the same operations whatever n and the element's
// position, so computing column j alone gives the same bits as computing it among others.
func TestSmallKernelsPositionFree(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, kern := range smallKernels() {
		for trial := 0; trial < 60; trial++ {
			k, n := 1+r.IntN(70), 1+r.IntN(140)
			ldb := k + r.IntN(3)
			alpha, beta := []float32{1, -0.5}[r.IntN(2)], []float32{0, 0.75}[r.IntN(2)]
			a := randSlice(r, k)
			c0 := randSlice(r, n)
			for _, nt := range []bool{true, false} {
				var b []float32
				f := kern.dotNT
				if nt {
					b = randSlice(r, n*ldb)
				} else {
					ldb = n + r.IntN(3)
					b = randSlice(r, k*ldb)
					f = kern.axpyNN
				}
				all := append([]float32(nil), c0...)
				f(k, a, b, ldb, n, all, alpha, beta, beta != 0)
				for j := range n {
					one := []float32{c0[j]}
					bj := b[j:]
					if nt {
						bj = b[j*ldb:]
					}
					f(k, a, bj, ldb, 1, one, alpha, beta, beta != 0)
					if math.Float32bits(one[0]) != math.Float32bits(all[j]) {
						t.Fatalf("%s transB=%v k=%d n=%d: column %d alone = %v, among %d = %v", kern.name, nt, k, n, j, one[0], n, all[j])
					}
				}
			}
		}
	}
}

// TestSgemmSmallNaN pins the IEEE rules on the small-M path for every kernel family and
// transpose, on shapes that reach the vector loops and the tails: 0*Inf in a product term
// gives NaN, a NaN in A reaches its whole row of C, beta=0 does not read C, beta!=0
// propagates a NaN of C.
func TestSgemmSmallNaN(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	isNaN := func(v float32) bool { return v != v }
	for _, kern := range smallKernels() {
		for _, sz := range [][3]int{{1, 1, 1}, {1, 77, 37}, {3, 130, 16}, {4, 9, 600}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					name := fmt.Sprintf("%s m=%d n=%d k=%d transA=%v transB=%v", kern.name, m, n, k, ta, tb)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					run := func(a, b []float32, beta float32, c []float32) {
						sgemmSmall(kern, ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, n)
					}
					// setB sets op(B)[p, j].
					setB := func(b []float32, p, j int, v float32) {
						if tb {
							b[j*ldb+p] = v
						} else {
							b[p*ldb+j] = v
						}
					}
					setA := func(a []float32, i, p int, v float32) {
						if ta {
							a[p*lda+i] = v
						} else {
							a[i*lda+p] = v
						}
					}
					// A all zero, op(B)[k-1, n-1] = Inf: only column n-1 of C is NaN.
					a, b := make([]float32, m*k), make([]float32, k*n)
					for i := range b {
						b[i] = 1
					}
					setB(b, k-1, n-1, inf)
					c := make([]float32, m*n)
					run(a, b, 0, c)
					for i, v := range c {
						if isNaN(v) != (i%n == n-1) {
							t.Fatalf("%s: 0*Inf: C[%d] = %v", name, i, v)
						}
					}
					// op(A)[m-1, k-1] = NaN, rest 1: only row m-1 is NaN; C full of NaN
					// is not read with beta 0.
					for i := range a {
						a[i] = 1
					}
					setB(b, k-1, n-1, 1)
					setA(a, m-1, k-1, nan)
					for i := range c {
						c[i] = nan
					}
					run(a, b, 0, c)
					for i, v := range c {
						if isNaN(v) != (i/n == m-1) || (!isNaN(v) && v != float32(k)) {
							t.Fatalf("%s: NaN in A, beta=0: C[%d] = %v", name, i, v)
						}
					}
					// beta != 0 reads C: a NaN there stays, the rest is k + 2*0.
					setA(a, m-1, k-1, 1)
					clear(c)
					c[len(c)-1] = nan
					run(a, b, 2, c)
					if !isNaN(c[len(c)-1]) || (len(c) > 1 && c[0] != float32(k)) {
						t.Fatalf("%s: NaN in C, beta=2: C[0] = %v, C[last] = %v", name, c[0], c[len(c)-1])
					}
				}
			}
		}
	}
}

// TestSgemmSmallAllocs: the small-M path allocates nothing in the steady state, also when
// it gathers a transposed A (pooled buffer) and in bands.
func TestSgemmSmallAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := rand.New(rand.NewPCG(27, 28))
	m, n, k := 3, 1000, 700
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for _, kern := range smallKernels() {
		for _, ta := range []bool{false, true} {
			lda := k
			if ta {
				lda = m
			}
			serial := testing.AllocsPerRun(20, func() {
				sgemmSmall(kern, ta, true, m, n, k, 1, a, lda, b, k, 0, c, n)
			})
			parallel := testing.AllocsPerRun(20, func() {
				sgemmParallel(kern, 2, 0, ta, false, m, n, k, 1, a, lda, b, n, 0, c, n)
			})
			if serial > 0.1 || parallel > 0.1 {
				t.Errorf("%s transA=%v: %v allocs per serial call, %v per 2-thread call, want 0", kern.name, ta, serial, parallel)
			}
		}
	}
}

// TestAxpyStreamBitwise: streaming B by rows (axpyRows, chosen for large B) gives bitwise the
// result of the column-strip kernel axpyNN, on every shape — k around multiples of 4 (the
// 1-row steps), n around the 32- and 8-column loops and the masked tail; with beta 0 C is
// NaN and must not be read — and agrees with the naive definition.
func TestAxpyStreamBitwise(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for _, kern := range smallKernels() {
		if kern.axpyRows == nil {
			continue
		}
		for trial := 0; trial < 400; trial++ {
			m, n, k := 1+r.IntN(smallM), 1+r.IntN(150), 1+r.IntN(40)
			g := newGemmCase(r, m, n, k)
			g.tb = false
			g.ldb = n + r.IntN(3)
			g.b = randSlice(r, k*g.ldb)
			if g.alpha == 0 {
				g.alpha = 1.5
			}
			if g.beta == 0 { // C must not be read
				for i := range m {
					for j := range n {
						g.c[i*g.ldc+j] = float32(math.NaN())
					}
				}
			}
			rows, ra := g.a, g.lda
			if g.ta {
				rows, ra = make([]float32, m*k), k
				for i := range m {
					for p := range k {
						rows[i*k+p] = g.a[p*g.lda+i]
					}
				}
			}
			want := append([]float32(nil), g.c...)
			for i := range m {
				kern.axpyNN(k, rows[i*ra:i*ra+k], g.b, g.ldb, n, want[i*g.ldc:i*g.ldc+n], g.alpha, g.beta, g.beta != 0)
			}
			got := append([]float32(nil), g.c...)
			ws := new(workspace)
			axpyStream(kern, m, n, k, g.alpha, rows, ra, g.b, g.ldb, g.beta, got, g.ldc, ws)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: streamed C[%d] = %v, strips %v", kern.name, g, i, got[i], want[i])
				}
			}
			checkAgainstNaive(t, kern.name+" streamed", g, func(c []float32) {
				axpyStream(kern, m, n, k, g.alpha, rows, ra, g.b, g.ldb, g.beta, c, g.ldc, new(workspace))
			})
		}
	}
}

// TestDotNT2Bitwise: the two-row dot kernel gives bitwise what dotNT gives row by row, for
// k around the 16- and 8-element steps and the masked tail and n even and odd; with beta 0
// C is NaN and must not be read.
func TestDotNT2Bitwise(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	for _, kern := range smallKernels() {
		if kern.dotNT2 == nil {
			continue
		}
		for trial := 0; trial < 400; trial++ {
			k, n := 1+r.IntN(70), 1+r.IntN(40)
			lda, ldb, ldc := k+r.IntN(3), k+r.IntN(3), n+r.IntN(3)
			alpha, beta := []float32{1, -0.5, 2}[r.IntN(3)], []float32{0, 1, 0.75}[r.IntN(3)]
			a, b, c := randSlice(r, lda+k), randSlice(r, (n-1)*ldb+k), randSlice(r, ldc+n)
			if beta == 0 {
				for i := range c {
					c[i] = float32(math.NaN())
				}
			}
			want := append([]float32(nil), c...)
			for i := range 2 {
				kern.dotNT(k, a[i*lda:i*lda+k], b, ldb, n, want[i*ldc:i*ldc+n], alpha, beta, beta != 0)
			}
			got := append([]float32(nil), c...)
			kern.dotNT2(k, a, lda, b, ldb, n, got, ldc, alpha, beta, beta != 0)
			for i := range 2 {
				for j := range n {
					w, g := want[i*ldc+j], got[i*ldc+j]
					if math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("%s k=%d n=%d alpha=%v beta=%v: C[%d, %d] = %v, dotNT %v", kern.name, k, n, alpha, beta, i, j, g, w)
					}
				}
			}
		}
	}
}
