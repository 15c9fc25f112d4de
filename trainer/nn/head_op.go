package nn

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/kernels"
)

// headWork is the dense softmax head's buffers, shared by headOp and headGradOp.
type headWork[F float] struct {
	T, B, H, V int
	// r0 is the first row of h the head reads: (T-1)·B for "next" (the last step), 0 for
	// "shifted" (every step).
	r0 int
	// y are the targets (the Net's buffer), one per row the head reads, -1 for padding.
	y []int32

	probs []F // softmax probabilities, [N, V], N = len(y)
	dl    []F // ∂loss/∂logits, [N, V]
	grad  *tensor.Dense
	ones  []F
}

func newHeadWork[F float](T, B, H, V int, y []int32, shifted bool) *headWork[F] {
	w := &headWork[F]{T: T, B: B, H: H, V: V, y: y, r0: (T - 1) * B}
	if shifted {
		w.r0 = 0
	}
	N := len(y)
	w.probs, w.dl = make([]F, N*V), make([]F, N*V)
	w.grad = tensor.New(tensor.WithShape(w.gradLen()), tensor.WithBacking(make([]F, w.gradLen())))
	w.ones = ones[F](N)
	return w
}

// gradParts are the shapes of the packed gradient: dh [T·B, H], dWd [V, H], dbd [V, 1].
func (w *headWork[F]) gradParts() [][]int {
	return [][]int{{w.T * w.B, w.H}, {w.V, w.H}, {w.V, 1}}
}

func (w *headWork[F]) gradLen() int { return w.T*w.B*w.H + w.V*w.H + w.V }

// forward computes the probabilities softmax(h_r·Wdᵀ + bd) of the rows r the head reads and
// returns the summed cross-entropy -Σ log p[r, y_r] in nats over the rows with a target.
// The sum and the normaliser are float64.
func (w *headWork[F]) forward(h, Wd, bd []F) float64 {
	N, H, V := len(w.y), w.H, w.V
	hs, p := h[w.r0*H:(w.r0+N)*H], w.probs
	for r := range N {
		copy(p[r*V:(r+1)*V], bd)
	}
	gemm(false, true, N, V, H, 1, hs, H, Wd, H, 1, p, V) // logits [N, V]
	var sum float64
	for r, y := range w.y {
		row := p[r*V : (r+1)*V]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var ly F
		if y >= 0 {
			ly = row[y]
		}
		z := expShifted(row, m)
		inv := 1 / z
		for v := range row {
			row[v] = F(float64(row[v]) * inv)
		}
		if y >= 0 {
			sum += math.Log(z) - float64(ly-m)
		}
	}
	return sum
}

// expShifted sets row[v] = exp(row[v] - m) for m >= every row[v], and returns the sum of the
// results in float64. float32 goes through the AVX2 sigmoid: with s = sigmoid(x), x <= 0,
// exp(x) = s/(1-s), where 1-s in [1/2, 1) is exact to half an ulp, so the result is within
// a few ulp (sigmoid's 2 ulp and two roundings); float64 uses math.Exp.
func expShifted[F float](row []F, m F) float64 {
	var z float64
	switch r := any(row).(type) {
	case []float32:
		m32 := float32(m)
		for v := range r {
			r[v] -= m32
		}
		kernels.SigmoidF32(r, r)
		for v, s := range r {
			e := s / (1 - s)
			r[v] = e
			z += float64(e)
		}
	case []float64:
		m64 := float64(m)
		for v, l := range r {
			e := math.Exp(l - m64)
			r[v] = e
			z += e
		}
	}
	return z
}

// backward computes, for the loss g·sum, dl = g·(p - onehot(y)) (zero rows for padding),
// dWd = dlᵀ·h, dbd = Σ_rows dl and dh = dl·Wd on the rows the head reads (zero elsewhere),
// into the packed gradient.
func (w *headWork[F]) backward(h, Wd []F, g F) {
	N, H, V := len(w.y), w.H, w.V
	hs := h[w.r0*H : (w.r0+N)*H]
	for r, y := range w.y {
		d, p := w.dl[r*V:(r+1)*V], w.probs[r*V:(r+1)*V]
		if y < 0 {
			clear(d)
			continue
		}
		for v := range d {
			d[v] = g * p[v]
		}
		d[y] -= g
	}
	out := w.grad.Data().([]F)
	dh, out := out[:w.T*w.B*H], out[w.T*w.B*H:]
	dWd, dbd := out[:V*H], out[V*H:]
	gemm(true, false, V, H, N, 1, w.dl, V, hs, H, 0, dWd, H)
	colSums(dbd, w.dl, w.ones, N, V)
	clear(dh[:w.r0*H])
	gemm(false, false, N, H, V, 1, w.dl, V, Wd, H, 0, dh[w.r0*H:], H)
}

// headOp is the dense head and the summed softmax cross-entropy: inputs h [T·B, H] (the top
// layer's output), Wd [V, H], bd [V, 1]; output the scalar loss sum in nats.
type headOp[F float] struct{ w *headWork[F] }

func (op headOp[F]) wantShapes() [][]int {
	w := op.w
	return [][]int{{w.T * w.B, w.H}, {w.V, w.H}, {w.V, 1}}
}

func (op headOp[F]) Arity() int    { return 3 }
func (op headOp[F]) Type() hm.Type { return matrixFn(3, 0) }

func (op headOp[F]) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, op.wantShapes()); err != nil {
		return nil, err
	}
	return tensor.ScalarShape(), nil
}

func (op headOp[F]) Do(in ...G.Value) (G.Value, error) {
	d, err := dataOf[F](op, in, op.wantShapes())
	if err != nil {
		return nil, err
	}
	sum := op.w.forward(d[0], d[1], d[2])
	if _, ok := any(F(0)).(float32); ok {
		return G.NewF32(float32(sum)), nil
	}
	return G.NewF64(sum), nil
}

func (op headOp[F]) ReturnsPtr() bool      { return false }
func (op headOp[F]) CallsExtern() bool     { return false }
func (op headOp[F]) OverwritesInput() int  { return -1 }
func (op headOp[F]) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op headOp[F]) Hashcode() uint32      { return hashOf(op) }
func (op headOp[F]) String() string {
	w := op.w
	return fmt.Sprintf("SoftmaxXentHead{T=%d, B=%d, H=%d, V=%d, rows=%d:%d}", w.T, w.B, w.H, w.V, w.r0, w.r0+len(w.y))
}

func (op headOp[F]) DiffWRT(n int) []bool { return []bool{true, true, true} }

// SymDiff: one headGradOp node computes dh, dWd and dbd; partOp nodes split them.
func (op headOp[F]) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	packed, err := G.ApplyOp(headGradOp[F](op), in[0], in[1], out, grad)
	if err != nil {
		return nil, err
	}
	return parts(packed, "head", op.w.gradParts())
}

// headGradOp is headOp's gradient: inputs h, Wd, headOp's output (the sum; an input so that
// the op runs after headOp, whose probabilities it reads from the workspace) and the scalar
// ∂loss/∂sum; output dh | dWd | dbd packed in one vector.
type headGradOp[F float] struct{ w *headWork[F] }

func (op headGradOp[F]) wantShapes() [][]int {
	w := op.w
	return [][]int{{w.T * w.B, w.H}, {w.V, w.H}, nil, nil}
}

func (op headGradOp[F]) Arity() int { return 4 }

func (op headGradOp[F]) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, a, a, G.TensorType{Dims: 1, Of: a})
}

func (op headGradOp[F]) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, op.wantShapes()); err != nil {
		return nil, err
	}
	return tensor.Shape{op.w.gradLen()}, nil
}

func (op headGradOp[F]) Do(in ...G.Value) (G.Value, error) {
	d, err := dataOf[F](op, in, op.wantShapes())
	if err != nil {
		return nil, err
	}
	op.w.backward(d[0], d[1], d[3][0])
	return op.w.grad, nil
}

func (op headGradOp[F]) ReturnsPtr() bool      { return false }
func (op headGradOp[F]) CallsExtern() bool     { return false }
func (op headGradOp[F]) OverwritesInput() int  { return -1 }
func (op headGradOp[F]) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op headGradOp[F]) Hashcode() uint32      { return hashOf(op) }
func (op headGradOp[F]) String() string        { return "Grad" + headOp[F](op).String() }

func (op headGradOp[F]) DiffWRT(n int) []bool { return make([]bool, n) }
func (op headGradOp[F]) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
}
