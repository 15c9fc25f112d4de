package ops

import (
	"fmt"
	"sort"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Node is what an op constructor receives: the node, its attributes and what the planner knows
// about its inputs before anything runs.
type Node struct {
	Proto *onnx.NodeProto
	Attrs *onnx.Attrs
	// Opset is the version of the default ("ai.onnx") operator set the model imports. Ops whose
	// semantics changed between versions switch on it (for example Softmax's axis at 13).
	Opset int64
	// Consts holds, per input, the value when it is known at plan time (an initializer that is
	// not a graph input, or the output of a Constant node), else nil. Ops may use it to
	// validate early or precompute; they must still accept the value at run time.
	Consts []*tensor.Tensor
	// Limits bounds tensors an op materialises from attributes (Constant's value).
	Limits onnx.Limits
}

// NumInputs is the number of input slots of the node (absent optional inputs included).
func (n *Node) NumInputs() int { return len(n.Proto.GetInput()) }

// NumOutputs is the number of output slots of the node.
func (n *Node) NumOutputs() int { return len(n.Proto.GetOutput()) }

// Errorf returns an error naming the node and its op.
func (n *Node) Errorf(format string, args ...any) error {
	return fmt.Errorf("onnx: %s: %s", onnx.NodeDesc(n.Proto), fmt.Sprintf(format, args...))
}

// CheckArity checks the number of input and output slots against the op's spec. The first
// minIn inputs are required: ONNX schemas list required inputs before optional ones, so an
// empty name (an absent input) among them is an error here, at plan time, and ops may rely on
// in[i] != nil for i < minIn when they run.
func (n *Node) CheckArity(minIn, maxIn, minOut, maxOut int) error {
	for i, name := range n.Proto.GetInput() {
		if i < minIn && name == "" {
			return n.Errorf("input %d is required but the node leaves it empty", i)
		}
	}
	if k := n.NumInputs(); k < minIn || k > maxIn {
		if minIn == maxIn {
			return n.Errorf("want %d inputs, got %d", minIn, k)
		}
		return n.Errorf("want %d to %d inputs, got %d", minIn, maxIn, k)
	}
	if k := n.NumOutputs(); k < minOut || k > maxOut {
		if minOut == maxOut {
			return n.Errorf("want %d outputs, got %d", minOut, k)
		}
		return n.Errorf("want %d to %d outputs, got %d", minOut, maxOut, k)
	}
	return nil
}

// Op is a planned node, immutable after construction and safe to share between goroutines:
// everything that changes while running lives in the Ctx and the tensors.
type Op interface {
	// Run computes the outputs from the inputs.
	//
	// in has one entry per input slot; an absent optional input is nil. out has one entry per
	// output slot; an output nobody consumes or requests may be nil (ops that can skip work
	// for it do). Each non-nil out[i] is owned by the session and reused between runs: the
	// op gives it its type and shape with Reset (which keeps the backing array when it fits)
	// and writes every element. Run must not keep references to in or out after returning.
	//
	// Errors describe what is wrong with the inputs (dtype, shape, values); the engine adds
	// the node's name and op.
	Run(ctx *Ctx, in, out []*tensor.Tensor) error
}

// Ctx is the per-session, per-node state of a run: thread budget and scratch buffers that
// survive between runs so that a steady-state run allocates nothing.
type Ctx struct {
	// Threads is the number of goroutines the op may use (at least 1).
	Threads int
	f32     [][]float32
}

// Float32s returns scratch buffer i with n elements. Its contents are unspecified.
func (c *Ctx) Float32s(i, n int) []float32 {
	for len(c.f32) <= i {
		c.f32 = append(c.f32, nil)
	}
	if cap(c.f32[i]) < n {
		c.f32[i] = make([]float32, n)
	}
	return c.f32[i][:n]
}

// Constructor plans one node: it reads and validates attributes and returns the Op.
type Constructor func(n *Node) (Op, error)

// Registry maps ONNX op types of the default domain to constructors.
type Registry struct {
	m map[string]Constructor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Constructor{}} }

// Add registers a constructor for an op type, replacing any earlier one.
func (r *Registry) Add(opType string, c Constructor) { r.m[opType] = c }

// Lookup returns the constructor for an op type.
func (r *Registry) Lookup(opType string) (Constructor, bool) {
	c, ok := r.m[opType]
	return c, ok
}

// Names returns the registered op types, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Default returns a registry holding every op this package implements.
func Default() *Registry {
	r := NewRegistry()
	Register(r)
	return r
}
