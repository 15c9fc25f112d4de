package layers

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SigmoidBCESum is the binary cross-entropy of sigmoid(logits) against targets in [0, 1],
// summed over every element (nats), computed from the logits without forming the
// probabilities:
//
//	loss = Σ max(l, 0) - l·t + log(1 + exp(-|l|))
//
// which is finite for every finite l (Gorgonia's BinaryXent clamps with an epsilon that is 1
// in float32). Its gradient with respect to the logits is sigmoid(l) - t; the targets are
// constants (no gradient). The sum is accumulated in float64. The result is a scalar.
func SigmoidBCESum(logits, targets *G.Node) (*G.Node, error) {
	if !logits.Shape().Eq(targets.Shape()) {
		return nil, fmt.Errorf("layers: SigmoidBCESum: logits %v and targets %v differ in shape", logits.Shape(), targets.Shape())
	}
	return G.ApplyOp(bceOp{shape: logits.Shape().Clone()}, logits, targets)
}

// bceOp is SigmoidBCESum; with grad it is its gradient (logits, targets, scalar dy) ->
// dy·(sigmoid(l) - t).
type bceOp struct {
	shape tensor.Shape
	grad  bool
}

func (op bceOp) String() string {
	if op.grad {
		return fmt.Sprintf("SigmoidBCESumGrad{%v}", op.shape)
	}
	return fmt.Sprintf("SigmoidBCESum{%v}", op.shape)
}

func (op bceOp) Arity() int {
	if op.grad {
		return 3
	}
	return 2
}

func (op bceOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: len(op.shape), Of: a}
	if op.grad {
		return hm.NewFnType(t, t, a, t)
	}
	return hm.NewFnType(t, t, a)
}

func (op bceOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	for i := range 2 {
		if err := checkShape(op, in, i, op.shape); err != nil {
			return nil, err
		}
	}
	if op.grad {
		return op.shape.Clone(), nil
	}
	return tensor.ScalarShape(), nil
}

func (op bceOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("layers: %v: %d inputs, want %d", op, len(in), op.Arity())
	}
	l, dt, err := valueData(op, in[0], op.shape)
	if err != nil {
		return nil, err
	}
	t, dt2, err := valueData(op, in[1], op.shape)
	if err != nil {
		return nil, err
	}
	if dt != dt2 {
		return nil, fmt.Errorf("layers: %v: mixed dtypes %v and %v", op, dt, dt2)
	}
	if op.grad {
		dy, err := scalarValue(op, in[2])
		if err != nil {
			return nil, err
		}
		switch l := l.(type) {
		case []float32:
			return dense(bceGrad(l, t.([]float32), dy), op.shape), nil
		default:
			return dense(bceGrad(l.([]float64), t.([]float64), dy), op.shape), nil
		}
	}
	switch l := l.(type) {
	case []float32:
		v := G.F32(float32(bceSum(l, t.([]float32))))
		return &v, nil
	default:
		v := G.F64(bceSum(l.([]float64), t.([]float64)))
		return &v, nil
	}
}

func bceSum[F float](l, t []F) float64 {
	var s float64
	for i, v := range l {
		x := float64(v)
		s += max(x, 0) - x*float64(t[i]) + math.Log1p(math.Exp(-math.Abs(x)))
	}
	return s
}

func bceGrad[F float](l, t []F, dy float64) []F {
	out := make([]F, len(l))
	for i, v := range l {
		x := float64(v)
		var sig float64
		if x >= 0 {
			sig = 1 / (1 + math.Exp(-x))
		} else {
			e := math.Exp(x)
			sig = e / (1 + e)
		}
		out[i] = F(dy * (sig - float64(t[i])))
	}
	return out
}

func (op bceOp) ReturnsPtr() bool      { return false }
func (op bceOp) CallsExtern() bool     { return false }
func (op bceOp) OverwritesInput() int  { return -1 }
func (op bceOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op bceOp) Hashcode() uint32      { return hashString(op.String()) }

func (op bceOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if !op.grad && n > 0 {
		out[0] = true
	}
	return out
}

func (op bceOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.grad {
		return nil, fmt.Errorf("layers: %v is not differentiable", op)
	}
	d, err := G.ApplyOp(bceOp{shape: op.shape, grad: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d, nil}, nil
}
