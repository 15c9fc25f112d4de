package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
)

// Central differences in float64 have error O(eps²) times the third derivative, ~1e-10 at
// eps 1e-5, plus float64 rounding ~1e-16/eps ~ 1e-11; gradients must agree within
// atol + rtol·|fd|, well clear of both.
const fdEps, fdAtol, fdRtol = 1e-5, 1e-7, 1e-5

func randSlice(rng *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = scale * (2*rng.Float64() - 1)
	}
	return s
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkFD compares grad, the claimed gradient of f with respect to x, with central finite
// differences at every entry of x (x is perturbed in place and restored).
func checkFD(t *testing.T, name string, x, grad []float64, f func() float64) {
	t.Helper()
	bad := 0
	for i := range x {
		old := x[i]
		x[i] = old + fdEps
		lp := f()
		x[i] = old - fdEps
		lm := f()
		x[i] = old
		want := (lp - lm) / (2 * fdEps)
		if d := math.Abs(grad[i] - want); !(d <= fdAtol+fdRtol*math.Abs(want)) {
			if bad < 5 {
				t.Errorf("%s[%d]: gradient %.10g, finite difference %.10g", name, i, grad[i], want)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d entries differ", name, bad, len(x))
	}
}

// TestLSTMOpFiniteDifferences checks lstmWork.backward (the gradient op of lstmOp) against
// central differences of lstmWork.forward under the loss L = Σ U⊙h (U random, so every
// h_t is used), for the first layer (one-hot input with padding) and a layer above (dense
// input, also dX), with 1 to 4 steps. Every entry of W, R, B and X is checked.
func TestLSTMOpFiniteDifferences(t *testing.T) {
	for _, layer := range []int{0, 1} {
		for _, T := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("layer%d/T%d", layer, T), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(layer), uint64(T)))
				const B, H = 3, 4
				in := 5
				var idx []int32
				if layer == 0 {
					for r := range T * B {
						idx = append(idx, int32(rng.IntN(in+1))-1) // some -1: padding
						if r == 0 {
							idx[0] = 2
						}
					}
				}
				w := newLSTMWork[float64](layer, T, B, H, in, idx)
				W := randSlice(rng, 4*H*in, 0.8)
				R := randSlice(rng, 4*H*H, 0.8)
				bias := randSlice(rng, 8*H, 0.8)
				var x []float64
				if layer > 0 {
					x = randSlice(rng, T*B*in, 1)
				}
				U := randSlice(rng, T*B*H, 1)
				loss := func() float64 {
					w.forward(W, R, bias, x)
					return dot(U, w.h.Data().([]float64))
				}
				loss()
				h := append([]float64(nil), w.h.Data().([]float64)...)
				w.backward(W, R, x, h, U)
				g := append([]float64(nil), w.grad.Data().([]float64)...)
				dW, g := g[:len(W)], g[len(W):]
				dR, g := g[:len(R)], g[len(R):]
				dB, dX := g[:len(bias)], g[len(bias):]
				checkFD(t, "W", W, dW, loss)
				checkFD(t, "R", R, dR, loss)
				checkFD(t, "B", bias, dB, loss)
				if layer > 0 {
					checkFD(t, "X", x, dX, loss)
				} else if len(dX) != 0 {
					t.Errorf("first layer: %d dX values, want none", len(dX))
				}
			})
		}
	}
}

// TestHeadOpFiniteDifferences checks headWork.backward against central differences of
// headWork.forward (scaled by g, as Loss = g·Sum) for both targets, with a padding row, over
// every entry of h, Wd and bd; and that the probabilities are a softmax (rows sum to 1).
func TestHeadOpFiniteDifferences(t *testing.T) {
	for _, shifted := range []bool{false, true} {
		t.Run(fmt.Sprintf("shifted=%v", shifted), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			const T, B, H, V, g = 3, 3, 4, 5, 0.37
			ny := B
			if shifted {
				ny = T * B
			}
			y := make([]int32, ny)
			for i := range y {
				y[i] = int32(rng.IntN(V))
			}
			y[1] = -1 // padding
			w := newHeadWork[float64](T, B, H, V, y, shifted)
			h := randSlice(rng, T*B*H, 1)
			Wd := randSlice(rng, V*H, 1)
			bd := randSlice(rng, V, 1)
			loss := func() float64 { return g * w.forward(h, Wd, bd) }
			loss()
			for r := range ny {
				s := 0.0
				for _, p := range w.probs[r*V : (r+1)*V] {
					s += p
				}
				if math.Abs(s-1) > 1e-12 {
					t.Errorf("row %d: probabilities sum to %.15g", r, s)
				}
			}
			w.backward(h, Wd, g)
			grad := append([]float64(nil), w.grad.Data().([]float64)...)
			dh, rest := grad[:len(h)], grad[len(h):]
			dWd, dbd := rest[:len(Wd)], rest[len(Wd):]
			checkFD(t, "h", h, dh, loss)
			checkFD(t, "Wd", Wd, dWd, loss)
			checkFD(t, "bd", bd, dbd, loss)
		})
	}
}

// TestFusedMatchesReference runs the fused graph and the reference graph of Gorgonia's own ops
// (whose gradients are Gorgonia's symbolic differentiation) in float64 on the same random
// parameters and batches (with padding), for both targets, 1 to 3 layers and several
// lengths, and compares loss, probabilities and every gradient. They compute the same
// function with sums in different orders: agreement to 1e-10 relative to the largest
// entry.
func TestFusedMatchesReference(t *testing.T) {
	for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
		for _, layers := range []int{1, 2, 3} {
			for _, T := range []int{2, 3, 7} { // the reference graph needs T >= 2 (R unused otherwise)
				t.Run(fmt.Sprintf("%s/L%d/T%d", target, layers, T), func(t *testing.T) {
					cfg := charlstm.Tiny()
					cfg.Target, cfg.Layers, cfg.MaxLen, cfg.Hidden = target, layers, T, 6
					rng := rand.New(rand.NewPCG(uint64(layers), uint64(T)))
					params := float64Params(cfg, rng)
					// batch 33 >= splitMinRows: the row loops run in two (odd) halves
					const B = 33
					opt := Options{Batch: B, Gradients: true, Probs: true}
					fused, err := New(cfg, params, opt)
					if err != nil {
						t.Fatal(err)
					}
					defer fused.Close()
					opt.Reference = true
					ref, err := New(cfg, params, opt)
					if err != nil {
						t.Fatal(err)
					}
					defer ref.Close()
					for run := range 2 { // two batches: nothing carries over between runs
						x, y := randBatch(cfg, B, run, rng)
						lf, err := fused.Run(x, y)
						if err != nil {
							t.Fatal(err)
						}
						lr, err := ref.Run(x, y)
						if err != nil {
							t.Fatal(err)
						}
						if math.Abs(lf-lr) > 1e-12*math.Abs(lr) {
							t.Errorf("run %d: loss %.15g fused, %.15g reference", run, lf, lr)
						}
						pf, _ := fused.ProbsData()
						pr, _ := ref.ProbsData()
						compareMax(t, fmt.Sprintf("run %d: probabilities", run), pf.([]float64), pr.([]float64), 1e-12)
						for k := range params {
							gf, _ := fused.GradData(k)
							gr, _ := ref.GradData(k)
							compareMax(t, fmt.Sprintf("run %d: gradient %s", run, ParamShapes(cfg)[k].Name), gf.([]float64), gr.([]float64), 1e-10)
						}
					}
				})
			}
		}
	}
}

// compareMax fails unless |got[i]-want[i]| <= tol·max|want| for every i.
func compareMax(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*scale) {
			t.Fatalf("%s[%d]: %.15g, want %.15g (max |want| %g)", what, i, got[i], want[i], scale)
		}
	}
}

// TestExpShiftedFloat32 checks the head's float32 exponential (through the sigmoid) against
// math.Exp on a grid of [-88, 0] plus the ends: within 8 float32 ulp (relative 8·2^-24 ≈
// 4.8e-7; the derivation gives about 4: sigmoid's 2 ulp and two roundings) for results
// above 2^-126, below which the sigmoid flushes to 0; and the returned sum.
func TestExpShiftedFloat32(t *testing.T) {
	var row []float32
	for x := -88.0; x <= 0; x += 0.0137 {
		row = append(row, float32(x))
	}
	row = append(row, 0, -1e-30, float32(math.Inf(-1)))
	want := make([]float64, len(row))
	wantSum := 0.0
	for i, x := range row {
		want[i] = math.Exp(float64(x))
		wantSum += want[i]
	}
	got := append([]float32(nil), row...)
	sum := expShifted(got, 0)
	const tol = 8.0 / (1 << 24)
	for i, g := range got {
		w := want[i]
		if w < 0x1p-126 {
			if g != 0 && math.Abs(float64(g)-w) > 0x1p-126 {
				t.Errorf("exp(%g) = %g, want %g (or 0)", row[i], g, w)
			}
			continue
		}
		if d := math.Abs(float64(g)-w) / w; d > tol {
			t.Errorf("exp(%g) = %.9g, want %.9g (rel. error %.3g)", row[i], g, w, d)
		}
	}
	if math.Abs(sum-wantSum) > 1e-6*wantSum {
		t.Errorf("sum %.9g, want %.9g", sum, wantSum)
	}
}
