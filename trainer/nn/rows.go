package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rowBlock copies rows [lo, hi) of a [rows, cols] matrix into a new [hi-lo, cols] matrix.
// It replaces G.Slice along the first axis, which must not be used in these graphs:
// Gorgonia v0.9.18 hashes a slice's start, end and step truncated to a byte
// (sliceOp.WriteHash: byte(op.Start())), and the graph merges nodes with equal op hashes and
// equal children, so G.Slice(x, S(a, b)) and G.Slice(x, S(a+256, b+256)) become one node.
// With H = 128 the gate blocks S(256, 384) (f) and S(384, 512) (c̃) silently became the
// blocks S(0, 128) (i) and S(128, 256) (o), and for H a multiple of 64 the bias halves
// S(0, 4H) and S(4H, 8H) became one: the trained function was not the ONNX LSTM. rowBlock's
// hash holds its full bounds.
type rowBlock struct {
	lo, hi     int
	rows, cols int
}

func (op rowBlock) Arity() int { return 1 }

func (op rowBlock) Type() hm.Type {
	t := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}

func (op rowBlock) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.rows || s[1] != op.cols {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d %d]", op, in[0], op.rows, op.cols)
	}
	return tensor.Shape{op.hi - op.lo, op.cols}, nil
}

func (op rowBlock) Do(in ...G.Value) (G.Value, error) {
	x, err := matrixIn(op, in, op.rows, op.cols)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(op.hi-op.lo, op.cols))
	switch src := x.Data().(type) {
	case []float32:
		copy(out.Data().([]float32), src[op.lo*op.cols:op.hi*op.cols])
	case []float64:
		copy(out.Data().([]float64), src[op.lo*op.cols:op.hi*op.cols])
	default:
		return nil, fmt.Errorf("nn: %v: dtype %v, want float32 or float64", op, x.Dtype())
	}
	return out, nil
}

func (op rowBlock) ReturnsPtr() bool      { return false }
func (op rowBlock) CallsExtern() bool     { return false }
func (op rowBlock) OverwritesInput() int  { return -1 }
func (op rowBlock) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op rowBlock) Hashcode() uint32      { return hashOf(op) }
func (op rowBlock) String() string {
	return fmt.Sprintf("RowBlock{[%d:%d] of [%d %d]}", op.lo, op.hi, op.rows, op.cols)
}

func (op rowBlock) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff: the input's gradient is the output gradient in rows [lo, hi), zero elsewhere.
func (op rowBlock) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(rowBlockGrad{op}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// rowBlockGrad places a [hi-lo, cols] gradient into rows [lo, hi) of a zero [rows, cols].
type rowBlockGrad struct{ rowBlock }

func (op rowBlockGrad) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.hi-op.lo || s[1] != op.cols {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d %d]", op, in[0], op.hi-op.lo, op.cols)
	}
	return tensor.Shape{op.rows, op.cols}, nil
}

func (op rowBlockGrad) Do(in ...G.Value) (G.Value, error) {
	g, err := matrixIn(op, in, op.hi-op.lo, op.cols)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(op.rows, op.cols))
	switch src := g.Data().(type) {
	case []float32:
		copy(out.Data().([]float32)[op.lo*op.cols:op.hi*op.cols], src)
	case []float64:
		copy(out.Data().([]float64)[op.lo*op.cols:op.hi*op.cols], src)
	default:
		return nil, fmt.Errorf("nn: %v: dtype %v, want float32 or float64", op, g.Dtype())
	}
	return out, nil
}

func (op rowBlockGrad) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op rowBlockGrad) Hashcode() uint32      { return hashOf(op) }
func (op rowBlockGrad) String() string {
	return fmt.Sprintf("RowBlockGrad{[%d:%d] of [%d %d]}", op.lo, op.hi, op.rows, op.cols)
}

func (op rowBlockGrad) DiffWRT(n int) []bool { return []bool{false} }
func (op rowBlockGrad) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
}

// rows returns rows [lo, hi) of the [rows, cols] matrix x as a new node.
func rows(x *G.Node, lo, hi int) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || lo < 0 || hi > s[0] || lo >= hi {
		return nil, fmt.Errorf("nn: rows [%d:%d] of a %v node", lo, hi, s)
	}
	return G.ApplyOp(rowBlock{lo: lo, hi: hi, rows: s[0], cols: s[1]}, x)
}
