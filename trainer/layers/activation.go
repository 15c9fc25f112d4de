package layers

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU is max(x, 0), element-wise (ONNX Relu).
func ReLU(x *G.Node) (*G.Node, error) { return LeakyReLU(x, 0) }

// LeakyReLU is x for x > 0 and alpha·x otherwise, element-wise (ONNX LeakyRelu; alpha 0 is
// Relu). alpha must be in [0, 1). Its gradient is taken at x = 0 as alpha's side.
func LeakyReLU(x *G.Node, alpha float64) (*G.Node, error) {
	if !(alpha >= 0 && alpha < 1) {
		return nil, fmt.Errorf("layers: LeakyReLU alpha = %v, want 0 <= alpha < 1", alpha)
	}
	return G.ApplyOp(leakyOp{alpha: alpha, shape: x.Shape().Clone()}, x)
}

// leakyOp is LeakyReLU; leakyGrad (grad = false) its gradient from the output y and dy:
// dx = dy where y > 0, alpha·dy elsewhere (for alpha >= 0, y > 0 exactly where x > 0).
type leakyOp struct {
	alpha float64
	shape tensor.Shape
	grad  bool
}

func (op leakyOp) String() string {
	if op.grad {
		return fmt.Sprintf("LeakyReLUGrad{%g %v}", op.alpha, op.shape)
	}
	return fmt.Sprintf("LeakyReLU{%g %v}", op.alpha, op.shape)
}

func (op leakyOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}

func (op leakyOp) Type() hm.Type {
	t := G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')}
	if op.grad {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}

func (op leakyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	for i := range op.Arity() {
		if err := checkShape(op, in, i, op.shape); err != nil {
			return nil, err
		}
	}
	return op.shape.Clone(), nil
}

func (op leakyOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("layers: %v: %d inputs, want %d", op, len(in), op.Arity())
	}
	x, _, err := valueData(op, in[0], op.shape)
	if err != nil {
		return nil, err
	}
	var dy any
	if op.grad {
		if dy, _, err = valueData(op, in[1], op.shape); err != nil {
			return nil, err
		}
	}
	switch x := x.(type) {
	case []float32:
		return dense(leaky(x, dy, float32(op.alpha), op.grad), op.shape), nil
	default:
		return dense(leaky(x.([]float64), dy, op.alpha, op.grad), op.shape), nil
	}
}

func leaky[F float](x []F, dyAny any, alpha F, grad bool) []F {
	out := make([]F, len(x))
	if grad {
		dy, ok := dyAny.([]F)
		if !ok {
			panic("layers: leaky: mixed dtypes") // Do checked the shapes; Gorgonia unifies dtypes
		}
		dy = dy[:len(x)]
		for i, y := range x {
			// branch-free: the signs of activations are random, and a mispredicted branch
			// per element cost more than the arithmetic
			out[i] = dy[i] * (alpha + (1-alpha)*F(b2i(y > 0)))
		}
		return out
	}
	for i, v := range x {
		out[i] = max(v, 0) + alpha*min(v, 0)
	}
	return out
}

// b2i is 1 for true and 0 for false (compiled to SETcc, not a branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

func (op leakyOp) ReturnsPtr() bool      { return false }
func (op leakyOp) CallsExtern() bool     { return false }
func (op leakyOp) OverwritesInput() int  { return -1 }
func (op leakyOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op leakyOp) Hashcode() uint32      { return hashString(op.String()) }

func (op leakyOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = !op.grad
	}
	return out
}

func (op leakyOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("layers: %v is not differentiable", op)
	}
	g := op
	g.grad = true
	d, err := G.ApplyOp(g, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
