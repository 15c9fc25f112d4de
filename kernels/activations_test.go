package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// activationMaxULP is the documented bound (activations.go): error against the correctly
// rounded result, in units in the last place of float32, for results of magnitude >= 2^-126;
// smaller results may be off by less than 2^-126 in absolute terms (flushed to zero).
const activationMaxULP = 2

const minNormal32 = 0x1p-126

// activationImpls lists every implementation this machine can run.
func activationImpls() []*activationKernels {
	return append([]*activationKernels{genericActivations}, simdActivations()...)
}

func sigmoidRef(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }
func tanhRef(x float32) float64    { return math.Tanh(float64(x)) }

// ulpErr is |got - ref| in float32 ulps at ref (2^-149 below 2^-126), or +Inf when ref is
// NaN and got is not, or the other way round.
func ulpErr(got float32, ref float64) float64 {
	if math.IsNaN(ref) || math.IsNaN(float64(got)) {
		if math.IsNaN(ref) && math.IsNaN(float64(got)) {
			return 0
		}
		return math.Inf(1)
	}
	if math.IsInf(ref, 0) || math.IsInf(float64(got), 0) {
		if float64(got) == ref {
			return 0
		}
		return math.Inf(1)
	}
	ulp := 0x1p-149
	if a := math.Abs(ref); a >= minNormal32 {
		_, e := math.Frexp(a)
		ulp = math.Ldexp(1, e-24)
	}
	return math.Abs(float64(got)-ref) / ulp
}

// activationCase is one function under test: its reference and its implementations' entry.
type activationCase struct {
	name string
	ref  func(float32) float64
	fn   func(a *activationKernels) func(dst, src []float32)
}

var activationCases = []activationCase{
	{"sigmoid", sigmoidRef, func(a *activationKernels) func(dst, src []float32) { return a.sigmoid }},
	{"tanh", tanhRef, func(a *activationKernels) func(dst, src []float32) { return a.tanh }},
}

// activationErr tracks the largest error seen over a set of inputs.
type activationErr struct {
	maxULP  float64
	worstX  float32
	maxAbs  float64 // over results below 2^-126
	worstAX float32
}

// check records the error of got = f(x) and reports whether it is within the bound.
func (e *activationErr) check(x, got float32, ref float64) bool {
	if !math.IsNaN(ref) && math.Abs(ref) < minNormal32 && !math.IsNaN(float64(got)) {
		d := math.Abs(float64(got) - ref)
		if d > e.maxAbs {
			e.maxAbs, e.worstAX = d, x
		}
		return d < minNormal32
	}
	u := ulpErr(got, ref)
	if u > e.maxULP || math.IsInf(u, 1) {
		e.maxULP, e.worstX = u, x
	}
	return u <= activationMaxULP
}

// sweep runs f over xs (in chunks of odd lengths, so the SIMD tails are exercised) and checks
// every result against ref.
func sweep(t *testing.T, name string, f func(dst, src []float32), ref func(float32) float64, xs []float32, e *activationErr) {
	t.Helper()
	got := make([]float32, len(xs))
	for lo := 0; lo < len(xs); {
		hi := min(lo+1+(lo*7)%61, len(xs))
		f(got[lo:hi], xs[lo:hi])
		lo = hi
	}
	bad := 0
	for i, x := range xs {
		if !e.check(x, got[i], ref(x)) {
			if bad < 10 {
				t.Errorf("%s(%g [%#08x]) = %g [%#08x], want %g (%.3g ulp)", name, x, math.Float32bits(x), got[i], math.Float32bits(got[i]), ref(x), ulpErr(got[i], ref(x)))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d inputs out of bounds", name, bad, len(xs))
	}
}

// specialInputs are the edge cases: zeros, infinities, NaNs, subnormals, the largest finite
// values, and both sides of every range boundary of the algorithms.
func specialInputs() []float32 {
	xs := []float32{
		0, float32(math.Copysign(0, -1)),
		float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800001), // quiet, negative, signalling NaN
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		minNormal32, -minNormal32, 1e-30, -1e-30, 1e-7, -1e-7, 1, -1, 0.5, -0.5,
	}
	for _, b := range []float32{tanhSmall, expMinA, -expMinA, expMinA / 2, -expMinA / 2, 88.72, -88.72, 103.9, -103.9, 9.01, -9.01, 17.33, -17.33} {
		xs = append(xs, b, -b)
		for k, up, dn := 0, b, b; k < 4; k++ {
			up = math.Nextafter32(up, float32(math.Inf(1)))
			dn = math.Nextafter32(dn, float32(math.Inf(-1)))
			xs = append(xs, up, dn, -up, -dn)
		}
	}
	return xs
}

func TestActivationsSpecial(t *testing.T) {
	type want struct {
		x         float32
		sig, tanh float32
	}
	negZero := float32(math.Copysign(0, -1))
	exact := []want{
		{0, 0.5, 0},
		{negZero, 0.5, negZero},
		{float32(math.Inf(1)), 1, 1},
		{float32(math.Inf(-1)), 0, -1},
		{100, 1, 1},
		{-100, 0, -1},
		{math.MaxFloat32, 1, 1},
		{-math.MaxFloat32, 0, -1},
	}
	for _, a := range activationImpls() {
		for _, w := range exact {
			var s, th [1]float32
			a.sigmoid(s[:], []float32{w.x})
			a.tanh(th[:], []float32{w.x})
			if math.Float32bits(s[0]) != math.Float32bits(w.sig) {
				t.Errorf("%s: sigmoid(%g) = %g, want %g", a.name, w.x, s[0], w.sig)
			}
			if math.Float32bits(th[0]) != math.Float32bits(w.tanh) {
				t.Errorf("%s: tanh(%g) = %g, want %g", a.name, w.x, th[0], w.tanh)
			}
		}
		for _, c := range activationCases {
			var e activationErr
			sweep(t, a.name+"/"+c.name, c.fn(a), c.ref, specialInputs(), &e)
		}
	}
}

// TestActivationsStride checks every 65521st float32 bit pattern (about 65 thousand inputs
// spread over the whole range, both signs, NaNs and infinities included) and 2^18 random
// inputs in [-20, 20], where the results are not saturated.
func TestActivationsStride(t *testing.T) {
	var xs []float32
	for b := uint64(0); b < 1<<32; b += 65521 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 18 {
		xs = append(xs, float32(rng.Float64()*40-20))
	}
	for _, a := range activationImpls() {
		for _, c := range activationCases {
			var e activationErr
			sweep(t, a.name+"/"+c.name, c.fn(a), c.ref, xs, &e)
			t.Logf("%s/%s: max %.3f ulp (at %g); below 2^-126 max abs error %.3g (at %g)", a.name, c.name, e.maxULP, e.worstX, e.maxAbs, e.worstAX)
		}
	}
}

// TestActivationsExhaustive checks every float32 input, each implementation and function a
// subtest (several CPU minutes each: the float64 reference dominates); it runs when
// GENDL_EXHAUSTIVE is set.
func TestActivationsExhaustive(t *testing.T) {
	if os.Getenv("GENDL_EXHAUSTIVE") == "" {
		t.Skip("set GENDL_EXHAUSTIVE=1 to check every float32 input")
	}
	for _, a := range activationImpls() {
		for _, c := range activationCases {
			t.Run(a.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				const chunk = 1 << 16
				xs := make([]float32, chunk)
				got := make([]float32, chunk)
				f := c.fn(a)
				var e activationErr
				bad := 0
				for base := uint64(0); base < 1<<32; base += chunk {
					for i := range xs {
						xs[i] = math.Float32frombits(uint32(base + uint64(i)))
					}
					f(got, xs)
					for i, x := range xs {
						if !e.check(x, got[i], c.ref(x)) {
							bad++
						}
					}
				}
				t.Logf("every float32: max %.3f ulp (at %g); below 2^-126 max abs error %.3g (at %g); %d out of bounds", e.maxULP, e.worstX, e.maxAbs, e.worstAX, bad)
				if bad > 0 {
					t.Errorf("%d inputs out of bounds", bad)
				}
			})
		}
	}
}

// TestActivationsLayout checks lengths 0 to 40 at every alignment: each element's result
// does not depend on its position (SIMD body or tail), the elements after n are not
// written, and dst may be src.
func TestActivationsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, a := range activationImpls() {
		for _, c := range activationCases {
			f := c.fn(a)
			for n := 0; n <= 40; n++ {
				for off := range 8 {
					src := make([]float32, off+n+8)
					for i := range src {
						src[i] = float32(rng.NormFloat64() * 4)
					}
					dst := make([]float32, len(src))
					for i := range dst {
						dst[i] = -7
					}
					f(dst[off:off+n], src[off:off+n])
					for i := range dst {
						if i < off || i >= off+n {
							if dst[i] != -7 {
								t.Fatalf("%s/%s n=%d off=%d: dst[%d] written", a.name, c.name, n, off, i)
							}
							continue
						}
						var one [1]float32
						f(one[:], src[i:i+1])
						if math.Float32bits(one[0]) != math.Float32bits(dst[i]) {
							t.Fatalf("%s/%s n=%d off=%d: element %d = %g, alone %g", a.name, c.name, n, off, i, dst[i], one[0])
						}
					}
					in := append([]float32(nil), src...)
					f(in[off:off+n], in[off:off+n])
					for i := off; i < off+n; i++ {
						if math.Float32bits(in[i]) != math.Float32bits(dst[i]) {
							t.Fatalf("%s/%s n=%d off=%d: in place element %d = %g, want %g", a.name, c.name, n, off, i, in[i], dst[i])
						}
					}
				}
			}
		}
	}
}

// TestActivationsExported checks SigmoidF32 and TanhF32: the kernel in use, short dst
// panics, empty slices are fine.
func TestActivationsExported(t *testing.T) {
	t.Logf("activation kernel: %s", activation.name)
	src := []float32{-3, -0.25, 0, 0.25, 3}
	dst := make([]float32, len(src))
	SigmoidF32(dst, src)
	for i, x := range src {
		if ulpErr(dst[i], sigmoidRef(x)) > activationMaxULP {
			t.Errorf("SigmoidF32(%g) = %g", x, dst[i])
		}
	}
	TanhF32(dst, src)
	for i, x := range src {
		if ulpErr(dst[i], tanhRef(x)) > activationMaxULP {
			t.Errorf("TanhF32(%g) = %g", x, dst[i])
		}
	}
	SigmoidF32(nil, nil)
	TanhF32(nil, nil)
	for _, f := range []func(dst, src []float32){SigmoidF32, TanhF32} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("short dst did not panic")
				}
			}()
			f(dst[:2], src)
		}()
	}
	if got := chooseActivations("generic"); got != genericActivations {
		t.Errorf("chooseActivations(generic) = %s", got.name)
	}
}

func BenchmarkActivations(b *testing.B) {
	for _, n := range []int{128, 4096} {
		src := make([]float32, n)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 3)
		}
		dst := make([]float32, n)
		for _, a := range activationImpls() {
			for _, c := range activationCases {
				f := c.fn(a)
				b.Run(fmt.Sprintf("%s/%s/n=%d", c.name, a.name, n), func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						f(dst, src)
					}
				})
			}
		}
		b.Run(fmt.Sprintf("sigmoid/float64/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				for i, v := range src {
					dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
				}
			}
		})
		b.Run(fmt.Sprintf("tanh/float64/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				for i, v := range src {
					dst[i] = float32(math.Tanh(float64(v)))
				}
			}
		})
	}
}
