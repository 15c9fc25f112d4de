package grad

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func wantErr(t *testing.T, what string, err error, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want one containing %q", what, substrs)
		return
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not contain %q", what, err, s)
		}
	}
}

func buildPlan(t *testing.T, opset int64, build func(b *onnx.Builder)) *engine.Plan {
	t.Helper()
	b := onnx.NewBuilder("t", opset)
	build(b)
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

// TestUnsupportedOps: every node on the path without a backward is listed at once, in
// execution order, when New is called; nodes off the path (a Shape feeding a Reshape's shape
// input, an op on a branch of only constants, ops after the differentiated value) are not.
func TestUnsupportedOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	p := buildPlan(t, 17, func(b *onnx.Builder) {
		b.Input("x", tensor.Float32, 1, 2, 4, 4)
		b.Initializer("idx", i64(1, 0))
		b.Initializer("k", randn(rng, 2))
		b.Initializer("scales", tensor.FromFloat32([]float32{1, 1, 2, 2}, 4))
		b.NamedNode("g1", "Gather", []string{"x", "idx"}, []string{"g"}, onnx.AttrInt("axis", 1))
		b.NamedNode("up", "Resize", []string{"g", "", "scales"}, []string{"r"})
		b.NamedNode("shape", "Shape", []string{"r"}, []string{"s"})
		b.NamedNode("reshape", "Reshape", []string{"r", "s"}, []string{"rr"})
		b.NamedNode("kexp", "Exp", []string{"k"}, []string{"ke"}) // constants only
		b.NamedNode("relu", "Relu", []string{"rr"}, []string{"y"})
		b.NamedNode("after", "Where", []string{"c", "y", "y"}, []string{"z"}) // after y: not run
		b.Input("c", tensor.Bool, 1)
		b.Output("y", tensor.Float32)
		b.Output("z", tensor.Float32)
	})
	_, err := New(p, []string{"y"}, []string{"x"})
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want an *UnsupportedError", err)
	}
	want := []string{`Gather (node "g1")`, `Resize (node "up")`}
	if strings.Join(ue.Ops, "|") != strings.Join(want, "|") {
		t.Errorf("unsupported ops %q, want %q", ue.Ops, want)
	}
	wantErr(t, "message", err, "grad: no gradient", `Gather (node "g1")`, `Resize (node "up")`)
}

func TestNewErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	p := buildPlan(t, 17, func(b *onnx.Builder) {
		b.Input("x", tensor.Float32, 1, 2, 4, 4)
		b.Input("w", tensor.Float32, 3, 2, 3, 3)
		b.Input("i", tensor.Int64, 2)
		b.Initializer("w0", randn(rng, 3, 2, 3, 3))
		b.NamedNode("conv", "Conv", []string{"x", "w0"}, []string{"c"})
		b.NamedNode("convw", "Conv", []string{"x", "w"}, []string{"cw"})
		b.NamedNode("relu", "Relu", []string{"c"}, []string{"y"})
		b.NamedNode("cast", "Cast", []string{"x"}, []string{"x64"}, onnx.AttrInt("to", int64(tensor.Float64)))
		b.NamedNode("neg", "Neg", []string{"x64"}, []string{"n64"})
		b.NamedNode("castback", "Cast", []string{"n64"}, []string{"back"}, onnx.AttrInt("to", int64(tensor.Float32)))
		b.NamedNode("relu0", "Relu", []string{"w0"}, []string{"wr"})
		b.NamedNode("shape", "Shape", []string{"x"}, []string{"s"})
		b.Output("y", tensor.Float32)
	})
	cases := []struct {
		what    string
		of, wrt []string
		want    []string
	}{
		{"no of", nil, []string{"x"}, []string{"of is empty"}},
		{"no wrt", []string{"y"}, nil, []string{"wrt is empty"}},
		{"unknown of", []string{"nope"}, []string{"x"}, []string{`of "nope"`, "no value of that name", `"y"`}},
		{"unknown wrt", []string{"y"}, []string{"nope"}, []string{`wrt "nope"`, "no value of that name", `"x"`, `"w"`}},
		{"wrt a node output", []string{"y"}, []string{"c"}, []string{`wrt "c"`, "not a graph input"}},
		{"wrt an initializer", []string{"y"}, []string{"w0"}, []string{`wrt "w0"`, "not a graph input"}},
		{"wrt an int input", []string{"y"}, []string{"i"}, []string{`wrt "i"`, "int64", "float32 only"}},
		{"of an int value", []string{"s"}, []string{"x"}, []string{`of "s"`, "int64"}},
		{"of twice", []string{"y", "y"}, []string{"x"}, []string{`of "y" is listed twice`}},
		{"wrt twice", []string{"y"}, []string{"x", "x"}, []string{`wrt "x" is listed twice`}},
		{"of independent of wrt", []string{"wr"}, []string{"x"}, []string{`of "wr" does not depend`}},
		{"weights depend on wrt", []string{"cw"}, []string{"w"}, []string{`node "convw" (Conv)`, `input "W"`, "weights are frozen"}},
		{"float64 on the path", []string{"back"}, []string{"x"}, []string{"float64", "float32 only", `Cast (node "cast")`}},
	}
	for _, c := range cases {
		_, err := New(p, c.of, c.wrt)
		wantErr(t, c.what, err, c.want...)
	}
}

func TestTrainingModeBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	p := buildPlan(t, 15, func(b *onnx.Builder) {
		b.Input("x", tensor.Float32, 2, 3)
		for _, n := range []string{"s", "b", "m", "v"} {
			b.Initializer(n, randUniform(rng, 0.5, 1, 3))
		}
		b.NamedNode("bn", "BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y"}, onnx.AttrInt("training_mode", 1))
		b.Output("y", tensor.Float32)
	})
	_, err := New(p, []string{"y"}, []string{"x"})
	wantErr(t, "training mode", err, `node "bn" (BatchNormalization)`, "training mode")
}

func TestSessionErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(67, 68))
	p := buildPlan(t, 17, func(b *onnx.Builder) {
		b.Input("x", tensor.Float32, 2, 3)
		b.NamedNode("relu", "Relu", []string{"x"}, []string{"y"})
		b.NamedNode("tanh", "Tanh", []string{"y"}, []string{"z"})
		b.Output("z", tensor.Float32)
	})
	g, err := New(p, []string{"y", "z"}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	s := g.NewSession(engine.SessionOptions{})
	_, err = s.Backward(nil)
	wantErr(t, "backward first", err, "needs a successful Forward")

	_, err = s.Forward(map[string]*tensor.Tensor{"x": randn(rng, 2, 4)})
	wantErr(t, "wrong input shape", err, "grad: forward", `input "x"`)
	_, err = s.Backward(nil)
	wantErr(t, "backward after a failed forward", err, "needs a successful Forward")
	_, err = s.Forward(map[string]*tensor.Tensor{})
	wantErr(t, "missing feed", err, `"x"`, "not fed")

	x := randn(rng, 2, 3)
	if _, err := s.Forward(map[string]*tensor.Tensor{"x": x}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		seeds map[string]*tensor.Tensor
		want  []string
	}{
		{"unknown seed", map[string]*tensor.Tensor{"x": randn(rng, 2, 3)}, []string{`seed "x"`, "not one of", `"y", "z"`}},
		{"wrong seed shape", map[string]*tensor.Tensor{"y": randn(rng, 3, 2)}, []string{`seed "y"`, "[2 3]", "[3 2]"}},
		{"wrong seed dtype", map[string]*tensor.Tensor{"z": tensor.New(tensor.Float64, 2, 3)}, []string{`seed "z"`, "float64"}},
		{"nil seed", map[string]*tensor.Tensor{"z": nil}, []string{`seed "z"`, "nil"}},
		{"short seed data", map[string]*tensor.Tensor{"z": {DType: tensor.Float32, Shape: []int{2, 3}, Data: []float32{1}}}, []string{`seed "z"`, "data"}},
	} {
		_, err := s.Backward(c.seeds)
		wantErr(t, c.what, err, c.want...)
	}
	// After the errors the session still works, and a seed on only one value is fine.
	got, err := s.Backward(map[string]*tensor.Tensor{"y": tensor.FromFloat32([]float32{1, 1, 1, 1, 1, 1}, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.F32() {
		want := float32(0)
		if v > 0 {
			want = 1
		}
		if got["x"].F32()[i] != want {
			t.Errorf("dy/dx[%d] = %g, want %g", i, got["x"].F32()[i], want)
		}
	}
	// No seeds: zero gradients.
	got, err = s.Backward(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got["x"].F32() {
		if v != 0 {
			t.Errorf("without seeds dx[%d] = %g, want 0", i, v)
		}
	}
}
