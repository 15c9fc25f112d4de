package onnx

import (
	"fmt"
)

// Attrs reads a node's attributes with typed getters. Getters take the operator spec's
// default, returned when the attribute is absent. A type mismatch is recorded (the first one
// wins) and reported by Err, so an op constructor reads all attributes and checks once:
//
//	a := onnx.NewAttrs(node)
//	axis := a.Int("axis", 1)
//	pads := a.Ints("pads", nil)
//	if err := a.Err(); err != nil { ... }
type Attrs struct {
	node *NodeProto
	m    map[string]*AttributeProto
	used map[string]bool
	err  error
}

// NewAttrs indexes the attributes of n. Duplicate names are an error reported by Err.
func NewAttrs(n *NodeProto) *Attrs {
	a := &Attrs{node: n, m: make(map[string]*AttributeProto, len(n.GetAttribute())), used: map[string]bool{}}
	for _, at := range n.GetAttribute() {
		if _, dup := a.m[at.GetName()]; dup {
			a.fail(at.GetName(), "given twice")
		}
		a.m[at.GetName()] = at
	}
	return a
}

// NodeDesc describes a node for error messages: `node "conv_7" (Conv)`.
func NodeDesc(n *NodeProto) string {
	name := n.GetName()
	if name == "" && len(n.GetOutput()) > 0 {
		name = n.GetOutput()[0]
	}
	return fmt.Sprintf("node %q (%s)", name, n.GetOpType())
}

func (a *Attrs) fail(name, format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("onnx: %s: attribute %q: %s", NodeDesc(a.node), name, fmt.Sprintf(format, args...))
	}
}

// Errorf records an error about attribute name (for checks an op makes on values it read).
func (a *Attrs) Errorf(name, format string, args ...any) { a.fail(name, format, args...) }

// Err returns the first error recorded by a getter or Errorf.
func (a *Attrs) Err() error { return a.err }

// Has reports whether the attribute is present.
func (a *Attrs) Has(name string) bool { _, ok := a.m[name]; return ok }

func (a *Attrs) get(name string, want AttributeProto_AttributeType) *AttributeProto {
	at, ok := a.m[name]
	if !ok {
		return nil
	}
	a.used[name] = true
	if at.GetRefAttrName() != "" {
		a.fail(name, "references a function attribute (%q), which only function bodies may do", at.GetRefAttrName())
		return nil
	}
	typ := at.GetType()
	if typ == AttributeProto_UNDEFINED {
		// Old writers may leave the type out; infer it from the field that is set.
		switch {
		case at.F != nil:
			typ = AttributeProto_FLOAT
		case at.I != nil:
			typ = AttributeProto_INT
		case at.S != nil:
			typ = AttributeProto_STRING
		case at.T != nil:
			typ = AttributeProto_TENSOR
		case len(at.Floats) > 0:
			typ = AttributeProto_FLOATS
		case len(at.Ints) > 0:
			typ = AttributeProto_INTS
		case len(at.Strings) > 0:
			typ = AttributeProto_STRINGS
		}
	}
	if typ != want {
		a.fail(name, "want type %v, got %v", want, typ)
		return nil
	}
	return at
}

// Int returns an INT attribute.
func (a *Attrs) Int(name string, def int64) int64 {
	if at := a.get(name, AttributeProto_INT); at != nil {
		return at.GetI()
	}
	return def
}

// Float returns a FLOAT attribute.
func (a *Attrs) Float(name string, def float32) float32 {
	if at := a.get(name, AttributeProto_FLOAT); at != nil {
		return at.GetF()
	}
	return def
}

// String returns a STRING attribute.
func (a *Attrs) String(name, def string) string {
	if at := a.get(name, AttributeProto_STRING); at != nil {
		return string(at.GetS())
	}
	return def
}

// Ints returns an INTS attribute (a copy), or def when absent.
func (a *Attrs) Ints(name string, def []int64) []int64 {
	if at := a.get(name, AttributeProto_INTS); at != nil {
		return append([]int64{}, at.GetInts()...)
	}
	return def
}

// Floats returns a FLOATS attribute (a copy), or def when absent.
func (a *Attrs) Floats(name string, def []float32) []float32 {
	if at := a.get(name, AttributeProto_FLOATS); at != nil {
		return append([]float32{}, at.GetFloats()...)
	}
	return def
}

// Strings returns a STRINGS attribute, or def when absent.
func (a *Attrs) Strings(name string, def []string) []string {
	if at := a.get(name, AttributeProto_STRINGS); at != nil {
		out := make([]string, len(at.GetStrings()))
		for i, s := range at.GetStrings() {
			out[i] = string(s)
		}
		return out
	}
	return def
}

// Tensor returns a TENSOR attribute, or nil when absent.
func (a *Attrs) Tensor(name string) *TensorProto {
	if at := a.get(name, AttributeProto_TENSOR); at != nil {
		return at.GetT()
	}
	return nil
}

// IntsLen returns an INTS attribute and records an error unless it has exactly n values
// (when present).
func (a *Attrs) IntsLen(name string, def []int64, n int) []int64 {
	v := a.Ints(name, def)
	if a.Has(name) && len(v) != n {
		a.fail(name, "want %d values, got %d", n, len(v))
	}
	return v
}

// Flag returns a boolean INT attribute, which ONNX stores as 0 or 1; any other value is an
// error.
func (a *Attrs) Flag(name string, def bool) bool {
	d := int64(0)
	if def {
		d = 1
	}
	v := a.Int(name, d)
	if v != 0 && v != 1 {
		a.fail(name, "want 0 or 1, got %d", v)
	}
	return v == 1
}
