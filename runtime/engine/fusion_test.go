package engine

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// fusionNet is a small conv net with every situation of the Conv+Relu fusion (Session.Run):
//
//	x -> Conv c1 -> Relu r1 -> Conv c2 -> Relu r2 -> MaxPool p2 ---------------> out
//	                           r1 -> Conv c3 (no bias) -> Relu r3 -> Add a --> out2
//	                           r1 -> Conv c4 (stride 2) ------------> Relu r4 ----^ (c4 also read by Add)
//
// c1, c2 and c3 fuse (their output is read by one Relu only); c4 does not (Add reads it
// too). Weights are random normal, so about half of each Conv output is negative, and some
// outputs are exactly 0 or -0 (the all-zero filter of c2's channel 0 gives 0 + bias 0).
func fusionNet(t *testing.T) *Plan {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	randT := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.F32() {
			x.F32()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	b := onnx.NewBuilder("fusion", 17)
	b.Input("x", tensor.Float32, 1, 3, 13, 11)
	w2 := randT(6, 4, 3, 3)
	clear(w2.F32()[:4*9]) // output channel 0 of c2: all zeros
	b2 := randT(6)
	b2.F32()[0] = 0
	b.Initializer("w1", randT(4, 3, 3, 3))
	b.Initializer("b1", randT(4))
	b.Initializer("w2", w2)
	b.Initializer("b2", b2)
	b.Initializer("w3", randT(6, 4, 1, 1))
	b.Initializer("w4", randT(6, 4, 3, 3))
	b.Initializer("b4", randT(6))
	pads := onnx.AttrInts("pads", 1, 1, 1, 1)
	b.NamedNode("c1", "Conv", []string{"x", "w1", "b1"}, []string{"c1"}, pads)
	b.NamedNode("r1", "Relu", []string{"c1"}, []string{"r1"})
	b.NamedNode("c2", "Conv", []string{"r1", "w2", "b2"}, []string{"c2"}, pads)
	b.NamedNode("r2", "Relu", []string{"c2"}, []string{"r2"})
	b.NamedNode("p2", "MaxPool", []string{"r2"}, []string{"out"}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
	b.NamedNode("c3", "Conv", []string{"r1", "w3"}, []string{"c3"}, onnx.AttrInts("strides", 2, 2))
	b.NamedNode("r3", "Relu", []string{"c3"}, []string{"r3"})
	b.NamedNode("c4", "Conv", []string{"r1", "w4", "b4"}, []string{"c4"}, pads, onnx.AttrInts("strides", 2, 2))
	b.NamedNode("r4", "Relu", []string{"c4"}, []string{"r4"})
	b.NamedNode("a", "Add", []string{"r3", "c4"}, []string{"a"})
	b.NamedNode("a2", "Add", []string{"a", "r4"}, []string{"out2"})
	b.Output("out", tensor.Float32, 1, 6, 6, 5)
	b.Output("out2", tensor.Float32, 1, 6, 7, 6)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sameBitsT fails unless got and want have the same shape and bits.
func sameBitsT(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	for i, w := range want.F32() {
		if g := got.F32()[i]; math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s[%d] = %v, want %v (bitwise)", what, i, g, w)
		}
	}
}

// TestConvReluFusion checks that fused runs give bitwise the results of unfused ones, for
// the graph outputs and for requested intermediate values (which turn the fusion of their
// Conv off), at 1 and 3 threads, on repeated runs of one session; and that the fusions
// expected happen.
func TestConvReluFusion(t *testing.T) {
	p := fusionNet(t)
	x := tensor.New(tensor.Float32, 1, 3, 13, 11)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x.F32() {
		x.F32()[i] = float32(rng.NormFloat64())
	}
	feeds := map[string]*tensor.Tensor{"x": x}
	requests := [][]string{
		nil, // the graph outputs
		{"out", "out2", "c1", "r1"},
		{"c2", "r2"},
		{"r3", "c3", "out"},
		{"r2", "r3", "r4"},
	}
	for _, threads := range []int{1, 3} {
		plain := p.NewSession(SessionOptions{Threads: threads, NoFusion: true})
		fused := p.NewSession(SessionOptions{Threads: threads})
		for range 2 { // twice: the second run reuses the session's buffers
			for _, names := range requests {
				want, err := plain.Run(feeds, names...)
				if err != nil {
					t.Fatal(err)
				}
				got, err := fused.Run(feeds, names...)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%v: %d values, want %d", names, len(got), len(want))
				}
				for name, w := range want {
					sameBitsT(t, name, got[name], w)
				}
			}
		}
		// Which Convs fused, for each request.
		wantFused := map[string][]string{
			"out\x00out2":             {"c1", "c2", "c3"},
			"out\x00out2\x00c1\x00r1": {"c2", "c3"},
			"c2\x00r2":                {"c1"},
			"r3\x00c3\x00out":         {"c1", "c2"},
			"r2\x00r3\x00r4":          {"c1", "c2", "c3"},
		}
		for key, want := range wantFused {
			rs := fused.needs[key]
			if rs == nil {
				t.Fatalf("no steps cached for %q", key)
			}
			var got []string
			for si, f := range rs.fused {
				if f != nil {
					got = append(got, p.names[p.steps[si].out[0]])
				}
			}
			sort.Strings(got)
			if len(got) != len(want) {
				t.Fatalf("request %q: fused %v, want %v", key, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("request %q: fused %v, want %v", key, got, want)
				}
			}
			if all := len(plain.needs[key].steps); len(rs.steps) != all-len(want) {
				t.Errorf("request %q: %d steps run, want %d (%d less the fused Relus)", key, len(rs.steps), all-len(want), all)
			}
		}
		if rs := plain.needs["out\x00out2"]; rs.fused != nil {
			t.Errorf("NoFusion session fused steps")
		}
	}
}

// TestRunNodesDoesNotFuse checks that RunNodes computes the Conv outputs a fused Run skips
// (runtime/grad needs both a Conv's output and its Relu's).
func TestRunNodesDoesNotFuse(t *testing.T) {
	p := fusionNet(t)
	x := tensor.New(tensor.Float32, 1, 3, 13, 11)
	for i := range x.F32() {
		x.F32()[i] = float32(i%7) - 3
	}
	feeds := map[string]*tensor.Tensor{"x": x}
	s := p.NewSession(SessionOptions{Threads: 1})
	if _, err := s.Run(feeds); err != nil { // a fused run first, on the same buffers
		t.Fatal(err)
	}
	want, err := p.NewSession(SessionOptions{NoFusion: true}).Run(feeds, "c1", "r1", "c2", "r2")
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{p.index["out"], p.index["out2"]}
	env := make([]*tensor.Tensor, p.NumValues())
	if err := s.RunNodes(feeds, p.NodesFor(ids), env); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		got := env[p.index[name]]
		if got == nil {
			t.Fatalf("RunNodes did not compute %q", name)
		}
		sameBitsT(t, name, got, w)
	}
}
