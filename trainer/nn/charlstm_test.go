package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/internal/gradcheck"
)

// float64Params returns random parameters of cfg in float64 (uniform ±0.5, so the gates
// are away from saturation and the loss is curved enough to test).
func float64Params(cfg charlstm.Config, rng *rand.Rand) []*tensor.Dense {
	var ps []*tensor.Dense
	for _, s := range ParamShapes(cfg) {
		d := make([]float64, s.Shape[0]*s.Shape[1])
		for i := range d {
			d[i] = rng.Float64() - 0.5
		}
		ps = append(ps, tensor.New(tensor.WithShape(s.Shape...), tensor.WithBacking(d)))
	}
	return ps
}

func randBatch(cfg charlstm.Config, batch, pad int, rng *rand.Rand) (x, y []int32) {
	T, V := cfg.MaxLen, cfg.VocabSize()
	x = make([]int32, T*batch)
	ny := batch
	if cfg.Target == charlstm.TargetShifted {
		ny = T * batch
	}
	y = make([]int32, ny)
	for i := range x {
		x[i] = int32(rng.IntN(V))
	}
	for i := range y {
		y[i] = int32(rng.IntN(V))
	}
	// the last pad columns are padding
	for i := range x {
		if i%batch >= batch-pad {
			x[i] = -1
		}
	}
	for i := range y {
		if i%batch >= batch-pad {
			y[i] = -1
		}
	}
	return x, y
}

// TestGradientCheck compares the graph's gradient of the loss with central finite
// differences in float64, for both targets, on a batch with a padding column.
func TestGradientCheck(t *testing.T) {
	for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
		t.Run(target, func(t *testing.T) {
			cfg := charlstm.Tiny()
			cfg.Target = target
			cfg.MaxLen = 5
			cfg.Layers = 2
			cfg.Hidden = 4
			rng := rand.New(rand.NewPCG(1, 2))
			params := float64Params(cfg, rng)
			net, err := New(cfg, params, Options{Batch: 3, Gradients: true})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			x, y := randBatch(cfg, 3, 1, rng)
			if _, err := net.Run(x, y); err != nil {
				t.Fatal(err)
			}
			grads, err := gradcheck.Grads(len(params), net.GradData)
			if err != nil {
				t.Fatal(err)
			}
			// Central differences have error O(eps²·f''') ~ 1e-10 at eps 1e-5; float64
			// rounding adds ~1e-16/eps. 1e-6 absolute + 1e-4 relative is well clear of both.
			check := gradcheck.Check{Step: 1e-5, Atol: 1e-6, Rtol: 1e-4, PerTensor: 12, Rng: rng,
				Name: func(k int) string { return ParamShapes(cfg)[k].Name },
				Extra: func(k int) []int {
					if k != 0 {
						return nil
					}
					// the first layer's W [4H, V] is looked up by character (gatherCols):
					// also check entries of columns the batch uses (all rows of the first
					// input's column), where the gradient is not zero
					var picks []int
					V := cfg.VocabSize()
					for j := range 4 * cfg.Hidden {
						picks = append(picks, j*V+int(x[0]))
					}
					return picks
				}}
			checked, _ := check.Run(t, gradcheck.Data(params), grads, func() (float64, error) { return net.Run(x, y) })
			if checked < 50 {
				t.Fatalf("checked %d entries", checked)
			}
		})
	}
}

// TestLossMatchesReference checks the forward pass against a direct float64 evaluation of
// the LSTM equations (ONNX gate order i, o, f, c) and the mean cross-entropy.
func TestLossMatchesReference(t *testing.T) {
	for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
		cfg := charlstm.Tiny()
		cfg.Target = target
		cfg.MaxLen = 4
		cfg.Layers = 2
		rng := rand.New(rand.NewPCG(3, 4))
		params := float64Params(cfg, rng)
		net, err := New(cfg, params, Options{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		x, y := randBatch(cfg, 2, 0, rng)
		got, err := net.Run(x, y)
		if err != nil {
			t.Fatal(err)
		}
		want := referenceLoss(cfg, params, x, y, 2)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: loss %.15g, reference %.15g", target, got, want)
		}
		net.Close()
	}
}

func referenceLoss(cfg charlstm.Config, params []*tensor.Dense, x, y []int32, B int) float64 {
	V, H, T := cfg.VocabSize(), cfg.Hidden, cfg.MaxLen
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	total, count := 0.0, 0
	for n := range B {
		// inputs: [T][in]
		seq := make([][]float64, T)
		for t := range T {
			seq[t] = make([]float64, V)
			seq[t][x[t*B+n]] = 1
		}
		for l := range cfg.Layers {
			W, R, Bb := params[3*l].Data().([]float64), params[3*l+1].Data().([]float64), params[3*l+2].Data().([]float64)
			in := len(seq[0])
			h, c := make([]float64, H), make([]float64, H)
			out := make([][]float64, T)
			for t := range T {
				g := make([]float64, 4*H)
				for j := range 4 * H {
					s := Bb[j] + Bb[4*H+j]
					for k := range in {
						s += W[j*in+k] * seq[t][k]
					}
					for k := range H {
						s += R[j*H+k] * h[k]
					}
					g[j] = s
				}
				nh := make([]float64, H)
				for j := range H {
					i, o, f, cc := sig(g[j]), sig(g[H+j]), sig(g[2*H+j]), math.Tanh(g[3*H+j])
					c[j] = f*c[j] + i*cc
					nh[j] = o * math.Tanh(c[j])
				}
				h = nh
				out[t] = nh
			}
			seq = out
		}
		Wd, bd := params[len(params)-2].Data().([]float64), params[len(params)-1].Data().([]float64)
		for t := range T {
			var tgt int32
			if cfg.Target == charlstm.TargetShifted {
				tgt = y[t*B+n]
			} else if t == T-1 {
				tgt = y[n]
			} else {
				continue
			}
			logits := make([]float64, V)
			m := math.Inf(-1)
			for v := range V {
				s := bd[v]
				for k := range H {
					s += Wd[v*H+k] * seq[t][k]
				}
				logits[v] = s
				m = max(m, s)
			}
			z := 0.0
			for _, l := range logits {
				z += math.Exp(l - m)
			}
			total += -(logits[tgt] - m - math.Log(z))
			count++
		}
	}
	return total / float64(count)
}
