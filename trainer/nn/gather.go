package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gatherCols is the first layer's input product W·x_t for one-hot x_t, computed as a lookup:
// out[:, k] = W[:, idx[k]], and a zero column where idx[k] < 0 (padding, an all-zero one-hot
// column). It is exactly the product (each output is one weight times 1, plus zeros), at
// O(4H·B) instead of 2·4H·V·B.
//
//	W:   [rows, cols] = [4H, V]
//	out: [rows, B]    B = len(idx)
//
// The indices are not a graph input: the op reads them from idx, a window of the Net's index
// buffer that Run fills before each run. Gorgonia v0.9.18 has a differentiable ByIndices,
// but along the last axis tensor's SelectByIndices(B) copy or add one element per call
// (4H·B calls a step), its indices must be an Int node, and it has no zero column for
// padding (-1); this op is two plain loops.
//
// step makes each time step's op distinct: Gorgonia merges nodes whose op hash and children
// are equal, and every step gathers from the same W.
type gatherCols struct {
	idx        []int32
	rows, cols int
	step       int
}

func (op gatherCols) Arity() int { return 1 }

// Type is a → a: a matrix of the same dtype.
func (op gatherCols) Type() hm.Type {
	t := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}

func (op gatherCols) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.rows || s[1] != op.cols {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d %d]", op, in[0], op.rows, op.cols)
	}
	return tensor.Shape{op.rows, len(op.idx)}, nil
}

func (op gatherCols) Do(in ...G.Value) (G.Value, error) {
	w, err := matrixIn(op, in, op.rows, op.cols)
	if err != nil {
		return nil, err
	}
	B := len(op.idx)
	out := tensor.New(tensor.Of(w.Dtype()), tensor.WithShape(op.rows, B))
	switch src := w.Data().(type) {
	case []float32:
		gather(out.Data().([]float32), src, op.idx, op.cols)
	case []float64:
		gather(out.Data().([]float64), src, op.idx, op.cols)
	default:
		return nil, fmt.Errorf("nn: %v: dtype %v, want float32 or float64", op, w.Dtype())
	}
	return out, nil
}

// gather sets dst[j, k] = src[j, idx[k]] (0 for idx[k] < 0); dst is [rows, len(idx)], src
// [rows, cols], both row-major.
func gather[F float32 | float64](dst, src []F, idx []int32, cols int) {
	B := len(idx)
	for j := range len(dst) / B {
		row, out := src[j*cols:(j+1)*cols], dst[j*B:(j+1)*B]
		for k, i := range idx {
			if i >= 0 {
				out[k] = row[i]
			}
		}
	}
}

func (op gatherCols) ReturnsPtr() bool      { return false }
func (op gatherCols) CallsExtern() bool     { return false }
func (op gatherCols) OverwritesInput() int  { return -1 }
func (op gatherCols) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op gatherCols) Hashcode() uint32      { return hashOf(op) }
func (op gatherCols) String() string {
	return fmt.Sprintf("GatherCols{step=%d, [%d %d] -> [%d %d]}", op.step, op.rows, op.cols, op.rows, len(op.idx))
}

func (op gatherCols) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff: dW = scatter-add of the output gradient's columns into the indexed columns.
func (op gatherCols) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(scatterCols{op}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// scatterCols is gatherCols' gradient: dW[:, idx[k]] += g[:, k] for idx[k] >= 0, dW zero
// elsewhere.
//
//	g:  [rows, B]
//	dW: [rows, cols]
type scatterCols struct{ gatherCols }

func (op scatterCols) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.rows || s[1] != len(op.idx) {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d %d]", op, in[0], op.rows, len(op.idx))
	}
	return tensor.Shape{op.rows, op.cols}, nil
}

func (op scatterCols) Do(in ...G.Value) (G.Value, error) {
	g, err := matrixIn(op, in, op.rows, len(op.idx))
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(op.rows, op.cols))
	switch src := g.Data().(type) {
	case []float32:
		scatter(out.Data().([]float32), src, op.idx, op.cols)
	case []float64:
		scatter(out.Data().([]float64), src, op.idx, op.cols)
	default:
		return nil, fmt.Errorf("nn: %v: dtype %v, want float32 or float64", op, g.Dtype())
	}
	return out, nil
}

// scatter adds src[j, k] to dst[j, idx[k]] for idx[k] >= 0; dst is [rows, cols], src
// [rows, len(idx)], both row-major.
func scatter[F float32 | float64](dst, src []F, idx []int32, cols int) {
	B := len(idx)
	for j := range len(src) / B {
		row, g := dst[j*cols:(j+1)*cols], src[j*B:(j+1)*B]
		for k, i := range idx {
			if i >= 0 {
				row[i] += g[k]
			}
		}
	}
}

func (op scatterCols) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op scatterCols) Hashcode() uint32      { return hashOf(op) }
func (op scatterCols) String() string {
	return fmt.Sprintf("ScatterCols{step=%d, [%d %d] -> [%d %d]}", op.step, op.rows, len(op.idx), op.rows, op.cols)
}

// scatterCols is not differentiable (the net needs first derivatives only).
func (op scatterCols) DiffWRT(n int) []bool { return []bool{false} }
func (op scatterCols) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
}

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

// matrixIn returns the single input of op as a dense contiguous [rows, cols] tensor.
func matrixIn(op fmt.Stringer, in []G.Value, rows, cols int) (*tensor.Dense, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 1", op, len(in))
	}
	d, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: %v: input is %T, want *tensor.Dense", op, in[0])
	}
	if s := d.Shape(); len(s) != 2 || s[0] != rows || s[1] != cols {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d %d]", op, s, rows, cols)
	}
	if d.RequiresIterator() { // a strided view: copy it
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: %v: cannot materialise a %T view", op, d.Materialize())
		}
		d = m
	}
	return d, nil
}
