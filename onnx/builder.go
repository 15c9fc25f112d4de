package onnx

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/runtime/tensor"
)

// ProducerName is the producer_name of every model a Builder emits.
const ProducerName = "gendl"

// IRVersionForOpset returns the IR version that the ONNX release introducing the given
// default-domain opset used (onnx/docs/Versioning.md, the release table): a model written
// with that pair loads in every runtime that supports the opset. ok is false for an opset
// outside 7..24.
func IRVersionForOpset(opset int64) (ir int64, ok bool) {
	switch {
	case opset < 7:
		return 0, false
	case opset <= 8: // ONNX 1.2, 1.3
		return 3, true
	case opset == 9: // 1.4
		return 4, true
	case opset == 10: // 1.5
		return 5, true
	case opset == 11: // 1.6
		return 6, true
	case opset <= 14: // 1.7 - 1.9
		return 7, true
	case opset <= 18: // 1.10 - 1.13
		return 8, true
	case opset <= 20: // 1.14, 1.15
		return 9, true
	case opset <= 22: // 1.16, 1.17
		return 10, true
	case opset == 23: // 1.18
		return 11, true
	case opset == 24: // 1.19
		return 12, true
	}
	return 0, false
}

// Dim is one dimension of a declared graph input or output: a fixed size, a symbolic name
// (dimensions with the same name must agree at run time), or unknown.
type Dim struct {
	// Size is the fixed size when >= 0; negative means not fixed.
	Size int64
	// Param is the symbolic name of a dimension that is not fixed ("" for unknown).
	Param string
}

// Fixed returns a dimension of fixed size n.
func Fixed(n int64) Dim { return Dim{Size: n} }

// Sym returns a symbolic dimension named name, such as "N" for a batch size.
func Sym(name string) Dim { return Dim{Size: -1, Param: name} }

// UnknownDim is a dimension of unknown size without a name.
var UnknownDim = Dim{Size: -1}

// Builder emits an ONNX model: graph inputs and outputs, initializers, nodes, opset imports and
// metadata_props. Methods record the first error they meet (a nil tensor, an unknown dtype) and
// Model reports it, so a graph is written as a sequence of calls and checked once:
//
//	b := onnx.NewBuilder("mlp", 17)
//	b.InputDims("x", tensor.Float32, onnx.Sym("N"), onnx.Fixed(784))
//	b.Initializer("w", w).Initializer("bias", bias)
//	b.Node("Gemm", []string{"x", "w", "bias"}, []string{"h"}, onnx.AttrInt("transB", 1))
//	b.Node("Relu", []string{"h"}, []string{"y"})
//	b.Output("y", tensor.Float32, -1, 10)
//	m, err := b.Model()
//
// Nodes must be added in an order where every input is defined before it is used (ONNX
// requires graph nodes to be topologically sorted); Model checks this.
type Builder struct {
	name     string
	opset    int64
	domains  []*OperatorSetIdProto // imports other than the default domain, in call order
	inputs   []*ValueInfoProto
	outputs  []*ValueInfoProto
	inits    []*TensorProto
	nodes    []*NodeProto
	meta     []*StringStringEntryProto
	doc      string
	names    map[string]bool // node names given or generated so far
	opCounts map[string]int  // op type -> next auto-name index
	err      error
}

// NewBuilder starts a model whose graph is called name and which imports version opset of the
// default ONNX domain.
func NewBuilder(name string, opset int64) *Builder {
	return &Builder{name: name, opset: opset, names: map[string]bool{}, opCounts: map[string]int{}}
}

func (b *Builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("onnx: builder: "+format, args...)
	}
}

// Opset imports version of an operator-set domain. The default domain ("" or "ai.onnx")
// replaces the version given to NewBuilder; another domain is added, or its version replaced.
func (b *Builder) Opset(domain string, version int64) *Builder {
	if domain == "" || domain == "ai.onnx" {
		b.opset = version
		return b
	}
	for _, o := range b.domains {
		if o.GetDomain() == domain {
			o.Version = proto.Int64(version)
			return b
		}
	}
	b.domains = append(b.domains, &OperatorSetIdProto{Domain: proto.String(domain), Version: proto.Int64(version)})
	return b
}

// Metadata adds a metadata_props entry. Keys must be distinct.
func (b *Builder) Metadata(key, value string) *Builder {
	for _, kv := range b.meta {
		if kv.GetKey() == key {
			b.fail("metadata key %q given twice", key)
			return b
		}
	}
	b.meta = append(b.meta, &StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
	return b
}

// Doc sets the model's doc_string.
func (b *Builder) Doc(s string) *Builder {
	b.doc = s
	return b
}

// Input declares a graph input of element type dt. Each dim is a fixed size, or negative for
// an unknown size; no dims declares a scalar.
func (b *Builder) Input(name string, dt tensor.DType, dims ...int64) *Builder {
	return b.InputDims(name, dt, intDims(dims)...)
}

// InputDims declares a graph input whose dimensions may be symbolic.
func (b *Builder) InputDims(name string, dt tensor.DType, dims ...Dim) *Builder {
	if vi := b.valueInfo("input", name, dt, dims, true); vi != nil {
		b.inputs = append(b.inputs, vi)
	}
	return b
}

// InputAnyShape declares a graph input of element type dt with no shape (any rank).
func (b *Builder) InputAnyShape(name string, dt tensor.DType) *Builder {
	if vi := b.valueInfo("input", name, dt, nil, false); vi != nil {
		b.inputs = append(b.inputs, vi)
	}
	return b
}

// Output declares a graph output of element type dt. Each dim is a fixed size, or negative for
// an unknown size; no dims declares a scalar.
func (b *Builder) Output(name string, dt tensor.DType, dims ...int64) *Builder {
	return b.OutputDims(name, dt, intDims(dims)...)
}

// OutputDims declares a graph output whose dimensions may be symbolic.
func (b *Builder) OutputDims(name string, dt tensor.DType, dims ...Dim) *Builder {
	if vi := b.valueInfo("output", name, dt, dims, true); vi != nil {
		b.outputs = append(b.outputs, vi)
	}
	return b
}

// OutputAnyShape declares a graph output of element type dt with no shape (any rank).
func (b *Builder) OutputAnyShape(name string, dt tensor.DType) *Builder {
	if vi := b.valueInfo("output", name, dt, nil, false); vi != nil {
		b.outputs = append(b.outputs, vi)
	}
	return b
}

func intDims(dims []int64) []Dim {
	out := make([]Dim, len(dims))
	for i, d := range dims {
		out[i] = Dim{Size: d}
		if d < 0 {
			out[i] = UnknownDim
		}
	}
	return out
}

func (b *Builder) valueInfo(kind, name string, dt tensor.DType, dims []Dim, shaped bool) *ValueInfoProto {
	if name == "" {
		b.fail("a graph %s has no name", kind)
		return nil
	}
	if _, ok := TensorProto_DataType_name[int32(dt)]; !ok || dt == tensor.Undefined {
		b.fail("graph %s %q: unknown element type %v", kind, name, dt)
		return nil
	}
	tt := &TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}
	if shaped {
		tt.Shape = shapeProto(dims)
	}
	return &ValueInfoProto{Name: proto.String(name), Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: tt}}}
}

func shapeProto(dims []Dim) *TensorShapeProto {
	sp := &TensorShapeProto{Dim: make([]*TensorShapeProto_Dimension, len(dims))}
	for i, d := range dims {
		pd := &TensorShapeProto_Dimension{}
		switch {
		case d.Size >= 0:
			pd.Value = &TensorShapeProto_Dimension_DimValue{DimValue: d.Size}
		case d.Param != "":
			pd.Value = &TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		}
		sp.Dim[i] = pd
	}
	return sp
}

// Initializer adds a constant tensor (a weight) named name, stored as raw_data. The tensor is
// copied.
func (b *Builder) Initializer(name string, t *tensor.Tensor) *Builder {
	if name == "" {
		b.fail("an initializer has no name")
		return b
	}
	if err := checkTensor(t); err != nil {
		b.fail("initializer %q: %v", name, err)
		return b
	}
	b.inits = append(b.inits, FromTensor(name, t))
	return b
}

// InitializerProto adds an initializer given as a TensorProto (for example float16 data or
// external data written by the caller). The proto is used as is; its name must be set.
func (b *Builder) InitializerProto(tp *TensorProto) *Builder {
	if tp == nil || tp.GetName() == "" {
		b.fail("an initializer proto is nil or has no name")
		return b
	}
	b.inits = append(b.inits, tp)
	return b
}

// Node appends a node of the default domain computing outputs from inputs. An empty input
// name marks an absent optional input; an empty output name, an output nobody needs. The node
// is named <opType>_<k> (k counting nodes of that type); use NamedNode to choose the name.
// The returned node may still be adjusted (its Domain, for a node of another operator set)
// before Model is called.
func (b *Builder) Node(opType string, inputs, outputs []string, attrs ...*AttributeProto) *NodeProto {
	return b.NamedNode("", opType, inputs, outputs, attrs...)
}

// NamedNode is Node with an explicit node name; "" generates one.
func (b *Builder) NamedNode(name, opType string, inputs, outputs []string, attrs ...*AttributeProto) *NodeProto {
	if name == "" {
		for {
			k := b.opCounts[opType]
			b.opCounts[opType]++
			name = fmt.Sprintf("%s_%d", opType, k)
			if !b.names[name] {
				break
			}
		}
	}
	b.names[name] = true
	n := &NodeProto{
		Name:   proto.String(name),
		OpType: proto.String(opType),
		Input:  append([]string{}, inputs...),
		Output: append([]string{}, outputs...),
	}
	for _, a := range attrs {
		if a == nil {
			b.fail("node %q (%s): nil attribute", name, opType)
			continue
		}
		n.Attribute = append(n.Attribute, a)
	}
	b.nodes = append(b.nodes, n)
	return n
}

// AttrInt returns an INT attribute.
func AttrInt(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// AttrFloat returns a FLOAT attribute.
func AttrFloat(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// AttrString returns a STRING attribute.
func AttrString(name, v string) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_STRING.Enum(), S: []byte(v)}
}

// AttrInts returns an INTS attribute.
func AttrInts(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INTS.Enum(), Ints: append([]int64{}, v...)}
}

// AttrFloats returns a FLOATS attribute.
func AttrFloats(name string, v ...float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOATS.Enum(), Floats: append([]float32{}, v...)}
}

// AttrStrings returns a STRINGS attribute.
func AttrStrings(name string, v ...string) *AttributeProto {
	s := make([][]byte, len(v))
	for i, x := range v {
		s[i] = []byte(x)
	}
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_STRINGS.Enum(), Strings: s}
}

// AttrTensor returns a TENSOR attribute holding a copy of t (Constant's value). When t is nil
// or inconsistent (data not matching dtype and shape) the attribute holds no tensor, which
// Model reports as an error.
func AttrTensor(name string, t *tensor.Tensor) *AttributeProto {
	a := &AttributeProto{Name: proto.String(name), Type: AttributeProto_TENSOR.Enum()}
	if checkTensor(t) == nil {
		a.T = FromTensor("", t)
	}
	return a
}

// checkTensor verifies that a caller's tensor can be serialized: a supported dtype, no
// negative dimension, and data of the right Go type and length.
func checkTensor(t *tensor.Tensor) error {
	if t == nil {
		return errors.New("nil tensor")
	}
	if !t.DType.Supported() {
		return fmt.Errorf("unsupported dtype %v", t.DType)
	}
	for i, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
	}
	var n int
	var want tensor.DType
	switch d := t.Data.(type) {
	case []float32:
		n, want = len(d), tensor.Float32
	case []float64:
		n, want = len(d), tensor.Float64
	case []int64:
		n, want = len(d), tensor.Int64
	case []int32:
		n, want = len(d), tensor.Int32
	case []int8:
		n, want = len(d), tensor.Int8
	case []uint8:
		n, want = len(d), tensor.Uint8
	case []bool:
		n, want = len(d), tensor.Bool
	default:
		return fmt.Errorf("data of Go type %T is not a supported slice", t.Data)
	}
	if want != t.DType {
		return fmt.Errorf("data of Go type %T does not match dtype %v", t.Data, t.DType)
	}
	if n != t.Len() {
		return fmt.Errorf("shape %v needs %d elements, data has %d", t.Shape, t.Len(), n)
	}
	return nil
}

// Model checks the graph and returns the model. It checks that the default opset has a known IR
// version (which it sets), that every node input and graph output is defined before use (by a
// graph input, an initializer or an earlier node), that no value is defined twice, that node
// names and attribute names are unique, and that every node's domain is imported. For IR
// versions below 4, which require every initializer to be a graph input, initializers not
// declared as inputs are added to the inputs. producer_name is "gendl". The returned model is a
// copy: later Builder calls do not change it.
func (b *Builder) Model() (*ModelProto, error) {
	if b.err != nil {
		return nil, b.err
	}
	ir, ok := IRVersionForOpset(b.opset)
	if !ok {
		return nil, fmt.Errorf("onnx: builder: default-domain opset %d: want 7 to 24", b.opset)
	}
	imported := map[string]bool{"": true, "ai.onnx": true}
	for _, o := range b.domains {
		imported[o.GetDomain()] = true
	}

	// defined maps a value name to what defines it, for error messages.
	defined := map[string]string{}
	for _, vi := range b.inputs {
		if what, dup := defined[vi.GetName()]; dup {
			return nil, fmt.Errorf("onnx: builder: graph input %q is already defined by %s", vi.GetName(), what)
		}
		defined[vi.GetName()] = "a graph input"
	}
	inputs := append([]*ValueInfoProto{}, b.inputs...)
	for _, tp := range b.inits {
		what, dup := defined[tp.GetName()]
		switch {
		case dup && what == "a graph input":
			// An initializer may also be listed as an input (a default the caller may override).
			defined[tp.GetName()] = "an initializer"
		case dup:
			return nil, fmt.Errorf("onnx: builder: initializer %q is already defined by %s", tp.GetName(), what)
		default:
			defined[tp.GetName()] = "an initializer"
			if ir < 4 {
				inputs = append(inputs, initializerInput(tp))
			}
		}
	}
	nodeNames := map[string]bool{}
	for _, n := range b.nodes {
		desc := NodeDesc(n)
		if n.GetOpType() == "" {
			return nil, fmt.Errorf("onnx: builder: %s has no op type", desc)
		}
		if nodeNames[n.GetName()] {
			return nil, fmt.Errorf("onnx: builder: %s: node name given twice", desc)
		}
		nodeNames[n.GetName()] = true
		if !imported[n.GetDomain()] {
			return nil, fmt.Errorf("onnx: builder: %s: domain %q is not imported (call Opset)", desc, n.GetDomain())
		}
		attrNames := map[string]bool{}
		for _, a := range n.GetAttribute() {
			if a.GetName() == "" {
				return nil, fmt.Errorf("onnx: builder: %s: an attribute has no name", desc)
			}
			if a.GetType() == AttributeProto_TENSOR && a.GetT() == nil {
				return nil, fmt.Errorf("onnx: builder: %s: attribute %q: no tensor (AttrTensor was given a nil or inconsistent tensor)", desc, a.GetName())
			}
			if attrNames[a.GetName()] {
				return nil, fmt.Errorf("onnx: builder: %s: attribute %q given twice", desc, a.GetName())
			}
			attrNames[a.GetName()] = true
		}
		for _, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if _, ok := defined[in]; !ok {
				return nil, fmt.Errorf("onnx: builder: %s: input %q is not defined by a graph input, an initializer or an earlier node", desc, in)
			}
		}
		for _, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			if what, dup := defined[out]; dup {
				return nil, fmt.Errorf("onnx: builder: %s: output %q is already defined by %s", desc, out, what)
			}
			defined[out] = desc
		}
	}
	seenOut := map[string]bool{}
	for _, vi := range b.outputs {
		if _, ok := defined[vi.GetName()]; !ok {
			return nil, fmt.Errorf("onnx: builder: graph output %q is not defined by any input, initializer or node", vi.GetName())
		}
		if seenOut[vi.GetName()] {
			return nil, fmt.Errorf("onnx: builder: graph output %q is declared twice", vi.GetName())
		}
		seenOut[vi.GetName()] = true
	}

	m := &ModelProto{
		IrVersion:    proto.Int64(ir),
		ProducerName: proto.String(ProducerName),
		OpsetImport:  []*OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(b.opset)}},
		Graph: &GraphProto{
			Name:        proto.String(b.name),
			Node:        b.nodes,
			Initializer: b.inits,
			Input:       inputs,
			Output:      b.outputs,
		},
		MetadataProps: b.meta,
	}
	if b.doc != "" {
		m.DocString = proto.String(b.doc)
	}
	m.OpsetImport = append(m.OpsetImport, b.domains...)
	return proto.Clone(m).(*ModelProto), nil
}

// initializerInput declares an initializer as a graph input of its own type and shape.
func initializerInput(tp *TensorProto) *ValueInfoProto {
	dims := make([]Dim, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		dims[i] = Fixed(d)
	}
	tt := &TypeProto_Tensor{ElemType: proto.Int32(tp.GetDataType()), Shape: shapeProto(dims)}
	return &ValueInfoProto{Name: proto.String(tp.GetName()), Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: tt}}}
}

// String summarises the builder's graph for debugging: one line per node.
func (b *Builder) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "graph %q (opset %d): %d inputs, %d initializers, %d outputs\n", b.name, b.opset, len(b.inputs), len(b.inits), len(b.outputs))
	for _, n := range b.nodes {
		fmt.Fprintf(&s, "  %s: %v -> %v\n", NodeDesc(n), n.GetInput(), n.GetOutput())
	}
	return s.String()
}
