package onnx_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func mustModel(t *testing.T, b *onnx.Builder) *onnx.ModelProto {
	t.Helper()
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip encodes and decodes m and plans the result.
func roundTrip(t *testing.T, m *onnx.ModelProto) *engine.Plan {
	t.Helper()
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, m2) {
		t.Fatal("Encode/Decode changed the model")
	}
	p, err := engine.New(m2, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIRVersionForOpset pins the opset -> IR version pairs of the ONNX releases
// (onnx/docs/Versioning.md: 1.2 IR 3 opset 7, ..., 1.16 IR 10 opset 21, 1.18 IR 11 opset 23,
// 1.19 IR 12 opset 24).
func TestIRVersionForOpset(t *testing.T) {
	want := map[int64]int64{7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8,
		19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 12}
	for opset := int64(-1); opset <= 30; opset++ {
		ir, ok := onnx.IRVersionForOpset(opset)
		w, known := want[opset]
		if ok != known || ir != w {
			t.Errorf("IRVersionForOpset(%d) = %d, %v; want %d, %v", opset, ir, ok, w, known)
		}
	}
}

// TestBuilderRunsInEngine builds Relu -> Identity for every opset the builder knows, encodes,
// decodes, plans and runs it, and compares with max(x, 0) computed here.
func TestBuilderRunsInEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for opset := int64(7); opset <= 24; opset++ {
		b := onnx.NewBuilder("relu_identity", opset)
		b.InputDims("x", tensor.Float32, onnx.Sym("N"), onnx.Fixed(4))
		b.Node("Relu", []string{"x"}, []string{"h"})
		b.Node("Identity", []string{"h"}, []string{"y"})
		b.OutputDims("y", tensor.Float32, onnx.Sym("N"), onnx.Fixed(4))
		m := mustModel(t, b)
		if ir, _ := onnx.IRVersionForOpset(opset); m.GetIrVersion() != ir {
			t.Errorf("opset %d: ir_version %d, want %d", opset, m.GetIrVersion(), ir)
		}
		if m.GetProducerName() != "gendl" || onnx.OpsetVersion(m, "") != opset {
			t.Errorf("opset %d: producer %q, opset import %d", opset, m.GetProducerName(), onnx.OpsetVersion(m, ""))
		}
		p := roundTrip(t, m)
		if len(p.Inputs) != 1 || p.Inputs[0].String() != "x: float32[N 4]" {
			t.Errorf("opset %d: inputs %v", opset, p.Inputs)
		}
		s := p.NewSession(engine.SessionOptions{})
		for _, n := range []int{1, 3} {
			x := tensor.New(tensor.Float32, n, 4)
			for i := range x.F32() {
				x.F32()[i] = float32(rng.NormFloat64())
			}
			res, err := s.Run(map[string]*tensor.Tensor{"x": x})
			if err != nil {
				t.Fatalf("opset %d: %v", opset, err)
			}
			y := res["y"]
			if !tensor.SameShape(y.Shape, []int{n, 4}) {
				t.Fatalf("opset %d: y shape %v", opset, y.Shape)
			}
			for i, v := range x.F32() {
				if want := max(v, 0); y.F32()[i] != want {
					t.Fatalf("opset %d: y[%d] = %g, want %g", opset, i, y.F32()[i], want)
				}
			}
		}
	}
}

// TestBuilderIR3Initializers: IR 3 (opsets 7 and 8) requires every initializer to be a graph
// input, so the builder lists them, with their type and shape; the engine still needs only the
// real inputs fed. From IR 4 on initializers are not listed.
func TestBuilderIR3Initializers(t *testing.T) {
	w := tensor.FromFloat32([]float32{-1, 2, -3}, 3)
	for _, opset := range []int64{8, 9} {
		b := onnx.NewBuilder("ir3", opset)
		b.Input("x", tensor.Float32, 3)
		b.Initializer("w", w)
		b.Node("Relu", []string{"x"}, []string{"y"})
		b.Node("Identity", []string{"w"}, []string{"w_out"})
		b.Output("y", tensor.Float32, 3).Output("w_out", tensor.Float32, 3)
		m := mustModel(t, b)
		var names []string
		for _, in := range m.GetGraph().GetInput() {
			names = append(names, in.GetName())
		}
		want := []string{"x"}
		if opset == 8 {
			want = []string{"x", "w"}
			tt := m.GetGraph().GetInput()[1].GetType().GetTensorType()
			if tt.GetElemType() != int32(tensor.Float32) || len(tt.GetShape().GetDim()) != 1 || tt.GetShape().GetDim()[0].GetDimValue() != 3 {
				t.Errorf("initializer input declared as %v", tt)
			}
		}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("opset %d: graph inputs %v, want %v", opset, names, want)
		}
		p := roundTrip(t, m)
		if len(p.Inputs) != 1 {
			t.Errorf("opset %d: plan wants %d inputs to be fed, want 1", opset, len(p.Inputs))
		}
		res, err := p.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{"x": w})
		if err != nil {
			t.Fatal(err)
		}
		if got := res["y"].F32(); !reflect.DeepEqual(got, []float32{0, 2, 0}) {
			t.Errorf("y = %v", got)
		}
		if got := res["w_out"].F32(); !reflect.DeepEqual(got, w.F32()) {
			t.Errorf("w_out = %v", got)
		}
	}
}

// TestBuilderModelFields checks everything Model writes: names, node names, attributes,
// initializers, shapes, metadata, opset imports and the doc string.
func TestBuilderModelFields(t *testing.T) {
	b := onnx.NewBuilder("g", 13).Opset("com.example", 2).Metadata("vocab", "abc").Metadata("maxlen", "60").Doc("a test")
	b.InputDims("x", tensor.Float32, onnx.Sym("N"), onnx.UnknownDim, onnx.Fixed(2))
	b.Input("s", tensor.Int64)
	b.InputAnyShape("any", tensor.Float64)
	b.Initializer("w", tensor.FromInt64([]int64{1, 2}, 2))
	b.NamedNode("Relu_1", "Relu", []string{"x"}, []string{"a"})
	n0 := b.Node("Relu", []string{"a"}, []string{"b"}, onnx.AttrInt("k", 3), onnx.AttrFloats("f", 1, 2))
	n2 := b.Node("Relu", []string{"b"}, []string{"c"})
	custom := b.Node("Foo", []string{"c", "", "w"}, []string{"d", ""})
	custom.Domain = proto.String("com.example")
	b.Output("d", tensor.Float32, -1, 5)
	b.OutputAnyShape("c", tensor.Float32)
	m := mustModel(t, b)

	if n0.GetName() != "Relu_0" || n2.GetName() != "Relu_2" || custom.GetName() != "Foo_0" {
		t.Errorf("auto names %q %q %q, want Relu_0 Relu_2 Foo_0 (Relu_1 was taken)", n0.GetName(), n2.GetName(), custom.GetName())
	}
	g := m.GetGraph()
	if g.GetName() != "g" || m.GetDocString() != "a test" || m.GetIrVersion() != 7 {
		t.Errorf("graph %q doc %q ir %d", g.GetName(), m.GetDocString(), m.GetIrVersion())
	}
	if got := onnx.OpsetVersion(m, "com.example"); got != 2 {
		t.Errorf("com.example opset %d", got)
	}
	meta := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if !reflect.DeepEqual(meta, map[string]string{"vocab": "abc", "maxlen": "60"}) {
		t.Errorf("metadata %v", meta)
	}
	shape := func(vi *onnx.ValueInfoProto) string {
		tt := vi.GetType().GetTensorType()
		if tt.GetShape() == nil {
			return onnx.DataTypeName(tt.GetElemType()) + " unshaped"
		}
		var parts []string
		for _, d := range tt.GetShape().GetDim() {
			switch v := d.GetValue().(type) {
			case *onnx.TensorShapeProto_Dimension_DimValue:
				parts = append(parts, fmt.Sprint(v.DimValue))
			case *onnx.TensorShapeProto_Dimension_DimParam:
				parts = append(parts, "$"+v.DimParam)
			default:
				parts = append(parts, "?")
			}
		}
		return onnx.DataTypeName(tt.GetElemType()) + " [" + strings.Join(parts, ",") + "]"
	}
	gotShapes := []string{shape(g.GetInput()[0]), shape(g.GetInput()[1]), shape(g.GetInput()[2]), shape(g.GetOutput()[0]), shape(g.GetOutput()[1])}
	wantShapes := []string{"FLOAT [$N,?,2]", "INT64 []", "DOUBLE unshaped", "FLOAT [?,5]", "FLOAT unshaped"}
	if !reflect.DeepEqual(gotShapes, wantShapes) {
		t.Errorf("declared shapes %q, want %q", gotShapes, wantShapes)
	}
	nodes := g.GetNode()
	if len(nodes) != 4 || len(nodes[1].GetAttribute()) != 2 || nodes[1].GetAttribute()[0].GetI() != 3 {
		t.Fatalf("nodes %v", nodes)
	}
	if !reflect.DeepEqual(nodes[3].GetInput(), []string{"c", "", "w"}) || !reflect.DeepEqual(nodes[3].GetOutput(), []string{"d", ""}) {
		t.Errorf("optional slots lost: %v -> %v", nodes[3].GetInput(), nodes[3].GetOutput())
	}

	// The model is a copy: changing it, or the builder afterwards, leaves the other alone.
	g.Node[0].OpType = proto.String("Sigmoid")
	b.Node("Relu", []string{"d"}, []string{"e"})
	m2 := mustModel(t, b)
	if m2.GetGraph().GetNode()[0].GetOpType() != "Relu" || len(m.GetGraph().GetNode()) != 4 || len(m2.GetGraph().GetNode()) != 5 {
		t.Error("Model does not return an independent copy")
	}
}

// TestBuilderAttributes: the constructors write the type and the value the getters read.
func TestBuilderAttributes(t *testing.T) {
	val := tensor.FromFloat32([]float32{0.5}, 1)
	n := &onnx.NodeProto{Name: proto.String("n"), OpType: proto.String("X"), Attribute: []*onnx.AttributeProto{
		onnx.AttrInt("i", -4), onnx.AttrFloat("f", 0.25), onnx.AttrString("s", "NOTSET"),
		onnx.AttrInts("is", 1, -1), onnx.AttrFloats("fs"), onnx.AttrStrings("ss", "a", "b"), onnx.AttrTensor("t", val),
	}}
	wantTypes := []onnx.AttributeProto_AttributeType{onnx.AttributeProto_INT, onnx.AttributeProto_FLOAT, onnx.AttributeProto_STRING,
		onnx.AttributeProto_INTS, onnx.AttributeProto_FLOATS, onnx.AttributeProto_STRINGS, onnx.AttributeProto_TENSOR}
	for i, a := range n.GetAttribute() {
		if a.GetType() != wantTypes[i] {
			t.Errorf("attribute %q has type %v, want %v", a.GetName(), a.GetType(), wantTypes[i])
		}
	}
	a := onnx.NewAttrs(n)
	if a.Int("i", 0) != -4 || a.Float("f", 0) != 0.25 || a.String("s", "") != "NOTSET" ||
		!reflect.DeepEqual(a.Ints("is", nil), []int64{1, -1}) || len(a.Floats("fs", []float32{9})) != 0 ||
		!reflect.DeepEqual(a.Strings("ss", nil), []string{"a", "b"}) {
		t.Error("attribute values read back wrongly")
	}
	got, err := onnx.ToTensor(a.Tensor("t"), onnx.TensorOptions{})
	if err != nil || got.F32()[0] != 0.5 {
		t.Errorf("tensor attribute: %v, %v", got, err)
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	// The constructors copy their slices.
	ints := []int64{1, 2}
	at := onnx.AttrInts("x", ints...)
	ints[0] = 9
	if at.GetInts()[0] != 1 {
		t.Error("AttrInts keeps the caller's slice")
	}
}

// TestBuilderErrors: Model rejects graphs that ONNX forbids and names what is wrong.
func TestBuilderErrors(t *testing.T) {
	x := tensor.FromFloat32([]float32{1}, 1)
	cases := []struct {
		what  string
		build func(b *onnx.Builder)
		want  string
	}{
		{"undefined input", func(b *onnx.Builder) {
			b.Node("Relu", []string{"nope"}, []string{"y"})
		}, `node "Relu_0" (Relu): input "nope" is not defined`},
		{"use before definition", func(b *onnx.Builder) {
			b.Node("Relu", []string{"h"}, []string{"y"})
			b.Node("Relu", []string{"x"}, []string{"h"})
		}, `input "h" is not defined`},
		{"duplicate node output", func(b *onnx.Builder) {
			b.Node("Relu", []string{"x"}, []string{"y"})
			b.Node("Identity", []string{"x"}, []string{"y"})
		}, `node "Identity_0" (Identity): output "y" is already defined by node "Relu_0" (Relu)`},
		{"output shadows input", func(b *onnx.Builder) {
			b.Node("Relu", []string{"x"}, []string{"x"})
		}, `output "x" is already defined by a graph input`},
		{"output shadows initializer", func(b *onnx.Builder) {
			b.Initializer("w", x)
			b.Node("Relu", []string{"x"}, []string{"w"})
		}, `output "w" is already defined by an initializer`},
		{"duplicate input", func(b *onnx.Builder) {
			b.Input("x", tensor.Float32, 1)
		}, `graph input "x" is already defined`},
		{"duplicate initializer", func(b *onnx.Builder) {
			b.Initializer("w", x).Initializer("w", x)
		}, `initializer "w" is already defined by an initializer`},
		{"graph output undefined", func(b *onnx.Builder) {
			b.Output("z", tensor.Float32)
		}, `graph output "z" is not defined`},
		{"graph output twice", func(b *onnx.Builder) {
			b.Output("x", tensor.Float32).Output("x", tensor.Float32)
		}, `graph output "x" is declared twice`},
		{"node name twice", func(b *onnx.Builder) {
			b.NamedNode("n", "Relu", []string{"x"}, []string{"a"})
			b.NamedNode("n", "Relu", []string{"x"}, []string{"b"})
		}, `node "n" (Relu): node name given twice`},
		{"attribute twice", func(b *onnx.Builder) {
			b.Node("Relu", []string{"x"}, []string{"a"}, onnx.AttrInt("k", 1), onnx.AttrInt("k", 2))
		}, `attribute "k" given twice`},
		{"nil attribute", func(b *onnx.Builder) {
			b.Node("Relu", []string{"x"}, []string{"a"}, nil)
		}, "nil attribute"},
		{"bad tensor attribute", func(b *onnx.Builder) {
			b.Node("Constant", nil, []string{"c"}, onnx.AttrTensor("value", &tensor.Tensor{DType: tensor.Float32, Shape: []int{2}, Data: []float32{1}}))
		}, `attribute "value": no tensor`},
		{"domain not imported", func(b *onnx.Builder) {
			b.Node("Foo", []string{"x"}, []string{"a"}).Domain = proto.String("com.example")
		}, `domain "com.example" is not imported`},
		{"no op type", func(b *onnx.Builder) {
			b.Node("", []string{"x"}, []string{"a"})
		}, "has no op type"},
		{"nil initializer", func(b *onnx.Builder) {
			b.Initializer("w", nil)
		}, `initializer "w": nil tensor`},
		{"inconsistent initializer", func(b *onnx.Builder) {
			b.Initializer("w", &tensor.Tensor{DType: tensor.Int64, Shape: []int{1}, Data: []float32{1}})
		}, "does not match dtype int64"},
		{"short initializer", func(b *onnx.Builder) {
			b.Initializer("w", &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 2}, Data: []float32{1}})
		}, "needs 4 elements, data has 1"},
		{"unnamed initializer", func(b *onnx.Builder) {
			b.Initializer("", x)
		}, "has no name"},
		{"unnamed input", func(b *onnx.Builder) {
			b.Input("", tensor.Float32)
		}, "has no name"},
		{"unknown dtype", func(b *onnx.Builder) {
			b.Input("q", tensor.DType(99))
		}, `graph input "q": unknown element type`},
		{"metadata twice", func(b *onnx.Builder) {
			b.Metadata("k", "1").Metadata("k", "2")
		}, `metadata key "k" given twice`},
		{"opset too old", func(b *onnx.Builder) {
			b.Opset("", 6)
		}, "opset 6"},
		{"opset too new", func(b *onnx.Builder) {
			b.Opset("ai.onnx", 99)
		}, "opset 99"},
	}
	for _, c := range cases {
		b := onnx.NewBuilder("bad", 17)
		b.Input("x", tensor.Float32, 1)
		c.build(b)
		_, err := b.Model()
		if err == nil {
			t.Errorf("%s: Model gave no error", c.what)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.what, err, c.want)
		}
	}

	// An initializer may also be declared as an input (a default the caller may override).
	b := onnx.NewBuilder("ok", 17)
	b.Input("w", tensor.Float32, 1).Initializer("w", x)
	b.Node("Relu", []string{"w"}, []string{"y"})
	b.Output("y", tensor.Float32, 1)
	if _, err := b.Model(); err != nil {
		t.Errorf("initializer declared as input: %v", err)
	}
}
