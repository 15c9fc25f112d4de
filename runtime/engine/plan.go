package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/ops"
	"github.com/gendl/gendl/runtime/tensor"
)

// Options configure planning.
type Options struct {
	// Registry supplies the ops; nil means ops.Default().
	Registry *ops.Registry
	// Limits bounds tensors read from the model; zero means onnx.DefaultLimits.
	Limits onnx.Limits
	// BaseDir is where external data may be read from; LoadFile sets it to the model's
	// directory. Empty refuses external data.
	BaseDir string
}

// ValueInfo describes a graph input or output: its name, element type and shape. Dims that are
// symbolic or unknown are -1, with the symbol (if any) in DimNames.
type ValueInfo struct {
	Name     string
	DType    tensor.DType
	Shape    []int
	DimNames []string
	// HasShape is false when the graph declares no shape at all (any rank accepted).
	HasShape bool
}

func (v ValueInfo) String() string {
	if !v.HasShape {
		return fmt.Sprintf("%s: %v[?]", v.Name, v.DType)
	}
	parts := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		switch {
		case d >= 0:
			parts[i] = fmt.Sprint(d)
		case v.DimNames[i] != "":
			parts[i] = v.DimNames[i]
		default:
			parts[i] = "?"
		}
	}
	return fmt.Sprintf("%s: %v[%s]", v.Name, v.DType, strings.Join(parts, " "))
}

type step struct {
	op   ops.Op
	desc string // `node "x" (Conv)`
	in   []int  // value index per input slot, -1 for absent
	out  []int  // value index per output slot, -1 for absent
}

// Plan is a model checked and ordered for execution. It is immutable and safe to share between
// goroutines; each goroutine runs it through its own Session.
type Plan struct {
	Model   *onnx.ModelProto
	Opset   int64
	Inputs  []ValueInfo // graph inputs that must be fed (initializers excluded)
	Outputs []ValueInfo // graph outputs

	names     []string       // value index -> name
	index     map[string]int // name -> value index
	consts    []*tensor.Tensor
	types     []ops.Type // what planning inferred about each value
	producer  []int      // value index -> step index, -1 for inputs and constants
	steps     []step
	feedable  map[string]int // graph inputs (incl. overridable initializers) -> value index
	inputDecl map[int]ValueInfo
}

// UnsupportedError lists every op of a model that the registry lacks.
type UnsupportedError struct {
	Ops []string // `GridSample (node "g3")`
}

func (e *UnsupportedError) Error() string {
	return "unsupported ONNX ops: " + strings.Join(e.Ops, ", ")
}

// LoadFile decodes and plans the model at path; external data resolves in its directory.
func LoadFile(path string, opt Options) (*Plan, error) {
	m, err := onnx.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Dir(path)
	}
	return New(m, opt)
}

// New plans a decoded model: it checks opsets, resolves initializers and Constant nodes,
// constructs every op (validating attributes), orders the nodes topologically and rejects
// cycles, missing inputs and unsupported ops (all of them listed at once).
func New(m *onnx.ModelProto, opt Options) (*Plan, error) {
	if opt.Registry == nil {
		opt.Registry = ops.Default()
	}
	if opt.Limits.MaxElements == 0 {
		opt.Limits = onnx.DefaultLimits
	}
	g := m.GetGraph()
	if g == nil {
		return nil, errors.New("engine: model has no graph")
	}
	p := &Plan{Model: m, index: map[string]int{}, feedable: map[string]int{}, inputDecl: map[int]ValueInfo{}}
	p.Opset = onnx.OpsetVersion(m, "")
	if p.Opset == 0 {
		if len(m.GetOpsetImport()) == 0 && m.GetIrVersion() < 3 {
			p.Opset = 1
		} else {
			return nil, errors.New("engine: model imports no version of the default ONNX opset")
		}
	}
	if p.Opset < 7 || p.Opset > 25 {
		return nil, fmt.Errorf("engine: model uses ONNX opset %d; gendl supports opsets 7 to 25", p.Opset)
	}

	newValue := func(name string) int {
		p.index[name] = len(p.names)
		p.names = append(p.names, name)
		p.consts = append(p.consts, nil)
		p.types = append(p.types, ops.Unknown)
		p.producer = append(p.producer, -1)
		return len(p.names) - 1
	}

	// Initializers.
	inits := map[string]bool{}
	for _, tp := range g.GetInitializer() {
		name := tp.GetName()
		if name == "" {
			return nil, errors.New("engine: an initializer has no name")
		}
		if inits[name] {
			return nil, fmt.Errorf("engine: initializer %q is defined twice", name)
		}
		inits[name] = true
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{BaseDir: opt.BaseDir, Limits: opt.Limits})
		if err != nil {
			return nil, fmt.Errorf("engine: initializer: %w", err)
		}
		v := newValue(name)
		p.consts[v] = t
		p.types[v] = ops.TypeOf(t)
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("engine: sparse initializers are not supported")
	}

	// Graph inputs. Initializers listed as inputs (IR < 4 models such as the zoo's VGG19) are
	// not required but may be overridden by a feed.
	overridable := map[int]bool{}
	for _, vi := range g.GetInput() {
		name := vi.GetName()
		info, err := valueInfo(vi)
		if err != nil {
			return nil, fmt.Errorf("engine: graph input %q: %w", name, err)
		}
		if v, ok := p.index[name]; ok {
			if inits[name] && !overridable[v] {
				overridable[v] = true
				p.feedable[name] = v
				continue
			}
			return nil, fmt.Errorf("engine: graph input %q is declared twice", name)
		}
		v := newValue(name)
		p.feedable[name] = v
		p.inputDecl[v] = info
		p.types[v] = info.Type()
		p.Inputs = append(p.Inputs, info)
	}

	// Nodes: report every unsupported op at once.
	nodes := g.GetNode()
	if un := UnsupportedOps(m, opt.Registry); len(un) > 0 {
		return nil, &UnsupportedError{Ops: un}
	}

	// Define node outputs; each name once in the whole graph (SSA).
	for _, n := range nodes {
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if _, dup := p.index[o]; dup {
				return nil, fmt.Errorf("engine: %s: output %q is already defined by another node, an initializer or a graph input", onnx.NodeDesc(n), o)
			}
			newValue(o)
		}
	}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if _, ok := p.index[in]; !ok {
				return nil, fmt.Errorf("engine: %s: input %q is not produced by any node, initializer or graph input", onnx.NodeDesc(n), in)
			}
		}
	}

	// Topological order (Kahn), stable in file order.
	producerNode := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				producerNode[o] = i
			}
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if j, ok := producerNode[in]; ok && in != "" {
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	var order []int
	ready := []int{}
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		var stuck []string
		for i := range nodes {
			if indeg[i] > 0 {
				stuck = append(stuck, onnx.NodeDesc(nodes[i]))
			}
		}
		if len(stuck) > 5 {
			stuck = append(stuck[:5], "...")
		}
		return nil, fmt.Errorf("engine: the graph has a cycle through %s", strings.Join(stuck, ", "))
	}

	// Construct ops in order; fold Constant nodes into plan-time values.
	for _, i := range order {
		n := nodes[i]
		cons, _ := opt.Registry.Lookup(n.GetOpType())
		node := &ops.Node{Proto: n, Attrs: onnx.NewAttrs(n), Opset: p.Opset, Limits: opt.Limits}
		if err := node.Attrs.Err(); err != nil {
			return nil, err
		}
		st := step{desc: onnx.NodeDesc(n)}
		for _, in := range n.GetInput() {
			v := -1
			var c *tensor.Tensor
			if in != "" {
				v = p.index[in]
				if !overridable[v] {
					c = p.consts[v]
				}
			}
			st.in = append(st.in, v)
			node.Consts = append(node.Consts, c)
		}
		for _, o := range n.GetOutput() {
			v := -1
			if o != "" {
				v = p.index[o]
			}
			st.out = append(st.out, v)
		}
		op, err := cons(node)
		if err != nil {
			return nil, err
		}
		if err := node.Attrs.Err(); err != nil {
			return nil, err
		}
		st.op = op
		if err := p.infer(&st, op); err != nil {
			return nil, err
		}
		if n.GetOpType() == "Constant" && len(st.out) == 1 && st.out[0] >= 0 {
			t := &tensor.Tensor{}
			if err := runOp(op, &ops.Ctx{Threads: 1}, nil, []*tensor.Tensor{t}); err != nil {
				return nil, fmt.Errorf("engine: %s: %w", st.desc, err)
			}
			p.consts[st.out[0]] = t
			p.types[st.out[0]] = ops.TypeOf(t)
			continue
		}
		for _, o := range st.out {
			if o >= 0 {
				p.producer[o] = len(p.steps)
			}
		}
		p.steps = append(p.steps, st)
	}

	// Graph outputs.
	for _, vi := range g.GetOutput() {
		if _, ok := p.index[vi.GetName()]; !ok {
			return nil, fmt.Errorf("engine: graph output %q is not produced by any node, initializer or input", vi.GetName())
		}
		info, err := valueInfo(vi)
		if err != nil {
			return nil, fmt.Errorf("engine: graph output %q: %w", vi.GetName(), err)
		}
		p.Outputs = append(p.Outputs, info)
	}
	return p, nil
}

// infer runs the op's plan-time type inference, if it has one, and records the output types.
func (p *Plan) infer(st *step, op ops.Op) error {
	inf, ok := op.(ops.Inferer)
	if !ok {
		return nil
	}
	in := make([]ops.Type, len(st.in))
	for i, v := range st.in {
		if v >= 0 {
			in[i] = p.types[v]
		}
	}
	out, err := safeInfer(inf, in)
	if err != nil {
		return fmt.Errorf("engine: %s: %w", st.desc, err)
	}
	if len(out) != len(st.out) {
		return fmt.Errorf("engine: %s: internal error: inferred %d output types for %d outputs", st.desc, len(out), len(st.out))
	}
	for i, v := range st.out {
		if v >= 0 {
			p.types[v] = out[i]
		}
	}
	return nil
}

func safeInfer(inf ops.Inferer, in []ops.Type) (out []ops.Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in type inference (panic: %v); please report it with the model", r)
		}
	}()
	return inf.Infer(in)
}

// ValueType returns what planning inferred about a value (ops.Unknown parts where it could not).
func (p *Plan) ValueType(name string) (ops.Type, bool) {
	v, ok := p.index[name]
	if !ok {
		return ops.Unknown, false
	}
	return p.types[v], true
}

// Type returns the declared type of a graph input or output.
func (v ValueInfo) Type() ops.Type {
	t := ops.Type{DType: v.DType, Ranked: v.HasShape}
	if v.HasShape {
		t.Shape = append([]int{}, v.Shape...)
	}
	return t
}

// UnsupportedOps lists the nodes of m whose op the registry lacks (or that gendl cannot run:
// control flow, other domains), as `GridSample (node "g3")`. Nil registry means ops.Default().
func UnsupportedOps(m *onnx.ModelProto, r *ops.Registry) []string {
	if r == nil {
		r = ops.Default()
	}
	var out []string
	for _, n := range m.GetGraph().GetNode() {
		d := n.GetDomain()
		switch {
		case d != "" && d != "ai.onnx":
			out = append(out, fmt.Sprintf("%s.%s (%s)", d, n.GetOpType(), nodeName(n)))
		case n.GetOpType() == "If" || n.GetOpType() == "Loop" || n.GetOpType() == "Scan":
			out = append(out, fmt.Sprintf("%s (%s): control flow is not supported", n.GetOpType(), nodeName(n)))
		default:
			if _, ok := r.Lookup(n.GetOpType()); !ok {
				out = append(out, fmt.Sprintf("%s (%s)", n.GetOpType(), nodeName(n)))
			}
		}
	}
	return out
}

func nodeName(n *onnx.NodeProto) string {
	name := n.GetName()
	if name == "" && len(n.GetOutput()) > 0 {
		name = n.GetOutput()[0]
	}
	return fmt.Sprintf("node %q", name)
}

// valueInfo converts a ValueInfoProto of tensor type.
func valueInfo(vi *onnx.ValueInfoProto) (ValueInfo, error) {
	info := ValueInfo{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		if vi.GetType() == nil {
			return info, nil // untyped: accept anything
		}
		return info, errors.New("only tensor types are supported (not sequences, maps or optionals)")
	}
	info.DType = tensor.DType(tt.GetElemType())
	if info.DType == tensor.Float16 {
		// float16 data is widened to float32 when read (onnx.ToTensor), so that is what
		// gets fed and what flows through the graph.
		info.DType = tensor.Float32
	}
	if tt.GetShape() == nil {
		return info, nil
	}
	info.HasShape = true
	for _, d := range tt.GetShape().GetDim() {
		if _, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue); ok {
			if d.GetDimValue() < 0 {
				return info, fmt.Errorf("negative dimension %d", d.GetDimValue())
			}
			info.Shape = append(info.Shape, int(d.GetDimValue()))
			info.DimNames = append(info.DimNames, "")
		} else {
			info.Shape = append(info.Shape, -1)
			info.DimNames = append(info.DimNames, d.GetDimParam())
		}
	}
	return info, nil
}

// ValueNames returns the name of every value of the graph (inputs, initializers, node
// outputs) in definition order; any of them can be requested from Session.Run.
func (p *Plan) ValueNames() []string { return append([]string{}, p.names...) }

// NumNodes returns the number of nodes that run (Constant nodes are folded at plan time).
func (p *Plan) NumNodes() int { return len(p.steps) }
