package engine

import (
	"fmt"
	"sync"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/ops"
	"github.com/gendl/gendl/runtime/tensor"
)

// Introspection for code that works on a plan node by node, such as reverse-mode gradients
// (runtime/grad). Values are identified by an integer id in [0, NumValues): graph inputs,
// initializers, folded Constant outputs and node outputs, in definition order. Planned nodes
// are identified by their position in the execution order, which is topological.

// Node describes one planned node. Constant nodes are folded at plan time and do not appear.
type Node struct {
	Index  int             // position in the execution order
	Proto  *onnx.NodeProto // the node as decoded (op type, name, attributes)
	OpType string
	Desc   string // `node "x" (Conv)`, the prefix of the engine's errors about this node
	// Opset is the version of the default operator set the model imports; ops read their
	// attributes with the semantics of that version.
	Opset int64
	// Inputs and Outputs hold one value id per slot, -1 for an absent optional slot.
	Inputs, Outputs []int
}

// Nodes returns the planned nodes in execution order (a topological order). The slices are
// fresh copies.
func (p *Plan) Nodes() []Node {
	out := make([]Node, len(p.steps))
	nodes := p.Model.GetGraph().GetNode()
	for i, st := range p.steps {
		out[i] = Node{Index: i, Desc: st.desc, Opset: p.Opset,
			Inputs: append([]int{}, st.in...), Outputs: append([]int{}, st.out...)}
	}
	// Steps keep no pointer to their proto; match them by their first defined output, which
	// is unique in the graph (SSA) and present on every planned node.
	protoOf := make(map[string]*onnx.NodeProto, len(nodes))
	for _, n := range nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				protoOf[o] = n
			}
		}
	}
	for i := range out {
		for _, v := range out[i].Outputs {
			if v >= 0 {
				out[i].Proto = protoOf[p.names[v]]
				break
			}
		}
		out[i].OpType = out[i].Proto.GetOpType()
	}
	return out
}

// NumValues is the number of values of the graph; value ids are in [0, NumValues).
func (p *Plan) NumValues() int { return len(p.names) }

// ValueID returns the id of the named value.
func (p *Plan) ValueID(name string) (int, bool) {
	v, ok := p.index[name]
	return v, ok
}

// ValueName returns the name of value id.
func (p *Plan) ValueName(id int) string { return p.names[id] }

// ValueTypeOf returns what planning inferred about value id (ops.Unknown parts where it
// could not).
func (p *Plan) ValueTypeOf(id int) ops.Type { return p.types[id] }

// Constant returns the plan-time value of id (an initializer or a folded Constant) or nil if
// the value is computed or fed. Initializers that are also graph inputs (old model-zoo
// files) are returned too: a feed may override them, which the caller must allow for. The
// tensor belongs to the plan and must not be modified.
func (p *Plan) Constant(id int) *tensor.Tensor { return p.consts[id] }

// Producer returns the index of the node that computes value id, or -1 for graph inputs,
// initializers and folded constants.
func (p *Plan) Producer(id int) int { return p.producer[id] }

// IsInput reports whether value id is a graph input that must be fed (initializers listed as
// inputs excluded).
func (p *Plan) IsInput(id int) bool {
	_, ok := p.inputDecl[id]
	return ok
}

// NodesFor returns, in execution order, the indices of the nodes needed to compute the given
// values; Session.RunNodes runs them.
func (p *Plan) NodesFor(ids []int) []int {
	names := make([]string, len(ids))
	for i, v := range ids {
		names[i] = p.names[v]
	}
	steps, _ := p.stepsFor(names) // every id names a value: no error
	return steps
}

// RunNodes feeds the inputs and runs the given nodes (indices in execution order, as
// NodesFor returns them), leaving every value in env, indexed by value id: the plan's
// constants, the fed tensors and the outputs of the nodes that ran. env must have NumValues
// entries; entries of values that were not computed are nil.
//
// Nothing is copied: the node outputs are the session's own buffers, valid until the next
// run of the session, and must not be modified. This is how a caller keeps the intermediate
// values a backward pass needs. The feeds are checked as in Run.
func (s *Session) RunNodes(feeds map[string]*tensor.Tensor, nodes []int, env []*tensor.Tensor) error {
	p := s.plan
	if len(env) != len(p.names) {
		return fmt.Errorf("engine: RunNodes: env has %d entries, the plan has %d values", len(env), len(p.names))
	}
	for _, si := range nodes {
		if si < 0 || si >= len(p.steps) {
			return fmt.Errorf("engine: RunNodes: node index %d out of range [0, %d)", si, len(p.steps))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run(feeds, nodes, env)
}

// argBufs holds the argument slices of RunNodes between calls (ops may let them escape, so
// stack arrays would be allocated on every call).
var argBufs = sync.Pool{New: func() any { return new([2][]*tensor.Tensor) }}

// symbolic reports whether a graph input has named dimensions, which checkInput records.
func symbolic(in ValueInfo) bool {
	for i, d := range in.Shape {
		if d < 0 && in.DimNames[i] != "" {
			return true
		}
	}
	return false
}
