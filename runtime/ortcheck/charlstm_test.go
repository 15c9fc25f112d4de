//go:build ort

package ortcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/sample"
	"github.com/gendl/gendl/runtime/tensor"
)

// charVocab60 is a 60-character vocabulary, about the size of an English text's (the book's
// Nietzsche corpus has 57 after lower-casing).
const charVocab60 = "\n !\"'(),-.0123456789:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"

// charLSTMFile exports a char-LSTM of the given layers and hidden size with initialised,
// then perturbed, weights (random biases and a sharpened head, so that every term counts and
// the distributions are far from uniform), writes it to a file and reads the file back: the
// bytes both executors get are those of an exported file.
func charLSTMFile(tb testing.TB, layers, hidden int) (charlstm.Config, *onnx.ModelProto) {
	tb.Helper()
	cfg := charlstm.Config{Vocabulary: charVocab60, Layers: layers, Hidden: hidden, MaxLen: 60, Step: 3, Target: charlstm.TargetNext, Corpus: "synthetic"}
	rng := rand.New(rand.NewPCG(uint64(layers), uint64(hidden)))
	p, err := charlstm.NewParams(cfg, rng)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ly := range p.Layers {
		for i := range ly.B.F32() {
			ly.B.F32()[i] += float32(rng.NormFloat64() * 0.5)
		}
	}
	for i := range p.HeadW.F32() {
		p.HeadW.F32()[i] *= 4
	}
	for i := range p.HeadB.F32() {
		p.HeadB.F32()[i] = float32(rng.NormFloat64())
	}
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("charlstm_%dx%d.onnx", layers, hidden))
	if err := charlstm.ExportFile(path, cfg, p); err != nil {
		tb.Fatal(err)
	}
	m, err := onnx.DecodeFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, m
}

// charLSTMTol is the bound on |gendl - ORT| for the probabilities; states and logits
// are held to the same absolute bound (they are O(1) here).
const charLSTMTol = 1e-4

// TestCharLSTMVsORT runs exported char-LSTMs (hidden 128, 60 characters, 1 and 2 layers) in
// gendl and ORT on 40 random characters of 3 sequences with random initial states and
// compares every output.
func TestCharLSTMVsORT(t *testing.T) {
	requireORT(t)
	for _, layers := range []int{1, 2} {
		cfg, m := charLSTMFile(t, layers, 128)
		p, err := loadPair(m)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Destroy()
		rng := rand.New(rand.NewPCG(11, uint64(layers)))
		const T, N = 40, 3
		V, H := cfg.VocabSize(), cfg.Hidden
		x := tensor.New(tensor.Float32, T, N, V)
		for i := range T * N {
			x.F32()[i*V+rng.IntN(V)] = 1
		}
		feeds := map[string]*tensor.Tensor{charlstm.InputName: x}
		for l := range layers {
			feeds[charlstm.H0Name(l)] = randTensor(rng, []int{1, N, H}, 1)
			feeds[charlstm.C0Name(l)] = randTensor(rng, []int{1, N, H}, 1)
		}
		got, want, err := p.run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range p.plan.Outputs {
			if !tensor.SameShape(got[i].Shape, want[i].Shape) {
				t.Fatalf("%d layers: %s: gendl shape %v, ORT %v", layers, o.Name, got[i].Shape, want[i].Shape)
			}
			var maxDiff float64
			for j, g := range got[i].F32() {
				maxDiff = max(maxDiff, math.Abs(float64(g-want[i].F32()[j])))
			}
			if maxDiff > charLSTMTol || math.IsNaN(maxDiff) {
				t.Errorf("%d layers: %s: max |gendl - ORT| = %.3g, want <= %g", layers, o.Name, maxDiff, charLSTMTol)
			}
			t.Logf("%d layers: %s: max |gendl - ORT| = %.3g", layers, o.Name, maxDiff)
		}
	}
}

// trainedText is the input of the trained-model comparisons: two sentences of Opticks, cut
// to equal length (two sequences of one batch).
var trainedText = [2]string{
	"The Light which is reflected from the second Surface of a thin Plate of Air",
	"and when the Rays are refracted through the Prism, they are separated by it",
}

// TestTrainedCharLSTMVsORT runs the embedded default model, a file exported by gendl-train
// after real training (so saturated gates and peaked distributions, unlike initialised
// weights), in gendl and ORT on two sentences of the corpus from zero states and compares
// every output (probabilities, logits, final states) within charLSTMTol. trainer/nn's
// TestDefaultModelNetMatchesEngine runs the same file and text through the Gorgonia training
// graph and the engine: together, Gorgonia, gendl and ORT agree on it.
func TestTrainedCharLSTMVsORT(t *testing.T) {
	requireORT(t)
	model, err := charlstm.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config
	p, err := loadPair(model.Proto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Destroy()
	T := min(len(trainedText[0]), len(trainedText[1]))
	const N = len(trainedText)
	V, H := cfg.VocabSize(), cfg.Hidden
	x := tensor.New(tensor.Float32, T, N, V)
	for n, s := range trainedText {
		ids, err := model.Vocab.Encode(s[:T])
		if err != nil {
			t.Fatal(err)
		}
		for tt, id := range ids {
			x.F32()[(tt*N+n)*V+id] = 1
		}
	}
	feeds := map[string]*tensor.Tensor{charlstm.InputName: x}
	for l := range cfg.Layers {
		feeds[charlstm.H0Name(l)] = tensor.New(tensor.Float32, 1, N, H)
		feeds[charlstm.C0Name(l)] = tensor.New(tensor.Float32, 1, N, H)
	}
	got, want, err := p.run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range p.plan.Outputs {
		if !tensor.SameShape(got[i].Shape, want[i].Shape) {
			t.Fatalf("%s: gendl shape %v, ORT %v", o.Name, got[i].Shape, want[i].Shape)
		}
		var maxDiff, maxAbs float64
		for j, g := range got[i].F32() {
			maxDiff = max(maxDiff, math.Abs(float64(g-want[i].F32()[j])))
			maxAbs = max(maxAbs, math.Abs(float64(want[i].F32()[j])))
		}
		if maxDiff > charLSTMTol || math.IsNaN(maxDiff) {
			t.Errorf("%s: max |gendl - ORT| = %.3g, want <= %g", o.Name, maxDiff, charLSTMTol)
		}
		t.Logf("%s: max |gendl - ORT| = %.3g (max |ORT| %.3g)", o.Name, maxDiff, maxAbs)
		if o.Name == charlstm.ProbsName && maxAbs < 0.5 {
			// a trained model is confident somewhere in 150 characters of its own corpus
			t.Errorf("largest probability %.3g: not a trained model's output", maxAbs)
		}
	}
}

// BenchmarkCharLSTMSample measures text generation at batch 1 on the same exported file:
// each op is one generated character — one run at T = 1 carrying h/c, then a draw at
// temperature 0.5. gendl goes through sample.Sampler (what `gendl sample text` does); ORT
// through onnxruntime_go with every input and output tensor allocated once and reused (its
// fastest use from Go), one thread each. Reported: chars/s.
func BenchmarkCharLSTMSample(b *testing.B) {
	for _, layers := range []int{1, 2} {
		cfg, m := charLSTMFile(b, layers, 128)
		name := fmt.Sprintf("layers=%d/hidden=128/vocab=%d", layers, cfg.VocabSize())
		b.Run("gendl/"+name, func(b *testing.B) { benchGendlSample(b, cfg, m) })
		b.Run("ort/"+name, func(b *testing.B) { benchORTSample(b, cfg, m) })
	}
}

func samplerSpec(cfg charlstm.Config) sample.Spec {
	s := sample.Spec{Input: charlstm.InputName, Probs: charlstm.ProbsName, VocabSize: cfg.VocabSize()}
	for l := range cfg.Layers {
		shape := []int{1, 1, cfg.Hidden}
		s.States = append(s.States,
			sample.State{In: charlstm.H0Name(l), Out: charlstm.HName(l), Shape: shape},
			sample.State{In: charlstm.C0Name(l), Out: charlstm.CName(l), Shape: shape})
	}
	return s
}

func benchGendlSample(b *testing.B, cfg charlstm.Config, m *onnx.ModelProto) {
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sample.New(plan.NewSession(engine.SessionOptions{Threads: 1}), samplerSpec(cfg), 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Feed([]int{0, 1, 2}); err != nil {
		b.Fatal(err)
	}
	opt := sample.Options{Temperature: 0.5}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := s.Next(opt)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Feed([]int{c}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chars/s")
}

func benchORTSample(b *testing.B, cfg charlstm.Config, m *onnx.ModelProto) {
	requireORT(b)
	data, err := onnx.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	om, err := newORTModel(m, data)
	if err != nil {
		b.Fatal(err)
	}
	defer om.Destroy()
	V, H := cfg.VocabSize(), cfg.Hidden
	byName := map[string]*ort.Tensor[float32]{}
	newT := func(name string, shape ...int64) {
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(shape...))
		if err != nil {
			b.Fatal(err)
		}
		byName[name] = t
	}
	newT(charlstm.InputName, 1, 1, int64(V))
	newT(charlstm.ProbsName, 1, 1, int64(V))
	newT(charlstm.LogitsName, 1, 1, int64(V))
	for l := range cfg.Layers {
		for _, n := range []string{charlstm.H0Name(l), charlstm.C0Name(l), charlstm.HName(l), charlstm.CName(l)} {
			newT(n, 1, 1, int64(H))
		}
	}
	defer func() {
		for _, t := range byName {
			t.Destroy()
		}
	}()
	ins := make([]ort.Value, len(om.inputs))
	for i, n := range om.inputs {
		ins[i] = byName[n]
	}
	outs := make([]ort.Value, len(om.outputs))
	for i, n := range om.outputs {
		outs[i] = byName[n]
	}
	x, probs := byName[charlstm.InputName].GetData(), byName[charlstm.ProbsName].GetData()
	rng := rand.New(rand.NewPCG(1, 0x67656e646c))
	var scratch []float64
	opt := sample.Options{Temperature: 0.5}
	prev := 0
	step := func(c int) {
		x[prev] = 0
		x[c] = 1
		prev = c
		if err := om.sess.Run(ins, outs); err != nil {
			b.Fatal(err)
		}
		for l := range cfg.Layers {
			copy(byName[charlstm.H0Name(l)].GetData(), byName[charlstm.HName(l)].GetData())
			copy(byName[charlstm.C0Name(l)].GetData(), byName[charlstm.CName(l)].GetData())
		}
	}
	for _, c := range []int{0, 1, 2} {
		step(c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := sample.Choose(probs, opt, rng, &scratch)
		if err != nil {
			b.Fatal(err)
		}
		step(c)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chars/s")
}
