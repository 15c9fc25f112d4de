package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
)

// Shape of one parameter as the graph holds it. The bytes are those of the ONNX layout:
// W [1, 4H, in] is held as [4H, in], B [1, 8H] as [8H, 1], the head bias [V] as [V, 1].
type ParamShape struct {
	Name  string
	Shape []int
}

// ParamShapes returns the graph shapes of cfg's parameters in Net.Params order: per layer
// W, R, B, then the head's W and b.
func ParamShapes(cfg charlstm.Config) []ParamShape {
	V, H := cfg.VocabSize(), cfg.Hidden
	var ps []ParamShape
	for l := range cfg.Layers {
		in := H
		if l == 0 {
			in = V
		}
		ps = append(ps,
			ParamShape{fmt.Sprintf("lstm%d.W", l), []int{4 * H, in}},
			ParamShape{fmt.Sprintf("lstm%d.R", l), []int{4 * H, H}},
			ParamShape{fmt.Sprintf("lstm%d.B", l), []int{8 * H, 1}},
		)
	}
	return append(ps, ParamShape{"head.W", []int{V, H}}, ParamShape{"head.b", []int{V, 1}})
}

// ParamSlices returns the float32 data of p in ParamShapes order. The slices alias p.
func ParamSlices(p *charlstm.Params) [][]float32 {
	var out [][]float32
	for _, l := range p.Layers {
		out = append(out, l.W.F32(), l.R.F32(), l.B.F32())
	}
	return append(out, p.HeadW.F32(), p.HeadB.F32())
}

// DenseParams returns p's parameters as Gorgonia tensors in ParamShapes order, aliasing p's
// data: training them in place trains p.
func DenseParams(cfg charlstm.Config, p *charlstm.Params) []*tensor.Dense {
	var out []*tensor.Dense
	for i, s := range ParamShapes(cfg) {
		out = append(out, tensor.New(tensor.WithShape(s.Shape...), tensor.WithBacking(ParamSlices(p)[i])))
	}
	return out
}

// Options select what a Net computes.
type Options struct {
	// Batch is the number of sequences per run (columns of every input).
	Batch int
	// Gradients adds the gradients of Loss with respect to every parameter.
	Gradients bool
	// Probs adds the softmax probabilities of the head.
	Probs bool
}

// Net is an unrolled char-LSTM graph, built once; each run re-binds the inputs (Let) and
// resets the machine.
type Net struct {
	Cfg charlstm.Config
	Opt Options

	g  *G.ExprGraph
	vm G.VM

	// Y holds the one-hot targets as columns: [V, Batch] for "next", [V, T·Batch] (column
	// t·Batch+n) for "shifted". An all-zero column (padding) adds nothing to the loss.
	Y *G.Node
	// InvN is the scalar 1/(number of real targets), so that Loss is a mean.
	InvN *G.Node
	// Params are the parameter nodes in ParamShapes order.
	Params []*G.Node
	// Grads are the gradient nodes of Loss, one per parameter (Options.Gradients).
	Grads []*G.Node
	// Sum is the total cross-entropy in nats over the batch; Loss = Sum·InvN.
	Sum, Loss *G.Node
	// Probs are the head's probabilities, laid out as Y (Options.Probs).
	Probs *G.Node

	// xidx holds the input characters of a run, time-major (xidx[t·Batch+k], -1 for
	// padding); the first layer's lookups (gatherCols) read their step's window of it.
	xidx []int32
	// ybuf holds the one-hot targets, re-used across runs.
	ybuf *tensor.Dense
	dt   tensor.Dtype
}

// New builds the graph of cfg for sequences of maxlen = cfg.MaxLen steps. params hold the
// parameter values in ParamShapes order and dtype dt (Float32 for training, Float64 for
// gradient checks); the graph aliases them, so updating them in place updates the model.
func New(cfg charlstm.Config, params []*tensor.Dense, opt Options) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	shapes := ParamShapes(cfg)
	if len(params) != len(shapes) {
		return nil, fmt.Errorf("nn: %d parameters, want %d", len(params), len(shapes))
	}
	if opt.Batch < 1 {
		return nil, fmt.Errorf("nn: batch = %d, want >= 1", opt.Batch)
	}
	dt := params[0].Dtype()
	for i, p := range params {
		if !p.Shape().Eq(tensor.Shape(shapes[i].Shape)) || p.Dtype() != dt {
			return nil, fmt.Errorf("nn: parameter %s: %v %v, want %v %v", shapes[i].Name, p.Dtype(), p.Shape(), dt, shapes[i].Shape)
		}
	}
	n := &Net{Cfg: cfg, Opt: opt, g: G.NewGraph(), dt: dt}
	if err := n.build(params); err != nil {
		return nil, fmt.Errorf("nn: building the graph: %w", err)
	}
	if opt.Gradients {
		grads, err := G.Grad(n.Loss, n.Params...)
		if err != nil {
			return nil, fmt.Errorf("nn: gradients: %w", err)
		}
		n.Grads = grads
	}
	n.vm = G.NewTapeMachine(n.g)
	return n, nil
}

// build lays out the unrolled graph. Activations are column-major per batch: a hidden state
// is [H, B], so each gate is a contiguous row block of the fused [4H, B] pre-activation and
// the ONNX-layout weights multiply from the left without a transpose.
func (n *Net) build(params []*tensor.Dense) error {
	cfg, B, dt := n.Cfg, n.Opt.Batch, n.dt
	V, H, T := cfg.VocabSize(), cfg.Hidden, cfg.MaxLen
	shapes := ParamShapes(cfg)
	for i, p := range params {
		n.Params = append(n.Params, G.NewMatrix(n.g, dt, G.WithShape(shapes[i].Shape...), G.WithName(shapes[i].Name), G.WithValue(p)))
	}
	n.xidx = make([]int32, T*B)
	ny := B
	if cfg.Target == charlstm.TargetShifted {
		ny = T * B
	}
	n.ybuf = tensor.New(tensor.Of(dt), tensor.WithShape(V, ny))
	n.Y = G.NewMatrix(n.g, dt, G.WithShape(V, ny), G.WithName("y"), G.WithValue(n.ybuf))
	n.InvN = G.NewScalar(n.g, dt, G.WithName("invN"))
	if err := n.letScalar(1.0 / float64(B)); err != nil {
		return err
	}

	var seq []*G.Node // layer input per step above the first: [H, B]
	for l := range cfg.Layers {
		w, r, b := n.Params[3*l], n.Params[3*l+1], n.Params[3*l+2]
		// bias: Wb + Rb, [4H, 1]
		wb, err := rows(b, 0, 4*H) // not G.Slice: see rowBlock
		if err != nil {
			return err
		}
		rb, err := rows(b, 4*H, 8*H)
		if err != nil {
			return err
		}
		bias, err := G.Add(wb, rb)
		if err != nil {
			return err
		}
		var h, c *G.Node
		out := make([]*G.Node, T)
		for t := range T {
			// gates: [4H, B] = W·x_t + R·h_{t-1} + bias; blocks i, o, f, c. In the first
			// layer x_t is one-hot, so W·x_t is W's columns at the characters (gatherCols).
			var gates *G.Node
			var err error
			if l == 0 {
				gates, err = G.ApplyOp(gatherCols{idx: n.xidx[t*B : (t+1)*B], rows: 4 * H, cols: V, step: t}, w)
			} else {
				gates, err = G.Mul(w, seq[t])
			}
			if err != nil {
				return err
			}
			if h != nil {
				rh, err := G.Mul(r, h)
				if err != nil {
					return err
				}
				if gates, err = G.Add(gates, rh); err != nil {
					return err
				}
			}
			if gates, err = G.BroadcastAdd(gates, bias, nil, []byte{1}); err != nil {
				return err
			}
			act := make([]*G.Node, 4)
			for k := range 4 {
				blk, err := rows(gates, k*H, (k+1)*H) // not G.Slice: see rowBlock
				if err != nil {
					return err
				}
				if k == charlstm.GateC {
					act[k], err = G.Tanh(blk)
				} else {
					act[k], err = G.Sigmoid(blk)
				}
				if err != nil {
					return err
				}
			}
			i, o, f, cc := act[charlstm.GateI], act[charlstm.GateO], act[charlstm.GateF], act[charlstm.GateC]
			// c_t = f⊙c_{t-1} + i⊙c̃ ; h_t = o⊙tanh(c_t)   (c_{-1} = h_{-1} = 0)
			ic, err := G.HadamardProd(i, cc)
			if err != nil {
				return err
			}
			if c != nil {
				fc, err := G.HadamardProd(f, c)
				if err != nil {
					return err
				}
				if ic, err = G.Add(fc, ic); err != nil {
					return err
				}
			}
			c = ic
			tc, err := G.Tanh(c)
			if err != nil {
				return err
			}
			if h, err = G.HadamardProd(o, tc); err != nil {
				return err
			}
			out[t] = h
		}
		seq = out
	}

	// head: logits [V, cols] = Wd·h + bd
	hs := seq[T-1] // [H, B]
	if cfg.Target == charlstm.TargetShifted {
		var err error
		if hs, err = G.Concat(1, seq...); err != nil { // [H, T·B]
			return err
		}
	}
	wd, bd := n.Params[len(n.Params)-2], n.Params[len(n.Params)-1]
	logits, err := G.Mul(wd, hs)
	if err != nil {
		return err
	}
	if logits, err = G.BroadcastAdd(logits, bd, nil, []byte{1}); err != nil {
		return err
	}
	logp, err := G.LogSoftMax(logits, 0) // over the vocabulary (rows)
	if err != nil {
		return err
	}
	if n.Opt.Probs {
		if n.Probs, err = G.Exp(logp); err != nil {
			return err
		}
	}
	yl, err := G.HadamardProd(n.Y, logp)
	if err != nil {
		return err
	}
	s, err := G.Sum(yl)
	if err != nil {
		return err
	}
	if n.Sum, err = G.Neg(s); err != nil {
		return err
	}
	n.Loss, err = G.HadamardProd(n.Sum, n.InvN)
	return err
}

func (n *Net) letScalar(v float64) error {
	if n.dt == tensor.Float64 {
		return G.Let(n.InvN, v)
	}
	return G.Let(n.InvN, float32(v))
}

// Run binds a batch and runs the graph once: forward, and backward when the net has
// gradients. x holds T·Batch character indices time-major (x[t·Batch+k]); y the targets
// (Batch for "next", T·Batch for "shifted"); index -1 marks padding. It returns the mean
// loss in nats per target character.
func (n *Net) Run(x, y []int32) (float64, error) {
	T, B := n.Cfg.MaxLen, n.Opt.Batch
	if len(x) != T*B || len(y) != n.ybuf.Shape()[1] {
		return 0, fmt.Errorf("nn: batch of %d inputs and %d targets, want %d and %d", len(x), len(y), T*B, n.ybuf.Shape()[1])
	}
	V := n.Cfg.VocabSize()
	for k, v := range x {
		if v >= int32(V) {
			return 0, fmt.Errorf("nn: character index %d outside the vocabulary of %d", v, V)
		}
		n.xidx[k] = max(v, -1)
	}
	if err := oneHot(n.ybuf, y, V); err != nil {
		return 0, err
	}
	count := 0
	for _, v := range y {
		if v >= 0 {
			count++
		}
	}
	if count == 0 {
		return 0, fmt.Errorf("nn: batch has no targets")
	}
	if err := n.letScalar(1 / float64(count)); err != nil {
		return 0, err
	}
	defer n.vm.Reset() // stale values otherwise (DESIGN.md, Gorgonia traps)
	if err := n.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("nn: run: %w", err)
	}
	return scalar(n.Loss.Value())
}

// oneHot writes columns: buf[ids[k], k] = 1 for ids[k] >= 0, all other entries 0.
func oneHot(buf *tensor.Dense, ids []int32, V int) error {
	cols := buf.Shape()[1]
	switch d := buf.Data().(type) {
	case []float32:
		clear(d)
		for k, v := range ids {
			if v >= int32(V) {
				return fmt.Errorf("nn: character index %d outside the vocabulary of %d", v, V)
			}
			if v >= 0 {
				d[int(v)*cols+k] = 1
			}
		}
	case []float64:
		clear(d)
		for k, v := range ids {
			if v >= int32(V) {
				return fmt.Errorf("nn: character index %d outside the vocabulary of %d", v, V)
			}
			if v >= 0 {
				d[int(v)*cols+k] = 1
			}
		}
	}
	return nil
}

func scalar(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s), nil
	case *G.F64:
		return float64(*s), nil
	}
	if d, ok := v.(tensor.Tensor); ok && d.Shape().IsScalar() {
		switch x := d.Data().(type) {
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		}
	}
	return 0, fmt.Errorf("nn: loss is %T, not a scalar", v)
}

// GradData returns the data of gradient k after a Run ([]float32 or []float64, in the
// parameter's graph layout). It is valid until the next Run.
func (n *Net) GradData(k int) (any, error) {
	v := n.Grads[k].Value()
	d, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("nn: gradient of %s is %T", n.Params[k].Name(), v)
	}
	return d.Data(), nil
}

// ProbsData returns the probabilities of the last Run, laid out as Y: [V, cols].
func (n *Net) ProbsData() (any, error) {
	if n.Probs == nil {
		return nil, fmt.Errorf("nn: net built without probabilities")
	}
	d, ok := n.Probs.Value().(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("nn: probabilities are %T", n.Probs.Value())
	}
	return d.Data(), nil
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
