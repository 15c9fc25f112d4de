package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// chainModel is x [N 4] -> Relu -> h -> Identity -> y, plus an independent z [N] -> Relu -> v,
// so that two inputs share the symbolic dimension N.
func chainModel(t testing.TB) *onnx.ModelProto {
	t.Helper()
	b := onnx.NewBuilder("chain", 17)
	b.InputDims("x", tensor.Float32, onnx.Sym("N"), onnx.Fixed(4))
	b.InputDims("z", tensor.Float32, onnx.Sym("N"))
	b.NamedNode("relu", "Relu", []string{"x"}, []string{"h"})
	b.NamedNode("copy", "Identity", []string{"h"}, []string{"y"})
	b.NamedNode("relu_z", "Relu", []string{"z"}, []string{"v"})
	b.OutputDims("y", tensor.Float32, onnx.Sym("N"), onnx.Fixed(4))
	b.OutputDims("v", tensor.Float32, onnx.Sym("N"))
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func plan(t testing.TB, m *onnx.ModelProto) *engine.Plan {
	t.Helper()
	p, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(tensor.Float32, shape...)
	for i := range x.F32() {
		x.F32()[i] = float32(rng.NormFloat64())
	}
	return x
}

func relu(x *tensor.Tensor) []float32 {
	out := make([]float32, x.Len())
	for i, v := range x.F32() {
		out[i] = max(v, 0)
	}
	return out
}

// wantErr fails unless err is non-nil and contains every substring.
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

// TestPlanErrors: graphs the planner must reject, each with an error naming the culprit. The
// Builder refuses to emit them, so the tests edit a valid model afterwards.
func TestPlanErrors(t *testing.T) {
	cases := []struct {
		what string
		edit func(g *onnx.GraphProto)
		want []string
	}{
		{"cycle", func(g *onnx.GraphProto) {
			g.Node[0].Input[0] = "y" // relu reads copy's output, which reads relu's
		}, []string{"cycle", `node "relu" (Relu)`, `node "copy" (Identity)`}},
		{"self loop", func(g *onnx.GraphProto) {
			g.Node[2].Input[0] = "v"
		}, []string{"cycle", `node "relu_z" (Relu)`}},
		{"undefined node input", func(g *onnx.GraphProto) {
			g.Node[1].Input[0] = "ghost"
		}, []string{`node "copy" (Identity)`, `input "ghost"`}},
		{"output defined twice", func(g *onnx.GraphProto) {
			g.Node[2].Output[0] = "h"
		}, []string{`node "relu_z" (Relu)`, `output "h"`, "already defined"}},
		{"graph output not produced", func(g *onnx.GraphProto) {
			g.Output[0].Name = proto.String("nowhere")
		}, []string{`graph output "nowhere"`}},
		{"input declared twice", func(g *onnx.GraphProto) {
			g.Input[1].Name = proto.String("x")
		}, []string{`graph input "x"`, "twice"}},
		{"wrong arity", func(g *onnx.GraphProto) {
			g.Node[0].Input = append(g.Node[0].Input, "z")
		}, []string{`node "relu" (Relu)`, "inputs"}},
		{"bad initializer", func(g *onnx.GraphProto) {
			g.Initializer = append(g.Initializer, &onnx.TensorProto{Name: proto.String("w"), Dims: []int64{3},
				DataType: proto.Int32(int32(tensor.Float32)), RawData: []byte{1}})
		}, []string{`tensor "w"`, "raw_data"}},
		{"non-tensor input", func(g *onnx.GraphProto) {
			g.Input[1].Type = &onnx.TypeProto{Value: &onnx.TypeProto_SequenceType{SequenceType: &onnx.TypeProto_Sequence{}}}
		}, []string{`graph input "z"`, "tensor types"}},
	}
	for _, c := range cases {
		m := chainModel(t)
		c.edit(m.GetGraph())
		_, err := engine.New(m, engine.Options{})
		wantErr(t, c.what, err, c.want...)
	}

	m := chainModel(t)
	m.OpsetImport[0].Version = proto.Int64(5)
	_, err := engine.New(m, engine.Options{})
	wantErr(t, "opset 5", err, "opset 5")
}

// TestUnsupportedOps: every op the registry lacks is reported at once, each with its node.
func TestUnsupportedOps(t *testing.T) {
	b := onnx.NewBuilder("unsupported", 17).Opset("com.example", 1)
	b.Input("x", tensor.Float32, 2)
	b.NamedNode("f1", "Frobnicate", []string{"x"}, []string{"a"})
	b.NamedNode("r", "Relu", []string{"a"}, []string{"b"})
	b.NamedNode("q1", "Quux", []string{"b"}, []string{"c"})
	b.NamedNode("f2", "Frobnicate", []string{"c"}, []string{"d"})
	b.NamedNode("ext", "Relu", []string{"d"}, []string{"e"}).Domain = proto.String("com.example")
	b.Output("e", tensor.Float32, 2)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.New(m, engine.Options{})
	var ue *engine.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want an *engine.UnsupportedError", err)
	}
	if len(ue.Ops) != 4 {
		t.Errorf("got %d unsupported ops %q, want 4", len(ue.Ops), ue.Ops)
	}
	for _, s := range []string{`Frobnicate (node "f1")`, `Quux (node "q1")`, `Frobnicate (node "f2")`, `com.example.Relu (node "ext")`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if strings.Contains(err.Error(), `node "r"`) {
		t.Errorf("error %q names the supported node r", err)
	}
}

// TestRunErrors: feeds that do not match the graph are errors naming the input.
func TestRunErrors(t *testing.T) {
	p := plan(t, chainModel(t))
	s := p.NewSession(engine.SessionOptions{})
	x := tensor.New(tensor.Float32, 2, 4)
	z := tensor.New(tensor.Float32, 2)
	feeds := func(kv ...any) map[string]*tensor.Tensor {
		m := map[string]*tensor.Tensor{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)], _ = kv[i+1].(*tensor.Tensor)
		}
		return m
	}
	cases := []struct {
		what  string
		feeds map[string]*tensor.Tensor
		names []string
		want  []string
	}{
		{"missing input", feeds("x", x), nil, []string{`input "z"`, "not fed"}},
		{"no inputs", nil, nil, []string{`input "x"`, "not fed"}},
		{"undeclared feed", feeds("x", x, "z", z, "bogus", x), nil, []string{`"bogus"`, "no input of that name"}},
		{"feeding an intermediate", feeds("x", x, "z", z, "h", x), nil, []string{`"h"`, "not a graph input"}},
		{"wrong dtype", feeds("x", tensor.New(tensor.Int64, 2, 4), "z", z), nil, []string{`input "x"`, "want dtype float32, got int64"}},
		{"wrong rank", feeds("x", tensor.New(tensor.Float32, 8), "z", z), nil, []string{`input "x"`, "rank"}},
		{"wrong fixed dim", feeds("x", tensor.New(tensor.Float32, 2, 5), "z", z), nil, []string{`input "x"`, "dimension 1: want 4, got 5"}},
		{"symbolic dims disagree", feeds("x", x, "z", tensor.New(tensor.Float32, 3)), nil, []string{"N"}},
		{"nil tensor", feeds("x", x, "z", nil), nil, []string{`input "z"`, "nil"}},
		{"inconsistent tensor", feeds("x", &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 4}, Data: []float32{1}}, "z", z), nil, []string{`input "x"`, "needs 8 elements"}},
		{"unknown output", feeds("x", x, "z", z), []string{"nope"}, []string{`"nope"`}},
	}
	for _, c := range cases {
		_, err := s.Run(c.feeds, c.names...)
		wantErr(t, c.what, err, c.want...)
	}
	// After all those errors the session still works.
	if _, err := s.Run(feeds("x", x, "z", z)); err != nil {
		t.Fatal(err)
	}
}

// TestIntermediateValues: any value of the graph can be requested by name, and only the nodes
// it needs run (so the other input need not be fed).
func TestIntermediateValues(t *testing.T) {
	p := plan(t, chainModel(t))
	if got, want := p.ValueNames(), []string{"x", "z", "h", "y", "v"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ValueNames = %v, want %v", got, want)
	}
	s := p.NewSession(engine.SessionOptions{})
	rng := rand.New(rand.NewPCG(1, 1))
	x, z := randn(rng, 3, 4), randn(rng, 3)
	res, err := s.Run(map[string]*tensor.Tensor{"x": x, "z": z}, "h", "x", "v")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Errorf("got %d values, want 3", len(res))
	}
	if !reflect.DeepEqual(res["h"].F32(), relu(x)) || !reflect.DeepEqual(res["v"].F32(), relu(z)) || !reflect.DeepEqual(res["x"].F32(), x.F32()) {
		t.Error("requested values are wrong")
	}
	// The graph outputs are the default.
	res, err = s.Run(map[string]*tensor.Tensor{"x": x, "z": z})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !reflect.DeepEqual(res["y"].F32(), relu(x)) {
		t.Errorf("default outputs: %v", res)
	}
}

// TestRunTwice: a session reuses its buffers; a second run, with the same or other inputs of
// another size, gives the right answer, and results returned earlier are not overwritten.
func TestRunTwice(t *testing.T) {
	p := plan(t, chainModel(t))
	s := p.NewSession(engine.SessionOptions{})
	rng := rand.New(rand.NewPCG(2, 2))
	x1, z1 := randn(rng, 5, 4), randn(rng, 5)
	first, err := s.Run(map[string]*tensor.Tensor{"x": x1, "z": z1})
	if err != nil {
		t.Fatal(err)
	}
	keep := first["y"].Clone()
	for _, n := range []int{5, 2, 7, 5} {
		x, z := randn(rng, n, 4), randn(rng, n)
		res, err := s.Run(map[string]*tensor.Tensor{"x": x, "z": z})
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(res["y"].Shape, []int{n, 4}) || !reflect.DeepEqual(res["y"].F32(), relu(x)) || !reflect.DeepEqual(res["v"].F32(), relu(z)) {
			t.Fatalf("run with N=%d: wrong result", n)
		}
	}
	again, err := s.Run(map[string]*tensor.Tensor{"x": x1, "z": z1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again["y"].F32(), keep.F32()) {
		t.Error("same inputs, different result")
	}
	if !reflect.DeepEqual(first["y"].F32(), keep.F32()) {
		t.Error("a later run overwrote a result returned earlier")
	}
	// Changing a returned tensor or a fed tensor does not affect the next run.
	again["y"].F32()[0] = 1e9
	res, err := s.Run(map[string]*tensor.Tensor{"x": x1, "z": z1})
	if err != nil || !reflect.DeepEqual(res["y"].F32(), keep.F32()) {
		t.Errorf("result after editing a returned tensor: %v", err)
	}
}

// TestConcurrency: one Session shared by several goroutines (runs are serialised) and several
// Sessions of one Plan running in parallel give the right results. Run under -race.
func TestConcurrency(t *testing.T) {
	p := plan(t, chainModel(t))
	shared := p.NewSession(engine.SessionOptions{})
	const goroutines, runs = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range 2 * goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := shared
			if g >= goroutines {
				s = p.NewSession(engine.SessionOptions{Threads: 2})
			}
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for r := range runs {
				n := 1 + rng.IntN(6)
				x, z := randn(rng, n, 4), randn(rng, n)
				names := []string{}
				if r%3 == 0 {
					names = []string{"h", "v"}
				}
				res, err := s.Run(map[string]*tensor.Tensor{"x": x, "z": z}, names...)
				if err != nil {
					errs <- err
					return
				}
				hy := res["y"]
				if len(names) > 0 {
					hy = res["h"]
				}
				if !reflect.DeepEqual(hy.F32(), relu(x)) || !reflect.DeepEqual(res["v"].F32(), relu(z)) {
					errs <- fmt.Errorf("goroutine %d run %d: wrong result", g, r)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOverridableInitializer: an initializer also declared as a graph input (the model zoo's
// IR 3 layout) need not be fed, but a feed replaces it.
func TestOverridableInitializer(t *testing.T) {
	b := onnx.NewBuilder("zoo", 8) // IR 3: the builder lists the initializer as an input
	b.Input("x", tensor.Float32, 3)
	b.Initializer("w", tensor.FromFloat32([]float32{-1, 0, 1}, 3))
	b.Node("Relu", []string{"w"}, []string{"y"})
	b.Node("Relu", []string{"x"}, []string{"u"})
	b.Output("y", tensor.Float32, 3).Output("u", tensor.Float32, 3)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	p := plan(t, m)
	if len(p.Inputs) != 1 || p.Inputs[0].Name != "x" {
		t.Errorf("inputs to feed: %v, want only x", p.Inputs)
	}
	s := p.NewSession(engine.SessionOptions{})
	x := tensor.FromFloat32([]float32{1, 2, 3}, 3)
	res, err := s.Run(map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res["y"].F32(), []float32{0, 0, 1}) {
		t.Errorf("y = %v", res["y"].F32())
	}
	res, err = s.Run(map[string]*tensor.Tensor{"x": x, "w": tensor.FromFloat32([]float32{5, -5, 5}, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res["y"].F32(), []float32{5, 0, 5}) {
		t.Errorf("y with w fed = %v", res["y"].F32())
	}
}

// BenchmarkRun measures the per-run overhead of the engine on a small chain.
func BenchmarkRun(b *testing.B) {
	p := plan(b, chainModel(b))
	s := p.NewSession(engine.SessionOptions{})
	rng := rand.New(rand.NewPCG(4, 4))
	feeds := map[string]*tensor.Tensor{"x": randn(rng, 64, 4), "z": randn(rng, 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Run(feeds); err != nil {
			b.Fatal(err)
		}
	}
}
