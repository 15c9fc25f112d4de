package ops

// Test harness shared by the LSTM, GRU and RNN tests: random problems, node construction,
// float64 reference activations and the comparison with a reference in layout 0 order.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Tolerance of the recurrent ops against their float64 references:
// |got-want| <= rnnTestATol + rnnTestRTol*|want|. The ops compute in float32 (unit roundoff
// 6e-8); the largest random problems chain 5 steps of dot products over at most 7+6 terms
// followed by float32-rounded activations, which stays around 1e-6 absolute on values of
// order 1. The bounds leave a margin of about ten.
const (
	rnnTestATol = 1e-5
	rnnTestRTol = 1e-4
)

// rnnProblem is one recurrent-op problem: sizes, attributes and input values, the arrays
// laid out as the op receives them.
type rnnProblem struct {
	op                        string // "LSTM", "GRU" or "RNN"
	gates                     int    // gate blocks per direction: 4, 3 or 1
	seq, batch, input, hidden int
	direction                 string
	layout                    int
	opset                     int64
	hiddenAttr                bool     // set the hidden_size attribute
	clip                      float32  // 0: no clip attribute
	acts                      []string // nil: the spec's defaults
	alphas, betas             []float32
	inputForget               bool // LSTM
	linearBeforeReset         bool // GRU
	x, w, r                   []float32
	b, h0, c0, p              []float32 // nil: absent
	lens                      []int32   // nil: absent
	outputs                   []bool    // which of Y, Y_h(, Y_c) the node has
}

func (p *rnnProblem) dirs() int {
	if p.direction == "bidirectional" {
		return 2
	}
	return 1
}

func (p *rnnProblem) String() string {
	return fmt.Sprintf("%s seq=%d batch=%d input=%d hidden=%d %s layout=%d clip=%v acts=%v alpha=%v beta=%v inputForget=%v lbr=%v B=%v h0=%v c0=%v P=%v lens=%v outputs=%v",
		p.op, p.seq, p.batch, p.input, p.hidden, p.direction, p.layout, p.clip, p.acts, p.alphas, p.betas,
		p.inputForget, p.linearBeforeReset, p.b != nil, p.h0 != nil, p.c0 != nil, p.p != nil, p.lens, p.outputs)
}

// xAt is X at time t, batch entry b, feature i.
func (p *rnnProblem) xAt(t, b, i int) float64 {
	if p.layout == 1 {
		return float64(p.x[(b*p.seq+t)*p.input+i])
	}
	return float64(p.x[(t*p.batch+b)*p.input+i])
}

// stateAt is element j of direction d, batch entry b of an initial state (0 when absent).
func (p *rnnProblem) stateAt(s []float32, d, b, j int) float64 {
	if s == nil {
		return 0
	}
	if p.layout == 1 {
		return float64(s[(b*p.dirs()+d)*p.hidden+j])
	}
	return float64(s[(d*p.batch+b)*p.hidden+j])
}

// length is the number of steps batch entry b runs.
func (p *rnnProblem) length(b int) int {
	if p.lens == nil {
		return p.seq
	}
	return int(p.lens[b])
}

// timeOf is the time step processed at step s by direction d for an entry of length n.
func (p *rnnProblem) timeOf(d, s, n int) int {
	if d == 1 || p.direction == "reverse" {
		return n - 1 - s
	}
	return s
}

// inputPart is the pre-activation of row j of gate block g, direction d, at time t of entry b,
// without the recurrent part: X·Wᵀ + Wb (+ Rb when withRb).
func (p *rnnProblem) inputPart(d, g, j, t, b int, withRb bool) float64 {
	gh := p.gates * p.hidden
	row := d*gh + g*p.hidden + j
	s := 0.0
	for i := range p.input {
		s += p.xAt(t, b, i) * float64(p.w[row*p.input+i])
	}
	if p.b != nil {
		s += float64(p.b[d*2*gh+g*p.hidden+j])
		if withRb {
			s += float64(p.b[d*2*gh+gh+g*p.hidden+j])
		}
	}
	return s
}

// recurPart is row j of gate block g of direction d times the vector h: (h·Rᵀ)[j].
func (p *rnnProblem) recurPart(d, g, j int, h []float64) float64 {
	gh := p.gates * p.hidden
	row := d*gh + g*p.hidden + j
	s := 0.0
	for k := range p.hidden {
		s += h[k] * float64(p.r[row*p.hidden+k])
	}
	return s
}

// rbAt is the recurrent bias Rb of row j of gate block g, direction d (0 without B).
func (p *rnnProblem) rbAt(d, g, j int) float64 {
	if p.b == nil {
		return 0
	}
	gh := p.gates * p.hidden
	return float64(p.b[d*2*gh+gh+g*p.hidden+j])
}

// clipped applies the clip attribute.
func (p *rnnProblem) clipped(v float64) float64 {
	if p.clip > 0 {
		c := float64(p.clip)
		return math.Min(math.Max(v, -c), c)
	}
	return v
}

// refAct is a resolved activation function.
type refAct func(float64) float64

// refActs resolves the problem's activations (or defaults, one direction's worth) into
// functions, per direction, from the spec's formulas: activation_alpha and activation_beta
// are consumed in order by the functions that take them, then the ONNX operators' defaults.
func (p *rnnProblem) refActs(defaults []string) [][]refAct {
	names := p.acts
	if names == nil {
		for range p.dirs() {
			names = append(names, defaults...)
		}
	}
	alphas, betas := p.alphas, p.betas
	next := func(l *[]float32, def float64) float64 {
		if len(*l) == 0 {
			return def
		}
		v := float64((*l)[0])
		*l = (*l)[1:]
		return v
	}
	var fs []refAct
	for _, name := range names {
		var f refAct
		switch name {
		case "Relu":
			f = func(x float64) float64 { return math.Max(x, 0) }
		case "Tanh":
			f = math.Tanh
		case "Sigmoid":
			f = func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
		case "Affine":
			a, b := next(&alphas, 1), next(&betas, 0)
			f = func(x float64) float64 { return a*x + b }
		case "LeakyRelu":
			a := next(&alphas, 0.01)
			f = func(x float64) float64 {
				if x >= 0 {
					return x
				}
				return a * x
			}
		case "ThresholdedRelu":
			a := next(&alphas, 1)
			f = func(x float64) float64 {
				if x >= a {
					return x
				}
				return 0
			}
		case "ScaledTanh":
			a, b := next(&alphas, 1), next(&betas, 1)
			f = func(x float64) float64 { return a * math.Tanh(b*x) }
		case "HardSigmoid":
			a, b := next(&alphas, 0.2), next(&betas, 0.5)
			f = func(x float64) float64 { return math.Min(math.Max(a*x+b, 0), 1) }
		case "Elu":
			a := next(&alphas, 1)
			f = func(x float64) float64 {
				if x >= 0 {
					return x
				}
				return a * (math.Exp(x) - 1)
			}
		case "Softsign":
			f = func(x float64) float64 { return x / (1 + math.Abs(x)) }
		case "Softplus":
			f = func(x float64) float64 { return math.Log(1 + math.Exp(x)) }
		default:
			panic("refActs: unknown activation " + name)
		}
		fs = append(fs, f)
	}
	per := len(defaults)
	out := make([][]refAct, p.dirs())
	for d := range out {
		out[d] = fs[d*per : (d+1)*per]
	}
	return out
}

// rnnRef is what a reference computes, in layout 0 order: y [seq, dirs, batch, H], yh and
// yc [dirs, batch, H].
type rnnRef struct {
	y, yh, yc []float64
}

func newRNNRef(p *rnnProblem) *rnnRef {
	d, h := p.dirs(), p.hidden
	return &rnnRef{
		y:  make([]float64, p.seq*d*p.batch*h),
		yh: make([]float64, d*p.batch*h),
		yc: make([]float64, d*p.batch*h),
	}
}

// rnnActPool is what random problems draw activations from. ThresholdedRelu is left out:
// its jump at alpha makes float32 and float64 disagree by O(1) near it (it is covered by
// TestRNNActivations).
var rnnActPool = []string{"Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"}

// rnnGatePool is what random LSTM and GRU problems draw their gate activation (f) from:
// functions onto [0, 1], as gates are meant to be. With others the state can grow (an
// unbounded f compounds in LSTM's cell until float32 overflows where the float64 reference
// does not) and rounding is amplified (GRU's (1-z)h + zH grows errors by up to 3 per step
// when z is in (-1, 1)), which would test float32 rather than the op.
var rnnGatePool = []string{"Sigmoid", "HardSigmoid"}

func rnnUniform(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// randRNNProblem draws a problem of op with the given gate blocks, activations per
// direction, and initial_c/P inputs when hasCell.
func randRNNProblem(rng *rand.Rand, op string, gates, nActs int, hasCell bool) *rnnProblem {
	p := &rnnProblem{
		op: op, gates: gates,
		seq: 1 + rng.IntN(5), batch: 1 + rng.IntN(3), input: 1 + rng.IntN(7), hidden: 1 + rng.IntN(6),
		direction:  []string{"forward", "reverse", "bidirectional"}[rng.IntN(3)],
		layout:     rng.IntN(2),
		opset:      14,
		hiddenAttr: rng.IntN(2) == 0,
	}
	if rng.IntN(2) == 0 {
		p.opset = 7 + int64(rng.IntN(7)) // 7..13: no layout attribute yet
		p.layout = 0
	}
	dirs, gh := p.dirs(), gates*p.hidden
	p.x = rnnUniform(rng, p.seq*p.batch*p.input)
	p.w = rnnUniform(rng, dirs*gh*p.input)
	p.r = rnnUniform(rng, dirs*gh*p.hidden)
	if rng.IntN(2) == 0 {
		p.b = rnnUniform(rng, dirs*2*gh)
	}
	if rng.IntN(2) == 0 {
		p.h0 = rnnUniform(rng, dirs*p.batch*p.hidden)
	}
	if rng.IntN(2) == 0 {
		p.lens = make([]int32, p.batch)
		for b := range p.lens {
			p.lens[b] = int32(rng.IntN(p.seq + 1))
		}
	}
	if rng.IntN(4) == 0 {
		p.clip = 0.5 + 2.5*rng.Float32()
	}
	if rng.IntN(3) == 0 {
		for range dirs {
			for k := range nActs {
				pool := rnnActPool
				if k == 0 && nActs > 1 {
					pool = rnnGatePool
				}
				p.acts = append(p.acts, pool[rng.IntN(len(pool))])
			}
		}
		p.alphas = make([]float32, rng.IntN(4))
		p.betas = make([]float32, rng.IntN(4))
		for i := range p.alphas {
			p.alphas[i] = 0.1 + 0.9*rng.Float32()
		}
		for i := range p.betas {
			p.betas[i] = 0.1 + 0.9*rng.Float32()
		}
	}
	nOut := 2
	if hasCell {
		nOut = 3
		if rng.IntN(2) == 0 {
			p.c0 = rnnUniform(rng, dirs*p.batch*p.hidden)
		}
		if rng.IntN(2) == 0 {
			p.p = rnnUniform(rng, dirs*3*p.hidden)
		}
	}
	p.outputs = make([]bool, nOut)
	for i := range p.outputs {
		p.outputs[i] = rng.IntN(4) != 0
	}
	return p
}

func rnnAttrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: proto.String(name), I: proto.Int64(v)}
}

// node builds the NodeProto and the input tensors (slot order; nil for an absent slot).
func (p *rnnProblem) node() (*onnx.NodeProto, []*tensor.Tensor) {
	dirs := p.dirs()
	state := []int{dirs, p.batch, p.hidden}
	xs := []int{p.seq, p.batch, p.input}
	if p.layout == 1 {
		state = []int{p.batch, dirs, p.hidden}
		xs = []int{p.batch, p.seq, p.input}
	}
	gh := p.gates * p.hidden
	in := []*tensor.Tensor{
		tensor.FromFloat32(p.x, xs...),
		tensor.FromFloat32(p.w, dirs, gh, p.input),
		tensor.FromFloat32(p.r, dirs, gh, p.hidden),
		nil, nil, nil, nil, nil,
	}
	if p.b != nil {
		in[3] = tensor.FromFloat32(p.b, dirs, 2*gh)
	}
	if p.lens != nil {
		in[4] = &tensor.Tensor{DType: tensor.Int32, Shape: []int{p.batch}, Data: p.lens}
	}
	if p.h0 != nil {
		in[5] = tensor.FromFloat32(p.h0, state...)
	}
	if p.c0 != nil {
		in[6] = tensor.FromFloat32(p.c0, state...)
	}
	if p.p != nil {
		in[7] = tensor.FromFloat32(p.p, dirs, 3*p.hidden)
	}
	for len(in) > 3 && in[len(in)-1] == nil {
		in = in[:len(in)-1]
	}
	names := []string{"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"}
	n := &onnx.NodeProto{Name: proto.String("rnn0"), OpType: proto.String(p.op)}
	for i, t := range in {
		if t == nil {
			n.Input = append(n.Input, "")
		} else {
			n.Input = append(n.Input, names[i])
		}
	}
	outNames := []string{"Y", "Y_h", "Y_c"}
	for i, on := range p.outputs {
		if on {
			n.Output = append(n.Output, outNames[i])
		} else {
			n.Output = append(n.Output, "")
		}
	}
	for len(n.Output) > 0 && n.Output[len(n.Output)-1] == "" {
		n.Output = n.Output[:len(n.Output)-1]
	}
	if p.direction != "forward" || p.hiddenAttr { // also write the default sometimes
		n.Attribute = append(n.Attribute, &onnx.AttributeProto{Name: proto.String("direction"), S: []byte(p.direction)})
	}
	if p.hiddenAttr {
		n.Attribute = append(n.Attribute, rnnAttrInt("hidden_size", int64(p.hidden)))
	}
	if p.layout != 0 {
		n.Attribute = append(n.Attribute, rnnAttrInt("layout", int64(p.layout)))
	}
	if p.clip > 0 {
		n.Attribute = append(n.Attribute, &onnx.AttributeProto{Name: proto.String("clip"), F: proto.Float32(p.clip)})
	}
	if p.acts != nil {
		at := &onnx.AttributeProto{Name: proto.String("activations"), Type: onnx.AttributeProto_STRINGS.Enum()}
		for _, a := range p.acts {
			at.Strings = append(at.Strings, []byte(a))
		}
		n.Attribute = append(n.Attribute, at)
	}
	if len(p.alphas) > 0 {
		n.Attribute = append(n.Attribute, &onnx.AttributeProto{Name: proto.String("activation_alpha"), Floats: p.alphas})
	}
	if len(p.betas) > 0 {
		n.Attribute = append(n.Attribute, &onnx.AttributeProto{Name: proto.String("activation_beta"), Floats: p.betas})
	}
	if p.inputForget {
		n.Attribute = append(n.Attribute, rnnAttrInt("input_forget", 1))
	}
	if p.linearBeforeReset {
		n.Attribute = append(n.Attribute, rnnAttrInt("linear_before_reset", 1))
	}
	return n, in
}

// rnnPlan runs a constructor on a NodeProto the way the engine does.
func rnnPlan(cons Constructor, np *onnx.NodeProto, opset int64, consts []*tensor.Tensor) (Op, error) {
	n := &Node{Proto: np, Attrs: onnx.NewAttrs(np), Opset: opset, Consts: consts}
	if len(n.Consts) == 0 {
		n.Consts = make([]*tensor.Tensor, len(np.GetInput()))
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	op, err := cons(n)
	if err != nil {
		return nil, err
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// run plans and runs the problem. pool holds the output tensors (reused between calls, as
// a session does); the returned slice has nil for absent outputs.
func (p *rnnProblem) run(cons Constructor, ctx *Ctx, pool []*tensor.Tensor) ([]*tensor.Tensor, error) {
	np, in := p.node()
	op, err := rnnPlan(cons, np, p.opset, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(np.GetOutput()))
	for i, name := range np.GetOutput() {
		if name != "" {
			out[i] = pool[i]
		}
	}
	if err := op.Run(ctx, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// compare checks the op's outputs against the reference (layout 0 order), in the
// problem's layout.
func (p *rnnProblem) compare(t *testing.T, out []*tensor.Tensor, ref *rnnRef) {
	t.Helper()
	dirs, H := p.dirs(), p.hidden
	for i, o := range out {
		if o == nil {
			continue
		}
		var want []float64
		var shape []int
		switch i {
		case 0:
			shape = []int{p.seq, dirs, p.batch, H}
			if p.layout == 1 {
				shape = []int{p.batch, p.seq, dirs, H}
			}
			want = make([]float64, len(ref.y))
			for ts := range p.seq {
				for d := range dirs {
					for b := range p.batch {
						for j := range H {
							src := ((ts*dirs+d)*p.batch+b)*H + j
							dst := src
							if p.layout == 1 {
								dst = ((b*p.seq+ts)*dirs+d)*H + j
							}
							want[dst] = ref.y[src]
						}
					}
				}
			}
		default:
			st := ref.yh
			if i == 2 {
				st = ref.yc
			}
			shape = []int{dirs, p.batch, H}
			if p.layout == 1 {
				shape = []int{p.batch, dirs, H}
			}
			want = make([]float64, len(st))
			for d := range dirs {
				for b := range p.batch {
					for j := range H {
						src := (d*p.batch+b)*H + j
						dst := src
						if p.layout == 1 {
							dst = (b*dirs+d)*H + j
						}
						want[dst] = st[src]
					}
				}
			}
		}
		name := []string{"Y", "Y_h", "Y_c"}[i]
		if o.DType != tensor.Float32 || !tensor.SameShape(o.Shape, shape) {
			t.Fatalf("%v\n%s: got %v, want float32%s", p, name, o, tensor.ShapeString(shape))
		}
		for k, g := range o.F32() {
			if w := want[k]; math.Abs(float64(g)-w) > rnnTestATol+rnnTestRTol*math.Abs(w) || math.IsNaN(float64(g)) {
				t.Fatalf("%v\n%s[%d] (-want +got): -%v +%v", p, name, k, w, g)
			}
		}
	}
}

// rnnWantErr checks that err is an error whose message contains want.
func rnnWantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got error %q, want one containing %q", err, want)
	}
}

// TestRNNActivations checks every activation function of the recurrent ops on points
// computed by hand from the spec's formulas, including the boundaries of the piecewise
// ones.
func TestRNNActivations(t *testing.T) {
	const tol = 1e-6 // float32 evaluation of values of order 1
	cases := []struct {
		act  rnnAct
		x    []float32
		want []float64
	}{
		{rnnAct{kind: rnnActRelu}, []float32{-2, 0, 3}, []float64{0, 0, 3}},
		{rnnAct{kind: rnnActTanh}, []float32{0, 1}, []float64{0, 0.7615941559557649}},
		{rnnAct{kind: rnnActSigmoid}, []float32{0, 2, -100}, []float64{0.5, 0.8807970779778823, 0}},
		{rnnAct{kind: rnnActAffine, alpha: 2, beta: -1}, []float32{0, 3}, []float64{-1, 5}},
		{rnnAct{kind: rnnActLeakyRelu, alpha: 0.1}, []float32{-2, 0, 2}, []float64{-0.2, 0, 2}},
		{rnnAct{kind: rnnActThresholdedRelu, alpha: 1}, []float32{0.5, 1, 2}, []float64{0, 1, 2}},
		{rnnAct{kind: rnnActScaledTanh, alpha: 2, beta: 0.5}, []float32{2}, []float64{2 * 0.7615941559557649}},
		{rnnAct{kind: rnnActHardSigmoid, alpha: 0.2, beta: 0.5}, []float32{-5, 0, 1, 5}, []float64{0, 0.5, 0.7, 1}},
		{rnnAct{kind: rnnActElu, alpha: 2}, []float32{-1, 0, 1}, []float64{2 * (math.Exp(-1) - 1), 0, 1}},
		{rnnAct{kind: rnnActSoftsign}, []float32{-3, 1}, []float64{-0.75, 0.5}},
		{rnnAct{kind: rnnActSoftplus}, []float32{0, 100, -100}, []float64{math.Ln2, 100, 0}},
	}
	for _, c := range cases {
		x := append([]float32{}, c.x...)
		c.act.apply(x)
		for i, g := range x {
			if math.Abs(float64(g)-c.want[i]) > tol*(1+math.Abs(c.want[i])) {
				t.Errorf("activation %d(alpha %v, beta %v) at %v (-want +got): -%v +%v", c.act.kind, c.act.alpha, c.act.beta, c.x[i], c.want[i], g)
			}
		}
	}
}

// TestRNNActivationParams checks how activation_alpha and activation_beta are consumed:
// in order, only by the functions that take them, then the defaults.
func TestRNNActivationParams(t *testing.T) {
	np := &onnx.NodeProto{OpType: proto.String("LSTM"), Input: []string{"X", "W", "R"}, Output: []string{"Y"}}
	strs := &onnx.AttributeProto{Name: proto.String("activations")}
	for _, s := range []string{"LeakyRelu", "tanh", "HardSigmoid", "Sigmoid", "Affine", "ELU"} {
		strs.Strings = append(strs.Strings, []byte(s))
	}
	np.Attribute = []*onnx.AttributeProto{
		{Name: proto.String("direction"), S: []byte("bidirectional")},
		strs,
		{Name: proto.String("activation_alpha"), Floats: []float32{0.3, 0.4, 0.5}},
		{Name: proto.String("activation_beta"), Floats: []float32{0.6}},
	}
	op, err := rnnPlan(newLSTM, np, 14, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := op.(*lstm).rec.acts
	want := []rnnAct{
		{kind: rnnActLeakyRelu, alpha: 0.3},
		{kind: rnnActTanh},
		{kind: rnnActHardSigmoid, alpha: 0.4, beta: 0.6},
		{kind: rnnActSigmoid},
		{kind: rnnActAffine, alpha: 0.5, beta: 0}, // beta list used up: Affine's default 0
		{kind: rnnActElu, alpha: 1},               // alpha list used up: Elu's default 1
	}
	if len(got) != len(want) {
		t.Fatalf("got %d activations, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("activation %d (-want +got): -%+v +%+v", i, want[i], got[i])
		}
	}
}
