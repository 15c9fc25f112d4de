package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
)

// largeParams returns float32 parameters of cfg uniform in ±scale, so that the gates
// saturate differently per unit and the probabilities are far from uniform: a wrong
// forward pass cannot hide behind near-uniform outputs.
func largeParams(t *testing.T, cfg charlstm.Config, scale float64, rng *rand.Rand) *charlstm.Params {
	t.Helper()
	p, err := charlstm.NewParams(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ParamSlices(p) {
		for i := range s {
			s[i] = float32((2*rng.Float64() - 1) * scale)
		}
	}
	return p
}

// engineProbs runs the exported model of cfg, p on x (time-major, x[t·B+n], no padding) and
// returns probs [T, B, V].
func engineProbs(t *testing.T, cfg charlstm.Config, p *charlstm.Params, x []int32, B int) []float32 {
	t.Helper()
	m, err := charlstm.Export(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	T, V, H := cfg.MaxLen, cfg.VocabSize(), cfg.Hidden
	xt := rt.New(rt.Float32, T, B, V)
	for tt := range T {
		for n := range B {
			xt.F32()[(tt*B+n)*V+int(x[tt*B+n])] = 1
		}
	}
	feeds := map[string]*rt.Tensor{charlstm.InputName: xt}
	for l := range cfg.Layers {
		feeds[charlstm.H0Name(l)] = rt.New(rt.Float32, 1, B, H)
		feeds[charlstm.C0Name(l)] = rt.New(rt.Float32, 1, B, H)
	}
	out, err := plan.NewSession(engine.SessionOptions{}).Run(feeds, charlstm.ProbsName)
	if err != nil {
		t.Fatal(err)
	}
	return out[charlstm.ProbsName].F32()
}

// TestNetMatchesExport checks that the training graph (float32, as trained; the fused ops and
// the reference graph of Gorgonia's ops, the latter with both BLAS implementations) computes the same probabilities as the exported ONNX model run in the
// engine, with large weights, for 1 and 2 layers, 1 to 3 steps, both targets and hidden
// sizes 8, 64 and 128 (64 and 128 caught G.Slice's hash collisions, see rowBlock). The
// comparison is relative (|d| <= 1e-4·|want| + 1e-6), so it also sees small probabilities.
func TestNetMatchesExport(t *testing.T) {
	defer restoreBLAS()()
	for _, graph := range []string{"fused", "reference-gonum", "reference-gendl"} {
		for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
			for _, layers := range []int{1, 2} {
				for _, T := range []int{1, 2, 3} {
					for _, H := range []int{8, 64, 128} {
						name := fmt.Sprintf("%s/%s/L%d/T%d/H%d", graph, target, layers, T, H)
						t.Run(name, func(t *testing.T) {
							if graph == "reference-gonum" {
								UseGonumBLAS()
							} else {
								UseGendlBLAS()
							}
							ref := graph != "fused"
							cfg := charlstm.Tiny()
							cfg.Target, cfg.Layers, cfg.MaxLen, cfg.Hidden = target, layers, T, H
							rng := rand.New(rand.NewPCG(uint64(layers), uint64(T)))
							// pre-activations of a few units: far from uniform probabilities,
							// not so chaotic that float32 rounding decides the result
							p := largeParams(t, cfg, 6/math.Sqrt(float64(H)), rng)
							const B = 3
							x, y := randBatch(cfg, B, 0, rng)
							net, err := New(cfg, DenseParams(cfg, p), Options{Batch: B, Probs: true, Reference: ref})
							if err != nil {
								t.Fatal(err)
							}
							defer net.Close()
							// run twice: the second run must not see stale values of the first
							for range 2 {
								if _, err := net.Run(x, y); err != nil {
									t.Fatal(err)
								}
							}
							pd, err := net.ProbsData()
							if err != nil {
								t.Fatal(err)
							}
							probs := pd.([]float32)
							got := engineProbs(t, cfg, p, x, B)
							V := cfg.VocabSize()
							steps := []int{T - 1}
							if target == charlstm.TargetShifted {
								steps = nil
								for tt := range T {
									steps = append(steps, tt)
								}
							}
							bad := 0
							var maxRel float64
							for si, tt := range steps {
								for n := range B {
									for v := range V {
										want := float64(got[(tt*B+n)*V+v])
										have := float64(probs[(si*B+n)*V+v])
										d := math.Abs(have - want)
										maxRel = max(maxRel, d/(math.Abs(want)+1e-6))
										if d > 1e-6+1e-4*math.Abs(want) {
											if bad < 5 {
												t.Errorf("t=%d n=%d v=%d: net %.6g, engine %.6g", tt, n, v, have, want)
											}
											bad++
										}
									}
								}
							}
							if bad > 0 {
								t.Errorf("%d probabilities differ; max rel diff %.3g", bad, maxRel)
							}
						})
					}
				}
			}
		}
	}
}

// TestDefaultModelNetMatchesEngine runs the embedded default model (exported by gendl-train
// after real training: saturated gates, peaked distributions) through the fused training
// graph and through the engine on two sentences of its corpus, and compares the probabilities
// at every step: |d| <= 1e-4 (the bound) and |d| <= 1e-6 + 1e-4·|want|.
// runtime/ortcheck's TestTrainedCharLSTMVsORT compares the engine with ONNX Runtime on the
// same file and text.
func TestDefaultModelNetMatchesEngine(t *testing.T) {
	model, err := charlstm.Default()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"The Light which is reflected from the second Surface of a thin Plate of Air",
		"and when the Rays are refracted through the Prism, they are separated by it",
	}
	T := min(len(texts[0]), len(texts[1]))
	B := len(texts)
	cfg := model.Config
	p, err := charlstm.ParamsFromModel(model.Proto, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxLen, cfg.Target = T, charlstm.TargetShifted // probabilities after every step
	x, y := make([]int32, T*B), make([]int32, T*B)
	for n, s := range texts {
		ids, err := model.Vocab.Encode(s[:T])
		if err != nil {
			t.Fatal(err)
		}
		for tt, id := range ids {
			x[tt*B+n] = int32(id)
			y[tt*B+n] = int32(id) // any target: only the probabilities are compared
		}
	}
	net, err := New(cfg, DenseParams(cfg, p), Options{Batch: B, Probs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if _, err := net.Run(x, y); err != nil {
		t.Fatal(err)
	}
	pd, err := net.ProbsData()
	if err != nil {
		t.Fatal(err)
	}
	got := pd.([]float32)                // [T·B, V]
	want := engineProbs(t, cfg, p, x, B) // [T, B, V]
	var maxAbs, maxP float64
	for i, w := range want {
		d := math.Abs(float64(got[i]) - float64(w))
		maxAbs, maxP = max(maxAbs, d), max(maxP, float64(w))
		if d > 1e-4 || d > 1e-6+1e-4*math.Abs(float64(w)) {
			t.Fatalf("probability %d (step %d): net %.7g, engine %.7g", i, i/(B*cfg.VocabSize()), got[i], w)
		}
	}
	if maxP < 0.5 {
		t.Errorf("largest probability %.3g: not a trained model's output", maxP)
	}
	t.Logf("max |net - engine| = %.3g over %d probabilities (largest %.3g)", maxAbs, len(want), maxP)
}
