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
	// Batch is the number of sequences per run.
	Batch int
	// Gradients adds the gradients of Loss with respect to every parameter.
	Gradients bool
	// Probs makes the head's probabilities available (ProbsData).
	Probs bool
	// Reference builds the graph from Gorgonia's own ops (a node per gate and step, Gorgonia's
	// symbolic gradients) instead of the fused LSTM and head ops: the same function, about
	// 5-10x slower, kept to check the fused ops and to benchmark Gorgonia's BLAS.
	Reference bool
}

// Net is an unrolled char-LSTM graph, built once; each run re-binds the inputs and resets
// the machine. It is not safe for concurrent use.
type Net struct {
	Cfg charlstm.Config
	Opt Options

	g  *G.ExprGraph
	vm G.VM

	// InvN is the scalar 1/(number of real targets), so that Loss is a mean.
	InvN *G.Node
	// Params are the parameter nodes in ParamShapes order.
	Params []*G.Node
	// Grads are the gradient nodes of Loss, one per parameter (Options.Gradients).
	Grads []*G.Node
	// Sum is the total cross-entropy in nats over the batch; Loss = Sum·InvN.
	Sum, Loss *G.Node
	// Y holds the one-hot targets of the reference graph (Options.Reference) as columns:
	// [V, Batch] for "next", [V, T·Batch] (column t·Batch+n) for "shifted"; nil otherwise.
	Y *G.Node

	// xidx holds the input characters of a run, time-major (xidx[t·Batch+k], -1 for
	// padding); yidx the targets (Batch for "next", T·Batch for "shifted"). The ops read
	// them; Run fills them before each run.
	xidx, yidx []int32
	// head is the fused head's workspace (*headWork[float32] or [float64]), for ProbsData.
	head any
	// probs ([V, cols]) and ybuf (one-hot targets) belong to the reference graph.
	probs *G.Node
	ybuf  *tensor.Dense
	dt    tensor.Dtype
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
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: parameters of dtype %v, want float32 or float64", dt)
	}
	for i, p := range params {
		if !p.Shape().Eq(tensor.Shape(shapes[i].Shape)) || p.Dtype() != dt {
			return nil, fmt.Errorf("nn: parameter %s: %v %v, want %v %v", shapes[i].Name, p.Dtype(), p.Shape(), dt, shapes[i].Shape)
		}
	}
	n := &Net{Cfg: cfg, Opt: opt, g: G.NewGraph(), dt: dt}
	T, B := cfg.MaxLen, opt.Batch
	n.xidx = make([]int32, T*B)
	n.yidx = make([]int32, B)
	if cfg.Target == charlstm.TargetShifted {
		n.yidx = make([]int32, T*B)
	}
	for i, p := range params {
		n.Params = append(n.Params, G.NewMatrix(n.g, dt, G.WithShape(shapes[i].Shape...), G.WithName(shapes[i].Name), G.WithValue(p)))
	}
	n.InvN = G.NewScalar(n.g, dt, G.WithName("invN"))
	var err error
	switch {
	case opt.Reference:
		err = n.buildReference()
	case dt == tensor.Float32:
		err = buildFused[float32](n)
	default:
		err = buildFused[float64](n)
	}
	if err == nil {
		n.Loss, err = G.HadamardProd(n.Sum, n.InvN)
	}
	if err != nil {
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

// buildFused lays out the graph of the fused ops (lstm_op.go, head_op.go): one lstmOp per
// layer and one headOp,
//
//	h_0 [T·B, H] = LSTM_0(W_0, R_0, B_0)          (reads the characters from xidx)
//	h_l [T·B, H] = LSTM_l(W_l, R_l, B_l, h_{l-1})
//	Sum          = SoftmaxXentHead(h_top, Wd, bd)  (reads the targets from yidx)
//
// rows t·B+n; and Gorgonia's Grad turns each op into its gradient op and partOp views.
func buildFused[F float](n *Net) error {
	cfg, B := n.Cfg, n.Opt.Batch
	V, H, T := cfg.VocabSize(), cfg.Hidden, cfg.MaxLen
	var h *G.Node
	for l := range cfg.Layers {
		args := G.Nodes{n.Params[3*l], n.Params[3*l+1], n.Params[3*l+2]}
		var w *lstmWork[F]
		if l == 0 {
			w = newLSTMWork[F](l, T, B, H, V, n.xidx)
		} else {
			w = newLSTMWork[F](l, T, B, H, H, nil)
			args = append(args, h)
		}
		var err error
		if h, err = G.ApplyOp(lstmOp[F]{w}, args...); err != nil {
			return err
		}
	}
	hw := newHeadWork[F](T, B, H, V, n.yidx, cfg.Target == charlstm.TargetShifted)
	n.head = hw
	var err error
	n.Sum, err = G.ApplyOp(headOp[F]{hw}, h, n.Params[len(n.Params)-2], n.Params[len(n.Params)-1])
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
	if len(x) != len(n.xidx) || len(y) != len(n.yidx) {
		return 0, fmt.Errorf("nn: batch of %d inputs and %d targets, want %d and %d", len(x), len(y), len(n.xidx), len(n.yidx))
	}
	V := n.Cfg.VocabSize()
	for k, v := range x {
		if v >= int32(V) {
			return 0, fmt.Errorf("nn: character index %d outside the vocabulary of %d", v, V)
		}
		n.xidx[k] = max(v, -1)
	}
	count := 0
	for k, v := range y {
		if v >= int32(V) {
			return 0, fmt.Errorf("nn: character index %d outside the vocabulary of %d", v, V)
		}
		n.yidx[k] = max(v, -1)
		if v >= 0 {
			count++
		}
	}
	if n.ybuf != nil {
		if err := oneHot(n.ybuf, y, V); err != nil {
			return 0, err
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

// ProbsData returns the probabilities of the last Run as rows [cols, V] ([]float32 or
// []float64): for "next" row n is sequence n's prediction after the last step (cols =
// Batch), for "shifted" row t·Batch+n is its prediction after step t (cols = T·Batch). It
// is valid until the next Run.
func (n *Net) ProbsData() (any, error) {
	if !n.Opt.Probs {
		return nil, fmt.Errorf("nn: net built without probabilities")
	}
	switch w := n.head.(type) {
	case *headWork[float32]:
		return w.probs, nil
	case *headWork[float64]:
		return w.probs, nil
	}
	// the reference graph's probabilities are columns, [V, cols]
	d, ok := n.probs.Value().(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("nn: probabilities are %T", n.probs.Value())
	}
	rows, cols := n.Cfg.VocabSize(), len(n.yidx)
	switch p := d.Data().(type) {
	case []float32:
		out := make([]float32, len(p))
		transpose(out, p, rows, cols)
		return out, nil
	case []float64:
		out := make([]float64, len(p))
		transpose(out, p, rows, cols)
		return out, nil
	}
	return nil, fmt.Errorf("nn: probabilities of dtype %v", d.Dtype())
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
