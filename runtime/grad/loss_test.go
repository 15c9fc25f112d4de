package grad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestStepMeanSquare: Step with DeepDream's loss on two layers (weights 0.5 and 2) gives the
// gradient of that loss: checked against central differences of the loss itself, computed
// from fresh Forward calls, on elements of the image away from kinks (see fd_test.go).
func TestStepMeanSquare(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	p := vggPlan(t, 12, 10, []int{3, 6, 8})
	layers := map[string]float64{"block1_conv2_relu": 0.5, "block2_conv1": 2}
	g, err := New(p, []string{"block1_conv2_relu", "block2_conv1"}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	s := g.NewSession(engine.SessionOptions{Threads: 2})
	x := randn(rng, 1, 3, 12, 10)
	feeds := map[string]*tensor.Tensor{"x": x}
	loss := func(vals, seeds map[string]*tensor.Tensor) (float64, error) {
		var l float64
		for name, w := range layers {
			v, err := MeanSquare(vals[name], seeds[name], w)
			if err != nil {
				return 0, err
			}
			l += w * v
		}
		return l, nil
	}
	l0, grads, err := s.Step(feeds, loss)
	if err != nil {
		t.Fatal(err)
	}
	gx := append([]float32{}, grads["x"].F32()...)
	eval := func() float64 {
		vals, err := s.Forward(feeds)
		if err != nil {
			t.Fatal(err)
		}
		var l float64
		for name, w := range layers {
			var sum float64
			for _, v := range vals[name].F32() {
				sum += float64(v) * float64(v)
			}
			l += w * sum / float64(vals[name].Len())
		}
		return l
	}
	if l := eval(); math.Abs(l-l0) > 1e-12*math.Abs(l0) {
		t.Fatalf("Step's loss %g differs from the loss recomputed from Forward %g", l0, l)
	}
	// The loss is quadratic in piecewise-linear activations, so even without a kink its
	// one-sided slopes differ, by eps*L''; a small eps keeps that under the kink threshold
	// (and an undetected kink's error, at most half the threshold, under the tolerance).
	const eps, kink, atol = 1e-3, 4e-3, 3e-3
	compared := 0
	for _, i := range rng.Perm(len(gx))[:120] {
		orig := x.F32()[i]
		x.F32()[i] = orig + eps
		lp := eval()
		x.F32()[i] = orig - eps
		lm := eval()
		x.F32()[i] = orig
		right, left := (lp-l0)/eps, (l0-lm)/eps
		fd := (lp - lm) / (2 * eps)
		if math.Abs(right-left) > kink {
			continue
		}
		if d := math.Abs(fd - float64(gx[i])); d > atol+fdRtol*math.Abs(fd) {
			t.Errorf("dL/dx[%d]: Step %g, finite difference %g", i, gx[i], fd)
		}
		compared++
	}
	if compared < 90 {
		t.Errorf("only %d of 120 elements compared", compared)
	}
}

func TestMeanSquare(t *testing.T) {
	v := tensor.FromFloat32([]float32{1, -2, 3, 0}, 2, 2)
	seed := tensor.FromFloat32([]float32{1, 1, 1, 1}, 2, 2)
	l, err := MeanSquare(v, seed, 2)
	if err != nil {
		t.Fatal(err)
	}
	if l != 3.5 { // (1+4+9+0)/4
		t.Errorf("loss %g, want 3.5", l)
	}
	want := []float32{2, -1, 4, 1} // 1 + 2*2*v/4
	for i, s := range seed.F32() {
		if s != want[i] {
			t.Errorf("seed[%d] = %g, want %g", i, s, want[i])
		}
	}
	if _, err := MeanSquare(v, tensor.New(tensor.Float32, 4), 1); err == nil {
		t.Error("MeanSquare accepted a seed of another shape")
	}
}
