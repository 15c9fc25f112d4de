package grad

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Grad is the backward plan of a frozen graph: which nodes run forward to compute the values
// of, and which of them propagate gradients, in reverse order, from of to the graph inputs
// wrt. It is immutable and safe to share between goroutines; each goroutine runs it through
// its own Session.
type Grad struct {
	plan     *engine.Plan
	of, wrt  []int // value ids
	ofNames  []string
	wrtNames []string
	fwd      []int   // nodes to run forward, in execution order
	bwd      []bnode // nodes that propagate gradients, in reverse execution order
	carries  []bool  // value id -> carries a gradient (depends on wrt and is needed by of)
	isWrt    []int   // value id -> index in wrt, or -1
	nodes    []engine.Node
	ofIndex  map[string]int
	wrtIndex map[string]int
}

// bnode is one node of the backward pass.
type bnode struct {
	node engine.Node
	op   gradOp
	diff []bool // per input slot: the slot carries a gradient
}

// gradOp is the backward of one node. in and out are the forward values (out entries may be
// nil for outputs that were not computed); dOut holds the gradient of the loss with respect
// to each output, nil where it is zero (an output nothing downstream differentiates, or an
// output that is not float). dIn has a buffer of the input's shape for each input slot that
// carries a gradient, nil elsewhere: backward ADDS the gradient of that input into it (the
// session zeroes it before its first use in a pass, so contributions of several consumers
// accumulate). backward must not keep references to its arguments.
type gradOp interface {
	backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error
}

// Constructor builds the backward of a node. diff says which input slots need a gradient; a
// constructor returns an error (naming the node and the input) for a slot it cannot
// differentiate, and may read attributes from n.Proto and plan-time constants from p.
type Constructor func(n *engine.Node, p *engine.Plan, diff []bool) (gradOp, error)

// Registry maps ONNX op types to backward constructors.
type Registry struct{ m map[string]Constructor }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Constructor{}} }

// Add registers the backward of an op type, replacing any earlier one.
func (r *Registry) Add(opType string, c Constructor) { r.m[opType] = c }

// Lookup returns the backward constructor of an op type.
func (r *Registry) Lookup(opType string) (Constructor, bool) {
	c, ok := r.m[opType]
	return c, ok
}

// Names returns the op types with a backward, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Default returns a registry with every backward this package implements.
func Default() *Registry {
	r := NewRegistry()
	Register(r)
	return r
}

// Options configure New.
type Options struct {
	// Registry supplies the backward ops; nil means Default().
	Registry *Registry
}

// UnsupportedError lists every node on the path from wrt to of whose op has no backward.
type UnsupportedError struct {
	Ops []string // `GridSample (node "g3")`
}

func (e *UnsupportedError) Error() string {
	return "grad: no gradient for these ops on the path from the inputs to the differentiated values: " + strings.Join(e.Ops, ", ")
}

// New plans the gradients of the values named in of (graph outputs or any intermediate
// value) with respect to the graph inputs named in wrt. It checks the names, finds the nodes
// that lie on a path from wrt to of and builds their backward; every node on such a path
// whose op has no backward, or whose backward cannot differentiate an input the path goes
// through, is reported at once (an *UnsupportedError when only missing ops are at fault).
//
// Gradients flow through float values only: integer and bool values (Shape, ArgMax, Less,
// MaxPool's Indices...) and plan-time constants (initializers, folded Constants, weights)
// carry none.
func New(p *engine.Plan, of, wrt []string, opts ...Options) (*Grad, error) {
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	if opt.Registry == nil {
		opt.Registry = Default()
	}
	if len(of) == 0 {
		return nil, errors.New("grad: no values to differentiate (of is empty)")
	}
	if len(wrt) == 0 {
		return nil, errors.New("grad: no inputs to differentiate with respect to (wrt is empty)")
	}
	g := &Grad{plan: p, ofIndex: map[string]int{}, wrtIndex: map[string]int{}}
	nv := p.NumValues()
	g.isWrt = make([]int, nv)
	for i := range g.isWrt {
		g.isWrt[i] = -1
	}
	var inputNames []string
	for v := range nv {
		if p.IsInput(v) {
			inputNames = append(inputNames, fmt.Sprintf("%q", p.ValueName(v)))
		}
	}
	for _, name := range wrt {
		v, ok := p.ValueID(name)
		if !ok || !p.IsInput(v) {
			what := "the graph has no value of that name"
			if ok {
				what = "it is not a graph input that is fed (initializers and node outputs are not)"
			}
			return nil, fmt.Errorf("grad: wrt %q: %s; the graph inputs are %s", name, what, strings.Join(inputNames, ", "))
		}
		if _, dup := g.wrtIndex[name]; dup {
			return nil, fmt.Errorf("grad: wrt %q is listed twice", name)
		}
		if dt := p.ValueTypeOf(v).DType; dt != tensor.Float32 && dt != tensor.Undefined {
			return nil, fmt.Errorf("grad: wrt %q is %v; gradients are float32 only", name, dt)
		}
		g.wrtIndex[name] = len(g.wrt)
		g.isWrt[v] = len(g.wrt)
		g.wrt = append(g.wrt, v)
		g.wrtNames = append(g.wrtNames, name)
	}
	for _, name := range of {
		v, ok := p.ValueID(name)
		if !ok {
			return nil, fmt.Errorf("grad: of %q: the graph has no value of that name (%s)", name, someNames(p))
		}
		if _, dup := g.ofIndex[name]; dup {
			return nil, fmt.Errorf("grad: of %q is listed twice", name)
		}
		if dt := p.ValueTypeOf(v).DType; dt != tensor.Float32 && dt != tensor.Undefined {
			return nil, fmt.Errorf("grad: of %q is %v; gradients are float32 only", name, dt)
		}
		g.ofIndex[name] = len(g.of)
		g.of = append(g.of, v)
		g.ofNames = append(g.ofNames, name)
	}

	g.nodes = p.Nodes()
	g.fwd = p.NodesFor(g.of)

	// dep: the value depends on a wrt input through float values.
	dep := make([]bool, nv)
	for _, v := range g.wrt {
		dep[v] = true
	}
	for _, ni := range g.fwd {
		n := &g.nodes[ni]
		reached := false
		for _, v := range n.Inputs {
			if v >= 0 && dep[v] {
				reached = true
			}
		}
		if !reached {
			continue
		}
		for _, v := range n.Outputs {
			if v >= 0 && floatish(p.ValueTypeOf(v).DType) {
				dep[v] = true
			}
		}
	}
	for i, v := range g.of {
		if !dep[v] {
			return nil, fmt.Errorf("grad: of %q does not depend on any of the inputs %s (through float values)", g.ofNames[i], quoteAll(wrt))
		}
	}

	// need: the gradient of the value is needed (it lies on a path to of).
	g.carries = make([]bool, nv)
	for _, v := range g.of {
		g.carries[v] = true
	}
	var (
		unsupported []string
		problems    []string
	)
	for k := len(g.fwd) - 1; k >= 0; k-- {
		n := &g.nodes[g.fwd[k]]
		on := false
		for _, v := range n.Outputs {
			if v >= 0 && g.carries[v] && dep[v] {
				on = true
			}
		}
		if !on {
			continue
		}
		diff := make([]bool, len(n.Inputs))
		for i, v := range n.Inputs {
			if v >= 0 && dep[v] {
				diff[i] = true
				g.carries[v] = true
			}
		}
		for _, v := range append(append([]int{}, n.Inputs...), n.Outputs...) {
			if v >= 0 && dep[v] && p.ValueTypeOf(v).DType == tensor.Float64 {
				problems = append(problems, fmt.Sprintf("%s: value %q is float64; gradients are float32 only", n.Desc, p.ValueName(v)))
			}
		}
		cons, ok := opt.Registry.Lookup(n.OpType)
		if !ok || (n.Proto.GetDomain() != "" && n.Proto.GetDomain() != "ai.onnx") {
			unsupported = append(unsupported, fmt.Sprintf("%s (node %q)", n.OpType, nodeName(n)))
			continue
		}
		op, err := cons(n, p, diff)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		g.bwd = append(g.bwd, bnode{node: *n, op: op, diff: diff})
	}
	// Report in execution order.
	for i, j := 0, len(unsupported)-1; i < j; i, j = i+1, j-1 {
		unsupported[i], unsupported[j] = unsupported[j], unsupported[i]
	}
	for i, j := 0, len(problems)-1; i < j; i, j = i+1, j-1 {
		problems[i], problems[j] = problems[j], problems[i]
	}
	if len(problems) > 0 {
		msg := strings.Join(problems, "; ")
		if len(unsupported) > 0 {
			msg += "; " + (&UnsupportedError{Ops: unsupported}).Error()
		}
		return nil, errors.New(msg)
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedError{Ops: unsupported}
	}
	return g, nil
}

// floatish reports whether values of dtype dt can carry a gradient (Undefined: not known at
// plan time, so possibly).
func floatish(dt tensor.DType) bool {
	return dt == tensor.Float32 || dt == tensor.Float64 || dt == tensor.Undefined
}

func nodeName(n *engine.Node) string {
	name := n.Proto.GetName()
	if name == "" && len(n.Proto.GetOutput()) > 0 {
		name = n.Proto.GetOutput()[0]
	}
	return name
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// someNames lists the graph's node outputs for an error message (at most 20).
func someNames(p *engine.Plan) string {
	var names []string
	for v := range p.NumValues() {
		if p.Producer(v) >= 0 {
			names = append(names, fmt.Sprintf("%q", p.ValueName(v)))
		}
	}
	more := ""
	if len(names) > 20 {
		more = fmt.Sprintf(" and %d more", len(names)-20)
		names = names[:20]
	}
	if len(names) == 0 {
		return "the graph computes no values"
	}
	return "values computed by the graph: " + strings.Join(names, ", ") + more
}

// Of returns the names of the differentiated values, in the order given to New.
func (g *Grad) Of() []string { return append([]string{}, g.ofNames...) }

// Wrt returns the names of the inputs the gradients are taken with respect to.
func (g *Grad) Wrt() []string { return append([]string{}, g.wrtNames...) }

// Plan returns the plan g was built on.
func (g *Grad) Plan() *engine.Plan { return g.plan }

// NumBackwardNodes is the number of nodes the backward pass runs through.
func (g *Grad) NumBackwardNodes() int { return len(g.bwd) }

// nodeErrorf formats an error about node n for a constructor.
func nodeErrorf(n *engine.Node, format string, args ...any) error {
	return fmt.Errorf("grad: %s: %s", onnx.NodeDesc(n.Proto), fmt.Sprintf(format, args...))
}

// frozen returns an error for the first input slot in diff that the backward of n cannot
// differentiate (ok[i] false), naming it with names[i].
func frozen(n *engine.Node, diff []bool, names []string, ok ...bool) error {
	for i, d := range diff {
		if d && (i >= len(ok) || !ok[i]) {
			name := fmt.Sprintf("%d", i)
			if i < len(names) {
				name = fmt.Sprintf("%q", names[i])
			}
			return nodeErrorf(n, "no gradient with respect to input %s, which depends on the differentiated inputs (only %s is differentiable; weights are frozen)", name, okNames(names, ok))
		}
	}
	return nil
}

func okNames(names []string, ok []bool) string {
	var out []string
	for i, b := range ok {
		if b && i < len(names) {
			out = append(out, fmt.Sprintf("%q", names[i]))
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, " and ")
}
