package sample_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/sample"
)

// spec is the Sampler spec of an exported char-LSTM at batch 1.
func spec(cfg charlstm.Config) sample.Spec {
	s := sample.Spec{Input: charlstm.InputName, Probs: charlstm.ProbsName, VocabSize: cfg.VocabSize()}
	for l := range cfg.Layers {
		shape := []int{1, 1, cfg.Hidden}
		s.States = append(s.States,
			sample.State{In: charlstm.H0Name(l), Out: charlstm.HName(l), Shape: shape},
			sample.State{In: charlstm.C0Name(l), Out: charlstm.CName(l), Shape: shape})
	}
	return s
}

func newSampler(t *testing.T, cfg charlstm.Config, p *charlstm.Params, seed uint64) *sample.Sampler {
	t.Helper()
	m, err := charlstm.Export(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sample.New(plan.NewSession(engine.SessionOptions{}), spec(cfg), seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// constantModel returns a char-LSTM whose output is p whatever the input and state: zero
// LSTM weights keep c = 0 and h = 0 (c' = f·0 + i·tanh(0)), a zero head maps h to the bias
// log(p), and softmax(log p) = p.
func constantModel(t *testing.T, p []float64) (charlstm.Config, *charlstm.Params) {
	t.Helper()
	cfg := charlstm.Tiny()
	if cfg.VocabSize() != len(p) {
		t.Fatalf("want %d probabilities", cfg.VocabSize())
	}
	params, err := charlstm.NewParams(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, ly := range params.Layers {
		clear(ly.W.F32())
		clear(ly.R.F32())
		clear(ly.B.F32())
	}
	clear(params.HeadW.F32())
	for i, v := range p {
		params.HeadB.F32()[i] = float32(math.Log(v))
	}
	return cfg, params
}

// TestSamplerFrequencies generates 20,000 characters from a model of constant output p at
// temperature 0.5 and compares the character counts with Reweight(p, 0.5) by a chi-square
// test: 7 degrees of freedom, threshold 24.322 = the 0.999 quantile (NIST/SEMATECH
// e-Handbook 1.3.6.7.4), fixed seed.
func TestSamplerFrequencies(t *testing.T) {
	p := []float64{0.05, 0.2, 0.1, 0.15, 0.05, 0.25, 0.1, 0.1}
	cfg, params := constantModel(t, p)
	s := newSampler(t, cfg, params, 7)
	const n, temp, crit = 20000, 0.5, 24.322
	pf := make([]float32, len(p))
	for i, v := range p {
		pf[i] = float32(v)
	}
	want, err := sample.Reweight(nil, pf, temp)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, len(p))
	err = s.Generate([]int{1, 2}, n, sample.Options{Temperature: temp}, func(i int) error {
		counts[i]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var x2 float64
	for i, c := range counts {
		e := want[i] * n
		x2 += (float64(c) - e) * (float64(c) - e) / e
	}
	if x2 > crit {
		t.Errorf("chi-square %.2f > %.3f: counts %v, expected proportions %v", x2, crit, counts, want)
	}
	t.Logf("chi-square %.2f (df 7, threshold %.3f)", x2, crit)
}

// TestSamplerDeterministic: a seed reproduces a sample exactly, another seed changes it, and
// greedy decoding does not depend on the seed and follows the argmax chain.
func TestSamplerDeterministic(t *testing.T) {
	cfg := charlstm.Tiny()
	cfg.Layers, cfg.Hidden = 2, 16
	params, err := charlstm.NewParams(cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	// Sharpen the head so that samples vary with the state.
	for i := range params.HeadW.F32() {
		params.HeadW.F32()[i] *= 8
	}
	vocab, _ := cfg.Vocab()
	seed, _ := vocab.Encode("the hat")
	gen := func(s *sample.Sampler, opt sample.Options) string {
		var b bytes.Buffer
		if err := s.WriteText(&b, vocab.Runes(), seed, 200, opt); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	opt := sample.Options{Temperature: 1}
	a1 := gen(newSampler(t, cfg, params, 1), opt)
	a2 := gen(newSampler(t, cfg, params, 1), opt)
	b1 := gen(newSampler(t, cfg, params, 2), opt)
	if a1 != a2 {
		t.Errorf("same seed, different samples:\n%q\n%q", a1, a2)
	}
	if a1 == b1 {
		t.Errorf("seeds 1 and 2 give the same 200 characters %q", a1)
	}
	if n := len([]rune(a1)); n != 200 {
		t.Errorf("got %d characters, want 200", n)
	}
	g := sample.Options{Greedy: true}
	s1 := newSampler(t, cfg, params, 1)
	g1, g2 := gen(s1, g), gen(newSampler(t, cfg, params, 99), g)
	if g1 != g2 {
		t.Errorf("greedy depends on the seed:\n%q\n%q", g1, g2)
	}
	// The argmax chain, one Feed at a time.
	s1.Reset()
	if err := s1.Feed(seed); err != nil {
		t.Fatal(err)
	}
	var chain []rune
	for range 200 {
		i, err := sample.Argmax(s1.Probs())
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, vocab.Rune(i))
		if err := s1.Feed([]int{i}); err != nil {
			t.Fatal(err)
		}
	}
	if string(chain) != g1 {
		t.Errorf("greedy Generate %q, argmax chain %q", g1, string(chain))
	}
}

func TestSamplerErrors(t *testing.T) {
	cfg := charlstm.Tiny()
	params, _ := charlstm.NewParams(cfg, rand.New(rand.NewPCG(1, 1)))
	s := newSampler(t, cfg, params, 1)
	emit := func(int) error { return nil }
	for _, c := range []struct {
		seed []int
		opt  sample.Options
		want string
	}{
		{[]int{1}, sample.Options{Temperature: 0}, "temperature 0"},
		{[]int{1}, sample.Options{Temperature: -0.5}, "temperature -0.5"},
		{nil, sample.Options{Temperature: 1}, "empty seed"},
		{[]int{1, 8}, sample.Options{Temperature: 1}, "index 8 at position 1 is outside the vocabulary of 8"},
		{[]int{1}, sample.Options{Temperature: 1, TopK: -2}, "top-k = -2"},
	} {
		if err := s.Generate(c.seed, 5, c.opt, emit); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%v, %+v): want an error containing %q, got %v", c.seed, c.opt, c.want, err)
		}
	}
	if _, err := s.Next(sample.Options{Temperature: 1}); err == nil {
		t.Error("Next before any Feed: want an error")
	}
	stop := errors.New("stop")
	if err := s.Generate([]int{1}, 5, sample.Options{Temperature: 1}, func(int) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit's error: got %v", err)
	}
	bad := spec(cfg)
	bad.Input = "nope"
	plan, _ := engine.New(must(charlstm.Export(cfg, params)), engine.Options{})
	bs, err := sample.New(plan.NewSession(engine.SessionOptions{}), bad, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.Generate([]int{1}, 1, sample.Options{Temperature: 1}, emit); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("wrong input name: got %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
