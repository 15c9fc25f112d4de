package grad

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// vggPlan is a model of VGG19-shaped blocks (Keras layer names) on an input [1, 3, h, w].
func vggPlan(t testing.TB, h, w int, chans []int) *engine.Plan {
	t.Helper()
	rng := rand.New(rand.NewPCG(71, 72))
	b := onnx.NewBuilder("vgg", 9)
	b.Input("x", tensor.Float32, 1, 3, int64(h), int64(w))
	vggBlocks(rng, b, "x", chans)
	b.OutputAnyShape(caseName("block%d_pool", len(chans)-1), tensor.Float32)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSteadyStateAllocs: once a session has run, Forward+Backward reuse every buffer: with one
// thread they allocate nothing in the kernels and only a bounded number of small objects
// (the engine's feed checks), independent of the model's size.
func TestSteadyStateAllocs(t *testing.T) {
	p := vggPlan(t, 24, 20, []int{3, 8, 16})
	g, err := New(p, []string{"block2_conv2_relu", "block1_conv1"}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(73, 74))
	x := randn(rng, 1, 3, 24, 20)
	s := g.NewSession(engine.SessionOptions{Threads: 1})
	feeds := map[string]*tensor.Tensor{"x": x}
	var seeds map[string]*tensor.Tensor
	step := func() {
		vals, err := s.Forward(feeds)
		if err != nil {
			t.Fatal(err)
		}
		if seeds == nil {
			seeds = map[string]*tensor.Tensor{}
			for name, v := range vals {
				seeds[name] = randn(rng, v.Shape...)
			}
		}
		if _, err := s.Backward(seeds); err != nil {
			t.Fatal(err)
		}
	}
	step()
	// Backward allocates nothing: gradient buffers come from the pool, scratch from the
	// session, argument slices are reused.
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Backward(seeds); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("steady-state Backward allocates %.0f objects per call, want 0", allocs)
	}
	// The pool holds fewer bytes than one gradient per value would.
	perValue := 0
	for v := range p.NumValues() {
		if g.carries[v] && s.env[v] != nil {
			perValue += 4 * s.env[v].Len()
		}
	}
	if _, err := s.Backward(seeds); err != nil {
		t.Fatal(err)
	}
	if pb := s.pool.bytes(); pb >= perValue {
		t.Errorf("the pool holds %d bytes of gradients, one buffer per value would take %d", pb, perValue)
	} else {
		t.Logf("pooled gradients: %d bytes (one buffer per value: %d); with scratch and results: %d", pb, perValue, s.GradBytes())
	}
	// Forward's allocations are the forward ops' (runtime/ops, kernels); report them.
	t.Logf("Forward+Backward: %.0f allocations per call", testing.AllocsPerRun(20, step))
	// The gradients are the same on every call (buffers reused, not accumulated across calls).
	first, _ := s.Backward(seeds)
	want := append([]float32{}, first["x"].F32()...)
	step()
	again, _ := s.Backward(seeds)
	for i, v := range again["x"].F32() {
		if v != want[i] {
			t.Fatalf("gradient changed between calls at %d: %g, then %g", i, want[i], v)
		}
	}
}

// TestConcurrentSessions: a Grad is shared by sessions on several goroutines (and a session
// by several goroutines); every run gives the single-session gradient. Run with -race.
func TestConcurrentSessions(t *testing.T) {
	p := vggPlan(t, 12, 10, []int{3, 4, 6})
	g, err := New(p, []string{"block2_pool"}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(75, 76))
	x := randn(rng, 1, 3, 12, 10)
	seed := randn(rng, 1, 6, 3, 2)
	run := func(s *Session) []float32 {
		if _, err := s.Forward(map[string]*tensor.Tensor{"x": x}); err != nil {
			t.Error(err)
			return nil
		}
		out, err := s.Backward(map[string]*tensor.Tensor{"block2_pool": seed})
		if err != nil {
			t.Error(err)
			return nil
		}
		return append([]float32{}, out["x"].F32()...)
	}
	want := run(g.NewSession(engine.SessionOptions{}))
	shared := g.NewSession(engine.SessionOptions{Threads: 2})
	done := make(chan []float32)
	for k := range 6 {
		go func() {
			s := shared
			if k%2 == 0 {
				s = g.NewSession(engine.SessionOptions{Threads: 1 + k%3})
			}
			for range 3 {
				// A shared session serialises whole calls, not Forward+Backward pairs:
				// use Step, which the race detector checks either way.
				_, grads, err := s.Step(map[string]*tensor.Tensor{"x": x}, func(vals, seeds map[string]*tensor.Tensor) (float64, error) {
					copy(seeds["block2_pool"].F32(), seed.F32())
					return 0, nil
				})
				if err != nil {
					t.Error(err)
				}
				_ = grads
			}
			done <- run(g.NewSession(engine.SessionOptions{Threads: 2}))
		}()
	}
	for range 6 {
		got := <-done
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("concurrent gradient [%d] = %g, want %g", i, got[i], want[i])
			}
		}
	}
}
