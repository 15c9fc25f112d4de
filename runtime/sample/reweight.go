package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Options choose how a symbol is drawn from a distribution.
type Options struct {
	// Temperature reweights the distribution (see Reweight); it must be finite and > 0
	// unless Greedy is set.
	Temperature float64
	// Greedy takes the most probable symbol (the lowest index among ties) and ignores
	// Temperature and TopK.
	Greedy bool
	// TopK, when > 0, draws only among the TopK most probable symbols.
	TopK int
}

// Validate reports an unusable temperature or top-k.
func (o Options) Validate() error {
	if o.TopK < 0 {
		return fmt.Errorf("sample: top-k = %d, want >= 0 (0: no limit)", o.TopK)
	}
	if o.Greedy {
		return nil
	}
	return checkTemperature(o.Temperature)
}

func checkTemperature(t float64) error {
	if !(t > 0) || math.IsInf(t, 1) {
		return fmt.Errorf("sample: temperature %v: want a finite number > 0", t)
	}
	return nil
}

// Reweight writes into dst (grown as needed, and returned) the distribution p reweighted at
// temperature t: exp(log(p_i)/t) renormalised, computed in float64 in log space; p_i = 0
// stays 0. p need not sum to 1 (it is renormalised). Negative or NaN entries, all-zero p and
// a temperature that is not finite and > 0 are errors.
func Reweight(dst []float64, p []float32, t float64) ([]float64, error) {
	if err := checkTemperature(t); err != nil {
		return dst, err
	}
	dst = slices.Grow(dst[:0], len(p))[:len(p)]
	best := -1
	for i, v := range p {
		if err := checkProb(i, v); err != nil {
			return dst, err
		}
		if v > 0 && (best < 0 || v > p[best]) {
			best = i
		}
	}
	if best < 0 {
		return dst, errors.New("sample: every probability is zero")
	}
	logMax := math.Log(float64(p[best]))
	var sum float64
	for i, v := range p {
		if v == 0 {
			dst[i] = 0
			continue
		}
		// (log p_i - log p_max) / t <= 0: exp cannot overflow; the maximum gets exactly 1,
		// so the sum is >= 1 even when t is tiny and the others underflow to 0.
		w := math.Exp((math.Log(float64(v)) - logMax) / t)
		dst[i] = w
		sum += w
	}
	for i := range dst {
		dst[i] /= sum
	}
	return dst, nil
}

func checkProb(i int, v float32) error {
	if v < 0 || v != v || math.IsInf(float64(v), 1) {
		return fmt.Errorf("sample: probability %d is %v: the model's output is not a distribution", i, v)
	}
	return nil
}

// Argmax returns the index of the largest entry of p (the lowest index among ties), checking
// that p is a distribution.
func Argmax(p []float32) (int, error) {
	best := -1
	for i, v := range p {
		if err := checkProb(i, v); err != nil {
			return -1, err
		}
		if v > 0 && (best < 0 || v > p[best]) {
			best = i
		}
	}
	if best < 0 {
		return -1, errors.New("sample: every probability is zero")
	}
	return best, nil
}

// KeepTopK zeroes every weight of w but the k largest (ties kept in index order) and
// renormalises the rest to sum to 1. k <= 0 or k >= len(w) leaves w unchanged.
func KeepTopK(w []float64, k int) {
	if k <= 0 || k >= len(w) {
		return
	}
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case w[a] > w[b]:
			return -1
		case w[a] < w[b]:
			return 1
		}
		return 0
	})
	for _, i := range idx[k:] {
		w[i] = 0
	}
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
}

// Pick returns the index i where the cumulative sum of w first exceeds u*Σw (inverse-CDF
// sampling; u uniform in [0, 1)). Entries with w_i = 0 are never picked.
func Pick(w []float64, u float64) int {
	var total float64
	for _, v := range w {
		total += v
	}
	target := u * total
	last := -1
	var acc float64
	for i, v := range w {
		if v == 0 {
			continue
		}
		acc += v
		last = i
		if target < acc {
			return i
		}
	}
	return last // rounding left target >= acc: the last non-zero entry
}

// Choose draws an index from the distribution p according to opt, using rng. scratch, when
// not nil, is reused for the reweighted distribution.
func Choose(p []float32, opt Options, rng *rand.Rand, scratch *[]float64) (int, error) {
	if err := opt.Validate(); err != nil {
		return -1, err
	}
	if opt.Greedy {
		return Argmax(p)
	}
	var buf []float64
	if scratch != nil {
		buf = *scratch
	}
	w, err := Reweight(buf, p, opt.Temperature)
	if scratch != nil {
		*scratch = w
	}
	if err != nil {
		return -1, err
	}
	KeepTopK(w, opt.TopK)
	return Pick(w, rng.Float64()), nil
}
