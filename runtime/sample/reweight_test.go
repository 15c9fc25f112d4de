package sample

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// reweightTol bounds |got - want| for the hand-computed values: float64 log/exp round at
// about 1e-16 relative; 1e-12 leaves room for the float32 inputs' exact conversion only.
const reweightTol = 1e-12

func TestReweightHandComputed(t *testing.T) {
	for _, c := range []struct {
		p    []float32
		temp float64
		want []float64
	}{
		// T = 1: the identity (0.5, 0.25, 0.25 are exact in float32).
		{[]float32{0.5, 0.25, 0.25}, 1, []float64{0.5, 0.25, 0.25}},
		// T = 0.5 squares: 0.25, 0.0625, 0.0625 over 0.375.
		{[]float32{0.5, 0.25, 0.25}, 0.5, []float64{2.0 / 3, 1.0 / 6, 1.0 / 6}},
		// T = 0.5 with a zero: (0, 0.5², 0.25²) = (0, 0.25, 0.0625) / 0.3125; zero stays zero.
		{[]float32{0, 0.5, 0.25}, 0.5, []float64{0, 0.8, 0.2}},
		// Unnormalised input is renormalised: (2, 1, 1) at T = 1 is (0.5, 0.25, 0.25).
		{[]float32{2, 1, 1}, 1, []float64{0.5, 0.25, 0.25}},
		// T = 2 takes square roots: sqrt(0.5), sqrt(0.25) = 0.5 twice, over their sum.
		{[]float32{0.5, 0.25, 0.25}, 2, []float64{math.Sqrt(0.5) / (math.Sqrt(0.5) + 1), 0.5 / (math.Sqrt(0.5) + 1), 0.5 / (math.Sqrt(0.5) + 1)}},
	} {
		got, err := Reweight(nil, c.p, c.temp)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.want {
			if math.Abs(got[i]-c.want[i]) > reweightTol {
				t.Errorf("Reweight(%v, T=%v)[%d] = %.17g, want %.17g", c.p, c.temp, i, got[i], c.want[i])
			}
		}
	}
}

// TestReweightSmallTemperature: as T -> 0 the distribution approaches the one-hot of the
// argmax, without NaN even when exp(log(p)/T) alone would underflow for every entry.
func TestReweightSmallTemperature(t *testing.T) {
	p := []float32{0.2, 0.45, 0.35}
	prev := 0.0
	for _, temp := range []float64{1, 0.5, 0.1, 0.01, 1e-3, 1e-300} {
		w, err := Reweight(nil, p, temp)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, v := range w {
			if math.IsNaN(v) {
				t.Fatalf("T=%g: NaN in %v", temp, w)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("T=%g: sum %v, want 1", temp, sum)
		}
		if w[1] < prev {
			t.Errorf("T=%g: argmax weight %v decreased from %v", temp, w[1], prev)
		}
		prev = w[1]
	}
	// At T = 0.01 the runner-up's weight is (0.35/0.45)^100 ≈ 1.2e-11 of the maximum's.
	w, _ := Reweight(nil, p, 0.01)
	if w[1] < 1-1e-10 {
		t.Errorf("T=0.01: argmax weight %v, want > 1-1e-10", w[1])
	}
	if prev != 1 {
		t.Errorf("T=1e-300: argmax weight %v, want exactly 1", prev)
	}
}

func TestReweightErrors(t *testing.T) {
	for _, c := range []struct {
		p    []float32
		temp float64
		want string
	}{
		{[]float32{0.5, 0.5}, 0, "temperature 0: want a finite number > 0"},
		{[]float32{0.5, 0.5}, -1, "temperature -1"},
		{[]float32{0.5, 0.5}, math.NaN(), "temperature NaN"},
		{[]float32{0.5, 0.5}, math.Inf(1), "temperature +Inf"},
		{[]float32{0, 0}, 1, "every probability is zero"},
		{[]float32{0.5, -0.1}, 1, "probability 1 is -0.1"},
		{[]float32{float32(math.NaN()), 1}, 1, "probability 0 is NaN"},
	} {
		if _, err := Reweight(nil, c.p, c.temp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Reweight(%v, %v): want an error containing %q, got %v", c.p, c.temp, c.want, err)
		}
	}
	if err := (Options{Temperature: 1, TopK: -1}).Validate(); err == nil {
		t.Error("top-k -1: want an error")
	}
	if err := (Options{Greedy: true}).Validate(); err != nil {
		t.Errorf("greedy ignores the temperature: %v", err)
	}
}

func TestArgmaxTopKPick(t *testing.T) {
	if i, err := Argmax([]float32{0.1, 0.4, 0.4, 0.1}); err != nil || i != 1 {
		t.Errorf("Argmax with a tie: %d, %v; want 1 (lowest index)", i, err)
	}
	w := []float64{0.1, 0.4, 0.2, 0.3}
	KeepTopK(w, 2)
	want := []float64{0, 4.0 / 7, 0, 3.0 / 7}
	for i := range w {
		if math.Abs(w[i]-want[i]) > reweightTol {
			t.Errorf("KeepTopK(2): %v, want %v", w, want)
			break
		}
	}
	// Pick never returns a zero-weight entry, at either end of [0, 1).
	for _, u := range []float64{0, 0.5, 0.999999999} {
		if i := Pick([]float64{0, 0.5, 0, 0.5, 0}, u); i != 1 && i != 3 {
			t.Errorf("Pick(u=%v) = %d, a zero-weight entry", u, i)
		}
	}
	if i := Pick([]float64{0.25, 0.25, 0.5}, 0.49); i != 1 {
		t.Errorf("Pick(0.49) = %d, want 1", i)
	}
}

// chiSquare returns Σ (observed - expected)² / expected over the entries with expected > 0,
// and fails if any entry with expected 0 was observed.
func chiSquare(t *testing.T, counts []int, want []float64, n int) float64 {
	t.Helper()
	var x2 float64
	for i, c := range counts {
		e := want[i] * float64(n)
		if e == 0 {
			if c != 0 {
				t.Fatalf("symbol %d of probability 0 drawn %d times", i, c)
			}
			continue
		}
		x2 += (float64(c) - e) * (float64(c) - e) / e
	}
	return x2
}

// chi2Crit999 holds the 0.999 quantile of the chi-square distribution by degrees of freedom
// (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4): a correct sampler fails a
// test at this threshold once in 1000 seeds; the seeds here are fixed, so the tests are
// deterministic.
var chi2Crit999 = map[int]float64{3: 16.266, 4: 18.467, 7: 24.322}

// TestChooseFrequencies draws 100,000 times at T = 0.5 and top-k 4 and compares the counts
// with the reweighted distribution.
func TestChooseFrequencies(t *testing.T) {
	p := []float32{0.05, 0.3, 0, 0.25, 0.15, 0.25}
	for _, opt := range []Options{{Temperature: 0.5}, {Temperature: 1.5}, {Temperature: 1, TopK: 4}} {
		want, err := Reweight(nil, p, opt.Temperature)
		if err != nil {
			t.Fatal(err)
		}
		KeepTopK(want, opt.TopK)
		rng := rand.New(rand.NewPCG(42, 1))
		const n = 100000
		counts := make([]int, len(p))
		var scratch []float64
		for range n {
			i, err := Choose(p, opt, rng, &scratch)
			if err != nil {
				t.Fatal(err)
			}
			counts[i]++
		}
		df := -1
		for _, w := range want {
			if w > 0 {
				df++
			}
		}
		x2 := chiSquare(t, counts, want, n)
		if x2 > chi2Crit999[df] {
			t.Errorf("%+v: chi-square %.2f over %d degrees of freedom exceeds the 0.999 quantile %.3f (counts %v)", opt, x2, df, chi2Crit999[df], counts)
		}
		t.Logf("%+v: chi-square %.2f (df %d, threshold %.3f)", opt, x2, df, chi2Crit999[df])
	}
}
