package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
)

// The fused ops below hold whole LSTM layers and the softmax cross-entropy head, so that a
// training step is a handful of Gorgonia nodes instead of tens of thousands, every matrix
// product is one call of gendl's SGEMM and the gates use its float32 activations. Rows are
// batch-major and time-major: row t·B+n of a [T·B, ·] matrix is sequence n at step t, so
// the products over all steps at once (input projection, dR, dW, dX, the head) are single
// GEMMs and only R·h_{t-1} and its gradient go step by step.
//
// Gorgonia ops return one value. lstmGradOp and headGradOp return their gradients packed in
// one vector; partOp nodes take them apart (views, no copies).
//
// A forward op and its gradient op share a workspace (lstmWork, headWork): the forward op
// keeps the activated gates, cell states and probabilities there for the gradient op, which
// takes the forward output as an input so that it always runs after it. Outputs are
// workspace buffers re-used by every run: only these ops read them (none of Gorgonia's
// in-place ops sees them), and a Net is not safe for concurrent use anyway.

// The gate blocks are i, o, f, c̃ (ONNX order), so the three sigmoid gates are one
// contiguous 3H block of a row. The ops rely on it; this does not compile otherwise (the
// index is 0 only for GateI, GateO, GateF, GateC = 0, 1, 2, 3):
var _ = [1]int{}[charlstm.GateI*1000+charlstm.GateO*100+charlstm.GateF*10+charlstm.GateC-123]

// lstmWork is one LSTM layer's buffers, shared by its forward and gradient op.
type lstmWork[F float] struct {
	layer       int
	T, B, H, in int
	// idx are the first layer's input characters (the Net's index buffer, time-major, -1
	// for padding); nil above the first layer.
	idx []int32

	bias  []F // Wb + Rb, [4H]
	wT    []F // W transposed, [in, 4H] (above the first layer: dW transposed in backward)
	rT    []F // R transposed, [H, 4H] (dR transposed in backward)
	gates []F // activated gates i, o, f, c̃, [T·B, 4H]
	c, tc []F // cell state c_t and tanh(c_t), [T·B, H]
	h     *tensor.Dense

	dG        []F // gradient of the gate pre-activations, [T·B, 4H]
	dhRec, dc []F // gradients carried to the previous step, [B, H]
	zeros     []F // [H]
	dWt       []F // first layer: dW transposed, [V, 4H]
	grad      *tensor.Dense
	ones      []F
}

func newLSTMWork[F float](layer, T, B, H, in int, idx []int32) *lstmWork[F] {
	w := &lstmWork[F]{layer: layer, T: T, B: B, H: H, in: in, idx: idx}
	N, G4 := T*B, 4*H
	w.bias = make([]F, G4)
	w.gates = make([]F, N*G4)
	w.c, w.tc = make([]F, N*H), make([]F, N*H)
	w.h = tensor.New(tensor.WithShape(N, H), tensor.WithBacking(make([]F, N*H)))
	w.dG = make([]F, N*G4)
	w.dhRec, w.dc, w.zeros = make([]F, B*H), make([]F, B*H), make([]F, H)
	w.wT, w.rT = make([]F, in*G4), make([]F, H*G4)
	if layer == 0 {
		w.dWt = make([]F, in*G4)
	}
	w.grad = tensor.New(tensor.WithShape(w.gradLen()), tensor.WithBacking(make([]F, w.gradLen())))
	w.ones = ones[F](N)
	return w
}

// gradParts are the shapes of the packed gradient: dW [4H, in], dR [4H, H], dB [8H, 1] and,
// above the first layer, dX [T·B, in].
func (w *lstmWork[F]) gradParts() [][]int {
	p := [][]int{{4 * w.H, w.in}, {4 * w.H, w.H}, {8 * w.H, 1}}
	if w.layer > 0 {
		p = append(p, []int{w.T * w.B, w.in})
	}
	return p
}

func (w *lstmWork[F]) gradLen() int {
	n := 0
	for _, s := range w.gradParts() {
		n += s[0] * s[1]
	}
	return n
}

// forward runs the layer over all steps from h_{-1} = c_{-1} = 0:
//
//	gates_t [B, 4H] = x_t·Wᵀ + h_{t-1}·Rᵀ + Wb + Rb      (first layer: x_t·Wᵀ = rows of Wᵀ)
//	i, o, f = sigmoid(...), c̃ = tanh(...)
//	c_t = f⊙c_{t-1} + i⊙c̃,  h_t = o⊙tanh(c_t)
//
// W [4H, in], R [4H, H], bias [8H] (ONNX layout), x [T·B, in] above the first layer. Each
// step's gates are filled, multiplied into and activated while they are in cache; Rᵀ is
// transposed once so that the per-step products read it unpacked-friendly (row-major B).
func (w *lstmWork[F]) forward(W, R, bias, x []F) {
	T, B, H, in := w.T, w.B, w.H, w.in
	N, G4 := T*B, 4*H
	for j := range G4 {
		w.bias[j] = bias[j] + bias[G4+j]
	}
	transpose(w.rT, R, G4, H) // [H, 4H]
	gates := w.gates
	if w.layer == 0 {
		transpose(w.wT, W, G4, in) // [V, 4H]
	} else {
		for r := range N {
			copy(gates[r*G4:(r+1)*G4], w.bias)
		}
		gemm(false, true, N, G4, in, 1, x, in, W, in, 1, gates, G4) // += X·Wᵀ, all steps
	}
	h := w.h.Data().([]F)
	for t := range T {
		g := gates[t*B*G4 : (t+1)*B*G4]
		if w.layer == 0 {
			// one-hot input: x_t·Wᵀ is the row of Wᵀ at the character (zero for padding)
			for n, ix := range w.idx[t*B : (t+1)*B] {
				row := g[n*G4 : (n+1)*G4]
				if ix >= 0 {
					add(row, w.bias, w.wT[int(ix)*G4:(int(ix)+1)*G4])
				} else {
					copy(row, w.bias)
				}
			}
		}
		if t > 0 {
			gemm(false, false, B, G4, H, 1, h[(t-1)*B*H:t*B*H], H, w.rT, G4, 1, g, G4) // += h_{t-1}·Rᵀ
		}
		splitRows(B, func(lo, hi int) {
			for n := lo; n < hi; n++ {
				r := t*B + n
				row := g[n*G4 : (n+1)*G4]
				sigmoid(row[:3*H])
				tanh(row[3*H:], row[3*H:])
				c, tc := w.c[r*H:(r+1)*H], w.tc[r*H:(r+1)*H]
				i, o, f, cc := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:]
				if t == 0 {
					mul(c, i, cc)
				} else {
					cellState(c, f, w.c[(r-B)*H:(r-B+1)*H], i, cc)
				}
				tanh(tc, c)
				mul(h[r*H:(r+1)*H], o, tc)
			}
		})
	}
}

// cellState sets c = f⊙cp + i⊙cc.
func cellState[F float](c, f, cp, i, cc []F) {
	f, cp, i, cc = f[:len(c)], cp[:len(c)], i[:len(c)], cc[:len(c)]
	for j := range c {
		c[j] = f[j]*cp[j] + i[j]*cc[j]
	}
}

// backward computes the gradients of the loss with respect to W, R, the bias and x from dh
// = ∂loss/∂h_t [T·B, H], by backpropagation through time over forward's buffers (h is the
// forward output), into the packed gradient.
func (w *lstmWork[F]) backward(W, R, x, h, dh []F) {
	T, B, H, in := w.T, w.B, w.H, w.in
	N, G4 := T*B, 4*H
	dG := w.dG
	clear(w.dhRec)
	clear(w.dc)
	if w.layer == 0 {
		clear(w.dWt)
	}
	for t := T - 1; t >= 0; t-- {
		splitRows(B, func(lo, hi int) {
			for n := lo; n < hi; n++ {
				r := t*B + n
				cp := w.zeros // c_{-1} = 0
				if t > 0 {
					cp = w.c[(r-B)*H : (r-B+1)*H]
				}
				cellGrad(dG[r*G4:(r+1)*G4], w.gates[r*G4:(r+1)*G4], w.tc[r*H:(r+1)*H], cp,
					dh[r*H:(r+1)*H], w.dhRec[n*H:(n+1)*H], w.dc[n*H:(n+1)*H])
			}
		})
		dGt := dG[t*B*G4 : (t+1)*B*G4]
		if w.layer == 0 {
			// dWᵀ[x, :] += dG[row, :] per input character (the lookup's scatter-add), while
			// the step's rows are in cache
			for n, ix := range w.idx[t*B : (t+1)*B] {
				if ix >= 0 {
					addTo(w.dWt[int(ix)*G4:(int(ix)+1)*G4], dGt[n*G4:(n+1)*G4])
				}
			}
		}
		if t > 0 { // ∂loss/∂h_{t-1} through the recurrence: dG_t·R
			gemm(false, false, B, H, G4, 1, dGt, G4, R, H, 0, w.dhRec, H)
		}
	}
	out := w.grad.Data().([]F)
	dW, out := out[:G4*in], out[G4*in:]
	dR, out := out[:G4*H], out[G4*H:]
	dB, dX := out[:2*G4], out[2*G4:]
	// dR = Σ_{t>=1} dG_tᵀ·h_{t-1}, one product over all steps, computed as its transpose
	// h_{0..T-2}ᵀ·dG_{1..T-1} (the transposed operand is then h, a quarter of dG's size)
	if T > 1 {
		gemm(true, false, H, G4, (T-1)*B, 1, h[:(T-1)*B*H], H, dG[B*G4:], G4, 0, w.rT, G4)
		transpose(dR, w.rT, H, G4)
	} else {
		clear(dR)
	}
	// dWb = dRb = Σ_rows dG
	colSums(dB[:G4], dG, w.ones, N, G4)
	copy(dB[G4:], dB[:G4])
	if w.layer == 0 {
		transpose(dW, w.dWt, in, G4)
		return
	}
	gemm(true, false, in, G4, N, 1, x, in, dG, G4, 0, w.wT, G4) // dWᵀ = Xᵀ·dG
	transpose(dW, w.wT, in, G4)
	gemm(false, false, N, in, G4, 1, dG, G4, W, in, 0, dX, in) // dX = dG·W
}

// cellGrad computes one row's gate gradients d [4H] (pre-activation, blocks i, o, f, c̃)
// from the activated gates g [4H], tanh(c_t) tc, c_{t-1} cp (zeros at t = 0), ∂loss/∂h_t
// from above dh and from step t+1 rec, and the cell gradient dc carried from step t+1, which
// it replaces by the one carried to step t-1.
func cellGrad[F float](d, g, tc, cp, dh, rec, dc []F) {
	H := len(tc)
	i, o, f, cc := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	di, do, df, dcc := d[:H], d[H:2*H], d[2*H:3*H], d[3*H:4*H]
	cp, dh, rec, dc = cp[:H], dh[:H], rec[:H], dc[:H]
	for j := range tc {
		dhj := dh[j] + rec[j]
		tcj, ij, oj, fj, ccj := tc[j], i[j], o[j], f[j], cc[j]
		dcj := dc[j] + dhj*oj*(1-tcj*tcj)
		do[j] = dhj * tcj * oj * (1 - oj)
		di[j] = dcj * ccj * ij * (1 - ij)
		df[j] = dcj * cp[j] * fj * (1 - fj)
		dcc[j] = dcj * ij * (1 - ccj*ccj)
		dc[j] = dcj * fj
	}
}

// lstmOp is one LSTM layer over the whole window: inputs W [4H, in], R [4H, H], B [8H, 1]
// and, above the first layer, x [T·B, in]; output h [T·B, H] (row t·B+n).
type lstmOp[F float] struct{ w *lstmWork[F] }

func (op lstmOp[F]) Arity() int {
	if op.w.layer == 0 {
		return 3
	}
	return 4
}

func (op lstmOp[F]) Type() hm.Type { return matrixFn(op.Arity(), 2) }

func (op lstmOp[F]) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	w := op.w
	want := [][]int{{4 * w.H, w.in}, {4 * w.H, w.H}, {8 * w.H, 1}, {w.T * w.B, w.in}}[:op.Arity()]
	if err := checkShapes(op, in, want); err != nil {
		return nil, err
	}
	return tensor.Shape{w.T * w.B, w.H}, nil
}

func (op lstmOp[F]) Do(in ...G.Value) (G.Value, error) {
	w := op.w
	want := [][]int{{4 * w.H, w.in}, {4 * w.H, w.H}, {8 * w.H, 1}, {w.T * w.B, w.in}}[:op.Arity()]
	d, err := dataOf[F](op, in, want)
	if err != nil {
		return nil, err
	}
	var x []F
	if w.layer > 0 {
		x = d[3]
	}
	w.forward(d[0], d[1], d[2], x)
	return w.h, nil
}

func (op lstmOp[F]) ReturnsPtr() bool      { return false }
func (op lstmOp[F]) CallsExtern() bool     { return false }
func (op lstmOp[F]) OverwritesInput() int  { return -1 }
func (op lstmOp[F]) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op lstmOp[F]) Hashcode() uint32      { return hashOf(op) }
func (op lstmOp[F]) String() string {
	w := op.w
	return fmt.Sprintf("LSTM{layer=%d, T=%d, B=%d, H=%d, in=%d}", w.layer, w.T, w.B, w.H, w.in)
}

func (op lstmOp[F]) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff: one lstmGradOp node computes all gradients; partOp nodes split them.
func (op lstmOp[F]) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	args := G.Nodes{in[0], in[1]}
	if op.w.layer > 0 {
		args = append(args, in[3])
	}
	args = append(args, out, grad)
	packed, err := G.ApplyOp(lstmGradOp[F](op), args...)
	if err != nil {
		return nil, err
	}
	return parts(packed, fmt.Sprintf("lstm%d", op.w.layer), op.w.gradParts())
}

// lstmGradOp is lstmOp's gradient: inputs W, R, (x above the first layer), the forward
// output h and ∂loss/∂h; output dW | dR | dB | (dX) packed in one vector.
type lstmGradOp[F float] struct{ w *lstmWork[F] }

func (op lstmGradOp[F]) Arity() int {
	if op.w.layer == 0 {
		return 4
	}
	return 5
}

func (op lstmGradOp[F]) Type() hm.Type { return matrixFn(op.Arity(), 1) }

func (op lstmGradOp[F]) wantShapes() [][]int {
	w := op.w
	s := [][]int{{4 * w.H, w.in}, {4 * w.H, w.H}}
	if w.layer > 0 {
		s = append(s, []int{w.T * w.B, w.in})
	}
	return append(s, []int{w.T * w.B, w.H}, []int{w.T * w.B, w.H})
}

func (op lstmGradOp[F]) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, op.wantShapes()); err != nil {
		return nil, err
	}
	return tensor.Shape{op.w.gradLen()}, nil
}

func (op lstmGradOp[F]) Do(in ...G.Value) (G.Value, error) {
	d, err := dataOf[F](op, in, op.wantShapes())
	if err != nil {
		return nil, err
	}
	if op.w.layer == 0 {
		op.w.backward(d[0], d[1], nil, d[2], d[3])
	} else {
		op.w.backward(d[0], d[1], d[2], d[3], d[4])
	}
	return op.w.grad, nil
}

func (op lstmGradOp[F]) ReturnsPtr() bool      { return false }
func (op lstmGradOp[F]) CallsExtern() bool     { return false }
func (op lstmGradOp[F]) OverwritesInput() int  { return -1 }
func (op lstmGradOp[F]) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op lstmGradOp[F]) Hashcode() uint32      { return hashOf(op) }
func (op lstmGradOp[F]) String() string        { return "Grad" + lstmOp[F](op).String() }

func (op lstmGradOp[F]) DiffWRT(n int) []bool { return make([]bool, n) }
func (op lstmGradOp[F]) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
}

// partOp is the [rows, cols] matrix at offset off of a packed gradient vector: a view, not a
// copy.
type partOp struct {
	name       string
	off        int
	rows, cols int
	total      int
}

func (op partOp) Arity() int { return 1 }

func (op partOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: 2, Of: a})
}

func (op partOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if s, ok := in[0].(tensor.Shape); !ok || len(s) != 1 || s[0] != op.total {
		return nil, fmt.Errorf("nn: %v: input shape %v, want [%d]", op, in[0], op.total)
	}
	return tensor.Shape{op.rows, op.cols}, nil
}

func (op partOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 1", op, len(in))
	}
	d, ok := in[0].(*tensor.Dense)
	if !ok || d.Shape().TotalSize() != op.total {
		return nil, fmt.Errorf("nn: %v: input %T %v, want a vector of %d", op, in[0], shapeOf(in[0]), op.total)
	}
	n := op.rows * op.cols
	switch s := d.Data().(type) {
	case []float32:
		return tensor.New(tensor.WithShape(op.rows, op.cols), tensor.WithBacking(s[op.off:op.off+n:op.off+n])), nil
	case []float64:
		return tensor.New(tensor.WithShape(op.rows, op.cols), tensor.WithBacking(s[op.off:op.off+n:op.off+n])), nil
	}
	return nil, fmt.Errorf("nn: %v: dtype %v, want float32 or float64", op, d.Dtype())
}

func (op partOp) ReturnsPtr() bool      { return false }
func (op partOp) CallsExtern() bool     { return false }
func (op partOp) OverwritesInput() int  { return -1 }
func (op partOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op partOp) Hashcode() uint32      { return hashOf(op) }
func (op partOp) String() string {
	return fmt.Sprintf("Part{%s [%d:%d] as [%d %d]}", op.name, op.off, op.off+op.rows*op.cols, op.rows, op.cols)
}

func (op partOp) DiffWRT(n int) []bool { return []bool{false} }
func (op partOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
}

// parts splits a packed vector node into matrices of the given shapes, in order.
func parts(packed *G.Node, name string, shapes [][]int) (G.Nodes, error) {
	total := 0
	for _, s := range shapes {
		total += s[0] * s[1]
	}
	var out G.Nodes
	off := 0
	for _, s := range shapes {
		p, err := G.ApplyOp(partOp{name: name, off: off, rows: s[0], cols: s[1], total: total}, packed)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		off += s[0] * s[1]
	}
	return out, nil
}

// matrixFn is the type of an op from n matrices of one dtype to a tensor of outDims
// dimensions (0: a scalar) of that dtype.
func matrixFn(n, outDims int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, n+1)
	for range n {
		ts = append(ts, G.TensorType{Dims: 2, Of: a})
	}
	if outDims == 0 {
		ts = append(ts, a)
	} else {
		ts = append(ts, G.TensorType{Dims: outDims, Of: a})
	}
	return hm.NewFnType(ts...)
}

// checkShapes checks InferShape's inputs against want (nil entries: any shape).
func checkShapes(op fmt.Stringer, in []G.DimSizer, want [][]int) error {
	if len(in) != len(want) {
		return fmt.Errorf("nn: %v: %d inputs, want %d", op, len(in), len(want))
	}
	for k, w := range want {
		if w == nil {
			continue
		}
		s, ok := in[k].(tensor.Shape)
		if !ok || !s.Eq(tensor.Shape(w)) {
			return fmt.Errorf("nn: %v: input %d has shape %v, want %v", op, k, in[k], w)
		}
	}
	return nil
}

// dataOf returns the data of op's inputs, checking their count, type, dtype and shapes (nil
// entries of want: a scalar, returned as a one-element slice).
func dataOf[F float](op fmt.Stringer, in []G.Value, want [][]int) ([][]F, error) {
	if len(in) != len(want) {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(in), len(want))
	}
	out := make([][]F, len(in))
	for k, v := range in {
		if want[k] == nil {
			s, err := scalar(v)
			if err != nil {
				return nil, fmt.Errorf("nn: %v: input %d: %w", op, k, err)
			}
			out[k] = []F{F(s)}
			continue
		}
		d, err := matrixIn(op, in[k:k+1], want[k][0], want[k][1])
		if err != nil {
			return nil, err
		}
		s, ok := d.Data().([]F)
		if !ok {
			return nil, fmt.Errorf("nn: %v: input %d has dtype %v, want %T", op, k, d.Dtype(), F(0))
		}
		out[k] = s
	}
	return out, nil
}

func shapeOf(v G.Value) any {
	if v == nil {
		return nil
	}
	return v.Shape()
}
