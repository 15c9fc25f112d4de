package classifier

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxXentSum is the cross-entropy of softmax(logits) against target distributions (one-hot
// labels), summed over the batch (nats), computed from the logits with the log-sum-exp
// shift, so it is finite for every finite logit (Gorgonia's LogSumExp is broken, DESIGN.md):
//
//	loss = Σ_n [ logsumexp(l_n) - Σ_k t_nk·l_nk ]     (Σ_k t_nk = 1)
//
// Its gradient with respect to the logits is softmax(l) - t; the targets are constants. Sums
// are accumulated in float64. logits and targets are [B, K]; the result is a scalar.
func SoftmaxXentSum(logits, targets *G.Node) (*G.Node, error) {
	if !logits.Shape().Eq(targets.Shape()) || logits.Shape().Dims() != 2 {
		return nil, fmt.Errorf("classifier: SoftmaxXentSum: logits %v and targets %v: want the same [B, K]", logits.Shape(), targets.Shape())
	}
	return G.ApplyOp(xentOp{shape: logits.Shape().Clone()}, logits, targets)
}

// xentOp is SoftmaxXentSum; with grad, its gradient (logits, targets, scalar dy) ->
// dy·(softmax(l) - t).
type xentOp struct {
	shape tensor.Shape
	grad  bool
}

func (op xentOp) String() string {
	if op.grad {
		return fmt.Sprintf("SoftmaxXentSumGrad{%v}", op.shape)
	}
	return fmt.Sprintf("SoftmaxXentSum{%v}", op.shape)
}

func (op xentOp) Arity() int {
	if op.grad {
		return 3
	}
	return 2
}

func (op xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	if op.grad {
		return hm.NewFnType(t, t, a, t)
	}
	return hm.NewFnType(t, t, a)
}

func (op xentOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("classifier: %v: %d inputs", op, len(in))
	}
	for i := range 2 {
		s, ok := in[i].(tensor.Shape)
		if !ok || !s.Eq(op.shape) {
			return nil, fmt.Errorf("classifier: %v: input %d has shape %v, want %v", op, i, in[i], op.shape)
		}
	}
	if op.grad {
		return op.shape.Clone(), nil
	}
	return tensor.ScalarShape(), nil
}

func data(op xentOp, v G.Value) (any, error) {
	d, ok := v.(*tensor.Dense)
	if !ok || !d.Shape().Eq(op.shape) {
		return nil, fmt.Errorf("classifier: %v: input %T, want a dense %v tensor", op, v, op.shape)
	}
	if d.RequiresIterator() {
		if m, ok := d.Materialize().(*tensor.Dense); ok {
			d = m
		}
	}
	switch d.Data().(type) {
	case []float32, []float64:
		return d.Data(), nil
	}
	return nil, fmt.Errorf("classifier: %v: dtype %v, want float32 or float64", op, d.Dtype())
}

func (op xentOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("classifier: %v: %d inputs, want %d", op, len(in), op.Arity())
	}
	l, err := data(op, in[0])
	if err != nil {
		return nil, err
	}
	t, err := data(op, in[1])
	if err != nil {
		return nil, err
	}
	B, K := op.shape[0], op.shape[1]
	if op.grad {
		var dy float64
		switch s := in[2].(type) {
		case *G.F32:
			dy = float64(*s)
		case *G.F64:
			dy = float64(*s)
		default:
			return nil, fmt.Errorf("classifier: %v: gradient input is %T, want a scalar", op, in[2])
		}
		switch l := l.(type) {
		case []float32:
			tt, ok := t.([]float32)
			if !ok {
				return nil, fmt.Errorf("classifier: %v: mixed dtypes", op)
			}
			return tensor.New(tensor.WithShape(B, K), tensor.WithBacking(xentGrad(l, tt, B, K, dy))), nil
		default:
			tt, ok := t.([]float64)
			if !ok {
				return nil, fmt.Errorf("classifier: %v: mixed dtypes", op)
			}
			return tensor.New(tensor.WithShape(B, K), tensor.WithBacking(xentGrad(l.([]float64), tt, B, K, dy))), nil
		}
	}
	switch l := l.(type) {
	case []float32:
		tt, ok := t.([]float32)
		if !ok {
			return nil, fmt.Errorf("classifier: %v: mixed dtypes", op)
		}
		v := G.F32(float32(xentSum(l, tt, B, K)))
		return &v, nil
	default:
		tt, ok := t.([]float64)
		if !ok {
			return nil, fmt.Errorf("classifier: %v: mixed dtypes", op)
		}
		v := G.F64(xentSum(l.([]float64), tt, B, K))
		return &v, nil
	}
}

type float interface{ float32 | float64 }

// logSumExp returns max + log Σ exp(x - max) of a row.
func logSumExp[F float](row []F) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

func xentSum[F float](l, t []F, B, K int) float64 {
	var s float64
	for n := range B {
		row, tr := l[n*K:(n+1)*K], t[n*K:(n+1)*K]
		lse := logSumExp(row)
		for k, v := range row {
			s += float64(tr[k]) * (lse - float64(v))
		}
	}
	return s
}

func xentGrad[F float](l, t []F, B, K int, dy float64) []F {
	out := make([]F, len(l))
	for n := range B {
		row, tr := l[n*K:(n+1)*K], t[n*K:(n+1)*K]
		lse := logSumExp(row)
		for k, v := range row {
			out[n*K+k] = F(dy * (math.Exp(float64(v)-lse) - float64(tr[k])))
		}
	}
	return out
}

func (op xentOp) ReturnsPtr() bool      { return false }
func (op xentOp) CallsExtern() bool     { return false }
func (op xentOp) OverwritesInput() int  { return -1 }
func (op xentOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op xentOp) Hashcode() uint32 {
	h := fnv.New32a()
	h.Write([]byte(op.String()))
	return h.Sum32()
}

func (op xentOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if !op.grad && n > 0 {
		out[0] = true
	}
	return out
}

func (op xentOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("classifier: %v is not differentiable", op)
	}
	d, err := G.ApplyOp(xentOp{shape: op.shape, grad: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d, nil}, nil
}
