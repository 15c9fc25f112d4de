package onnx

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/runtime/tensor"
)

func testNode(attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{Name: proto.String("conv_7"), OpType: proto.String("Conv"), Output: []string{"y"}, Attribute: attrs}
}

// TestAttrsPresent reads every attribute type that is present.
func TestAttrsPresent(t *testing.T) {
	val := tensor.FromFloat32([]float32{1, 2}, 2)
	a := NewAttrs(testNode(
		AttrInt("group", 2), AttrFloat("alpha", 0.5), AttrString("auto_pad", "SAME_UPPER"),
		AttrInts("pads", 1, 1, 2, 2), AttrFloats("scales", 1.5, 2), AttrStrings("names", "a", "b"),
		AttrTensor("value", val),
	))
	if got := a.Int("group", 1); got != 2 {
		t.Errorf("Int = %d", got)
	}
	if got := a.Float("alpha", 1); got != 0.5 {
		t.Errorf("Float = %g", got)
	}
	if got := a.String("auto_pad", "NOTSET"); got != "SAME_UPPER" {
		t.Errorf("String = %q", got)
	}
	if got := a.Ints("pads", nil); !reflect.DeepEqual(got, []int64{1, 1, 2, 2}) {
		t.Errorf("Ints = %v", got)
	}
	if got := a.IntsLen("pads", nil, 4); len(got) != 4 {
		t.Errorf("IntsLen = %v", got)
	}
	if got := a.Floats("scales", nil); !reflect.DeepEqual(got, []float32{1.5, 2}) {
		t.Errorf("Floats = %v", got)
	}
	if got := a.Strings("names", nil); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Strings = %v", got)
	}
	tp := a.Tensor("value")
	if tp == nil {
		t.Fatal("Tensor = nil")
	}
	if got, err := ToTensor(tp, TensorOptions{}); err != nil || !reflect.DeepEqual(got.F32(), val.F32()) {
		t.Errorf("Tensor = %v, %v", got, err)
	}
	if !a.Has("group") || a.Has("dilations") {
		t.Error("Has is wrong")
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	// Slices are copies: changing them does not change the node.
	a.Ints("pads", nil)[0] = 99
	a.Floats("scales", nil)[0] = 99
	if a.Ints("pads", nil)[0] != 1 || a.Floats("scales", nil)[0] != 1.5 {
		t.Error("Ints/Floats return the node's own slices")
	}
}

// TestAttrsDefaults: absent attributes give the default passed in, without error.
func TestAttrsDefaults(t *testing.T) {
	a := NewAttrs(testNode())
	if a.Int("group", 1) != 1 || a.Float("epsilon", 1e-5) != 1e-5 || a.String("mode", "constant") != "constant" {
		t.Error("scalar defaults not returned")
	}
	if got := a.Ints("strides", []int64{1, 1}); !reflect.DeepEqual(got, []int64{1, 1}) {
		t.Errorf("Ints default = %v", got)
	}
	if got := a.IntsLen("kernel_shape", nil, 2); got != nil {
		t.Errorf("IntsLen default = %v", got)
	}
	if a.Floats("scales", nil) != nil || a.Strings("activations", nil) != nil || a.Tensor("value") != nil {
		t.Error("nil defaults not returned")
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestAttrsTypeMismatch: reading an attribute as the wrong type returns the default and records
// an error that names the node, its op, the attribute and both types. The first error wins.
func TestAttrsTypeMismatch(t *testing.T) {
	cases := []struct {
		attr *AttributeProto
		read func(a *Attrs)
		want string
	}{
		{AttrFloat("group", 2), func(a *Attrs) { a.Int("group", 1) }, "want type INT, got FLOAT"},
		{AttrInt("alpha", 1), func(a *Attrs) { a.Float("alpha", 0) }, "want type FLOAT, got INT"},
		{AttrInts("mode", 1), func(a *Attrs) { a.String("mode", "") }, "want type STRING, got INTS"},
		{AttrInt("pads", 1), func(a *Attrs) { a.Ints("pads", nil) }, "want type INTS, got INT"},
		{AttrInts("scales", 1), func(a *Attrs) { a.Floats("scales", nil) }, "want type FLOATS, got INTS"},
		{AttrString("names", "a"), func(a *Attrs) { a.Strings("names", nil) }, "want type STRINGS, got STRING"},
		{AttrFloat("value", 1), func(a *Attrs) { a.Tensor("value") }, "want type TENSOR, got FLOAT"},
	}
	for _, c := range cases {
		a := NewAttrs(testNode(c.attr))
		c.read(a)
		err := a.Err()
		if err == nil {
			t.Errorf("%s: no error", c.attr.GetName())
			continue
		}
		for _, s := range []string{`node "conv_7" (Conv)`, `attribute "` + c.attr.GetName() + `"`, c.want} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not contain %q", err, s)
			}
		}
	}

	a := NewAttrs(testNode(AttrFloat("group", 2), AttrInt("alpha", 1)))
	if got := a.Int("group", 7); got != 7 {
		t.Errorf("mismatched Int returned %d, want the default 7", got)
	}
	a.Float("alpha", 0)
	if err := a.Err(); err == nil || !strings.Contains(err.Error(), `"group"`) {
		t.Errorf("first error should win, got %v", err)
	}
}

// TestAttrsErrors: duplicate names, wrong lengths, Errorf, function references; a node without
// a name is described by its first output.
func TestAttrsErrors(t *testing.T) {
	a := NewAttrs(testNode(AttrInt("axis", 1), AttrInt("axis", 2)))
	wantErr(t, a.Err(), `attribute "axis"`, "given twice")

	a = NewAttrs(testNode(AttrInts("pads", 1, 1)))
	a.IntsLen("pads", nil, 4)
	wantErr(t, a.Err(), `node "conv_7" (Conv)`, `attribute "pads"`, "want 4 values, got 2")

	a = NewAttrs(testNode())
	a.Errorf("kernel_shape", "must be positive, got %d", -3)
	wantErr(t, a.Err(), `attribute "kernel_shape"`, "must be positive, got -3")

	ref := &AttributeProto{Name: proto.String("alpha"), RefAttrName: proto.String("outer"), Type: AttributeProto_FLOAT.Enum()}
	a = NewAttrs(testNode(ref))
	a.Float("alpha", 1)
	wantErr(t, a.Err(), `attribute "alpha"`, `"outer"`)

	n := &NodeProto{OpType: proto.String("Relu"), Output: []string{"h1"}, Attribute: []*AttributeProto{AttrInt("x", 1)}}
	a = NewAttrs(n)
	a.Float("x", 0)
	wantErr(t, a.Err(), `node "h1" (Relu)`)
}

// TestAttrsUntyped: writers before IR 2 leave the type out; it is inferred from the field set.
func TestAttrsUntyped(t *testing.T) {
	untyped := func(a *AttributeProto) *AttributeProto { a.Type = nil; return a }
	a := NewAttrs(testNode(
		untyped(AttrInt("i", 3)), untyped(AttrFloat("f", 2.5)), untyped(AttrString("s", "x")),
		untyped(AttrInts("is", 1, 2)), untyped(AttrFloats("fs", 0.5)), untyped(AttrStrings("ss", "y")),
		untyped(AttrTensor("t", tensor.FromInt64([]int64{4}, 1))),
	))
	if a.Int("i", 0) != 3 || a.Float("f", 0) != 2.5 || a.String("s", "") != "x" ||
		!reflect.DeepEqual(a.Ints("is", nil), []int64{1, 2}) || !reflect.DeepEqual(a.Floats("fs", nil), []float32{0.5}) ||
		!reflect.DeepEqual(a.Strings("ss", nil), []string{"y"}) || a.Tensor("t") == nil {
		t.Error("untyped attributes read wrongly")
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	// Untyped and empty: nothing to infer from.
	a = NewAttrs(testNode(&AttributeProto{Name: proto.String("e")}))
	a.Int("e", 0)
	wantErr(t, a.Err(), "want type INT, got UNDEFINED")
}

// TestAttrsFlag: ONNX booleans are INTs 0 or 1; the default applies when absent, anything else
// is an error naming the attribute.
func TestAttrsFlag(t *testing.T) {
	a := NewAttrs(testNode(AttrInt("ceil_mode", 1), AttrInt("antialias", 0)))
	if !a.Flag("ceil_mode", false) || a.Flag("antialias", true) || !a.Flag("absent", true) || a.Flag("absent2", false) {
		t.Fatal("Flag values wrong")
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	a = NewAttrs(testNode(AttrInt("ceil_mode", 2)))
	a.Flag("ceil_mode", false)
	if err := a.Err(); err == nil || !strings.Contains(err.Error(), `"ceil_mode": want 0 or 1, got 2`) {
		t.Fatalf("want an error naming ceil_mode, got %v", err)
	}
}
