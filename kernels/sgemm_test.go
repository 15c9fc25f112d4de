package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// testKernels is every micro-kernel this machine can run, each also with tiny cache blocks
// (two tiles by two tiles by 5) so that small random shapes cross the MC, KC and NC block
// boundaries that real sizes cross only at hundreds or thousands.
func testKernels() []*microKernel {
	var ks []*microKernel
	for _, k := range append([]*microKernel{genericKernel}, simdKernels()...) {
		small := *k
		small.name += "-smallblocks"
		small.mc, small.kc, small.nc = 2*k.mr, 5, 2*k.nr
		ks = append(ks, k, &small)
	}
	return ks
}

// gemmCase is one random product with its operands.
type gemmCase struct {
	ta, tb        bool
	m, n, k       int
	alpha, beta   float32
	a, b, c       []float32
	lda, ldb, ldc int
}

func (g *gemmCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		g.m, g.n, g.k, g.ta, g.tb, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

func newGemmCase(r *rand.Rand, m, n, k int) *gemmCase {
	g := &gemmCase{m: m, n: n, k: k, ta: r.IntN(2) == 1, tb: r.IntN(2) == 1}
	g.alpha = []float32{1, 0.5, -2, 0}[r.IntN(4)]
	g.beta = []float32{0, 1, 0.25, -1.5}[r.IntN(4)]
	ar, ac := m, k
	if g.ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if g.tb {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = max(ac, 1)+r.IntN(3), max(bc, 1)+r.IntN(3), max(n, 1)+r.IntN(3)
	g.a, g.b, g.c = randSlice(r, ar*g.lda), randSlice(r, br*g.ldb), randSlice(r, m*g.ldc)
	return g
}

// checkAgainstNaive runs run on a copy of g's C and compares with the float64 definition.
// Tolerance: float32 accumulation of k unit-normal products has error about sqrt(k)*eps
// times the terms' size; |got-want| <= atol*sqrt(k) + rtol*|want| with eps-derived constants.
func checkAgainstNaive(t *testing.T, label string, g *gemmCase, run func(c []float32)) {
	t.Helper()
	const rtol, atol = 1e-5, 2e-5
	want := naiveGemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
	got := append([]float32(nil), g.c...)
	run(got)
	tol := atol * math.Sqrt(float64(g.k)+1) * 4
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol+rtol*math.Abs(float64(want[i]))) {
			t.Fatalf("%s %v: C[%d] (row %d col %d) = %v, want %v", label, g, i, i/g.ldc, i%g.ldc, got[i], want[i])
		}
	}
}

// TestSgemmKernelsProperty compares every micro-kernel, serial and split over 1-4 threads,
// with the naive definition on random shapes: sizes 1, odd, tile multiples and non-multiples,
// every transpose combination, padded leading dimensions, alpha/beta values including 0.
func TestSgemmKernelsProperty(t *testing.T) {
	sizes := []int{1, 2, 3, 4, 5, 6, 7, 11, 16, 17, 23, 33, 48, 64, 97}
	for _, kern := range testKernels() {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			for trial := 0; trial < 400; trial++ {
				g := newGemmCase(r, sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))])
				checkAgainstNaive(t, "serial", g, func(c []float32) {
					sgemm(kern, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
				})
				threads := 1 + r.IntN(4)
				checkAgainstNaive(t, fmt.Sprintf("threads=%d", threads), g, func(c []float32) {
					sgemmParallelForced(kern, threads, g, c)
				})
			}
		})
	}
}

// sgemmParallelForced runs sgemmParallel with no minimum size, so that small test shapes
// exercise the bands.
func sgemmParallelForced(kern *microKernel, threads int, g *gemmCase, c []float32) {
	sgemmParallel(kern, threads, 0, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
}

// TestSgemmKernelsLarge crosses the real cache blocks (KC=256, MC=144 or 128, NC=4080 or
// 2048) once per kernel, with 2 threads too.
func TestSgemmKernelsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large product")
	}
	r := rand.New(rand.NewPCG(5, 6))
	g := newGemmCase(r, 149, 4099, 263)
	g.alpha, g.beta = 0.5, 0.25
	for _, kern := range append([]*microKernel{genericKernel}, simdKernels()...) {
		checkAgainstNaive(t, kern.name, g, func(c []float32) {
			sgemm(kern, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
		})
		checkAgainstNaive(t, kern.name+" threads=2", g, func(c []float32) {
			sgemmParallel(kern, 2, 0, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
		})
	}
}

// TestSgemmParallelDeterministic pins that the thread count does not change a single bit:
// bands are cut on tile boundaries, so every element sees the same operations (m <= 4 goes
// through the small-M path both serially and in bands).
func TestSgemmParallelDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kern := range testKernels() {
		for trial := 0; trial < 20; trial++ {
			g := newGemmCase(r, 1+r.IntN(80), 1+r.IntN(80), 1+r.IntN(300))
			want := append([]float32(nil), g.c...)
			gemm(kern, g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, want, g.ldc)
			for threads := 2; threads <= 5; threads++ {
				got := append([]float32(nil), g.c...)
				sgemmParallelForced(kern, threads, g, got)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s threads=%d %v: C[%d] = %v, serial %v", kern.name, threads, g, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSgemmKernelsNaN pins the IEEE rules for every kernel, on full tiles and edge tiles:
// 0*Inf in a product term gives NaN (an early Sgemm skipped zero terms), a NaN in A reaches
// its whole row of C, beta=0 does not read C, and beta!=0 propagates a NaN of C.
func TestSgemmKernelsNaN(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	isNaN := func(v float32) bool { return v != v }
	for _, kern := range testKernels() {
		for _, sz := range [][3]int{{1, 1, 1}, {kern.mr, kern.nr, 3}, {2*kern.mr + 1, 2*kern.nr + 3, 7}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, threads := range []int{1, 3} {
				run := func(transA bool, a, b []float32, beta float32, c []float32) {
					lda := k
					if transA {
						lda = m
					}
					g := &gemmCase{ta: transA, m: m, n: n, k: k, alpha: 1, beta: beta, a: a, lda: lda, b: b, ldb: n, ldc: n}
					sgemmParallelForced(kern, threads, g, c)
				}
				for _, transA := range []bool{false, true} {
					// A all zero, B[k-1, n-1] = Inf: only C[:, n-1] is NaN.
					a, b := make([]float32, m*k), make([]float32, k*n)
					for i := range b {
						b[i] = 1
					}
					b[k*n-1] = inf
					c := make([]float32, m*n)
					run(transA, a, b, 0, c)
					for i, v := range c {
						if isNaN(v) != (i%n == n-1) {
							t.Fatalf("%s %dx%dx%d threads=%d transA=%v: 0*Inf: C[%d] = %v", kern.name, m, n, k, threads, transA, i, v)
						}
					}
					// A[m-1, 0] = NaN, rest 1: only row m-1 is NaN; C full of NaN is not read.
					for i := range a {
						a[i] = 1
					}
					b[k*n-1] = 1
					if transA {
						a[m-1] = nan
					} else {
						a[(m-1)*k] = nan
					}
					for i := range c {
						c[i] = nan
					}
					run(transA, a, b, 0, c)
					for i, v := range c {
						if isNaN(v) != (i/n == m-1) || (!isNaN(v) && v != float32(k)) {
							t.Fatalf("%s %dx%dx%d threads=%d transA=%v: NaN in A, beta=0: C[%d] = %v", kern.name, m, n, k, threads, transA, i, v)
						}
					}
					// beta != 0 reads C: a NaN there stays.
					a[0], a[len(a)-1] = 1, 1
					if transA {
						a[m-1] = 1
					} else {
						a[(m-1)*k] = 1
					}
					clear(c)
					c[0] = nan
					run(transA, a, b, 2, c)
					if !isNaN(c[0]) || (len(c) > 1 && c[1] != float32(k)) {
						t.Fatalf("%s %dx%dx%d threads=%d transA=%v: NaN in C, beta=2: C[0:2] = %v", kern.name, m, n, k, threads, transA, c[:min(2, len(c))])
					}
				}
			}
		}
	}
}

// TestSgemmAllocs shows that steady-state calls allocate nothing: packing buffers and the
// parallel bookkeeping come from pools, the workers live on.
func TestSgemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := rand.New(rand.NewPCG(9, 10))
	m, n, k := 100, 300, 200
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for _, kern := range append([]*microKernel{genericKernel}, simdKernels()...) {
		serial := testing.AllocsPerRun(20, func() {
			sgemm(kern, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		})
		parallel := testing.AllocsPerRun(20, func() {
			sgemmParallel(kern, 2, 0, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		})
		t.Logf("%s: %v allocs per serial call, %v per 2-thread call", kern.name, serial, parallel)
		// A GC during the run may empty a pool once: allow for that, not for a per-call
		// allocation.
		if serial > 0.1 || parallel > 0.1 {
			t.Errorf("%s: %v allocs per serial call, %v per 2-thread call, want 0", kern.name, serial, parallel)
		}
	}
}

func TestChooseKernel(t *testing.T) {
	simd := []*microKernel{avx2KernelForTest()}
	for _, tc := range []struct {
		env  string
		simd []*microKernel
		want string
	}{
		{"", simd, "avx2"},
		{"generic", simd, "generic"},
		{"avx2", simd, "avx2"},
		{"avx512", simd, "avx2"},
		{"", nil, "generic"},
		{"avx2", nil, "generic"},
	} {
		if got := chooseKernel(tc.env, tc.simd).name; got != tc.want {
			t.Errorf("chooseKernel(%q, %d SIMD kernels) = %s, want %s", tc.env, len(tc.simd), got, tc.want)
		}
	}
	t.Logf("this machine: %s=%q selects %s", KernelsEnv, os.Getenv(KernelsEnv), KernelName())
}

// avx2KernelForTest is a stand-in with the AVX2 kernel's name, for selection tests that
// must not depend on this machine's CPU.
func avx2KernelForTest() *microKernel {
	k := *genericKernel
	k.name = "avx2"
	return &k
}

// TestCPUDetection cross-checks the CPUID probe with the kernel's view of the CPU: on a
// Linux amd64 machine whose /proc/cpuinfo lists avx2 and fma, the AVX2 kernel must be found
// (and so tested by the tests above).
func TestCPUDetection(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("reads /proc/cpuinfo of linux/amd64")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	var flags []string
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = strings.Fields(line)
			break
		}
	}
	has := func(f string) bool {
		for _, g := range flags {
			if g == f {
				return true
			}
		}
		return false
	}
	want := has("avx2") && has("fma")
	if got := len(simdKernels()) > 0; got != want {
		t.Fatalf("SIMD kernel found = %v, /proc/cpuinfo avx2 and fma = %v", got, want)
	}
}
