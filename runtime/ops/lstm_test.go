package ops

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// lstmRef computes LSTM one element at a time in float64, straight from the spec's
// equations (gate blocks i, o, f, c; peepholes i, o, f).
func lstmRef(p *rnnProblem) *rnnRef {
	ref := newRNNRef(p)
	H, dirs := p.hidden, p.dirs()
	acts := p.refActs([]string{"Sigmoid", "Tanh", "Tanh"})
	const gi, gO, gf, gc = 0, 1, 2, 3
	peep := func(d, k, j int) float64 { // k: 0 i, 1 o, 2 f
		if p.p == nil {
			return 0
		}
		return float64(p.p[d*3*H+k*H+j])
	}
	for d := range dirs {
		f, g, h := acts[d][0], acts[d][1], acts[d][2]
		for b := range p.batch {
			hs, cs := make([]float64, H), make([]float64, H)
			for j := range H {
				hs[j] = p.stateAt(p.h0, d, b, j)
				cs[j] = p.stateAt(p.c0, d, b, j)
			}
			n := p.length(b)
			for s := range n {
				t := p.timeOf(d, s, n)
				nh, nc := make([]float64, H), make([]float64, H)
				for j := range H {
					pre := func(gate int) float64 {
						return p.inputPart(d, gate, j, t, b, true) + p.recurPart(d, gate, j, hs)
					}
					i := f(p.clipped(pre(gi) + peep(d, 0, j)*cs[j]))
					var fg float64
					if p.inputForget {
						fg = 1 - i
					} else {
						fg = f(p.clipped(pre(gf) + peep(d, 2, j)*cs[j]))
					}
					cc := g(p.clipped(pre(gc)))
					nc[j] = fg*cs[j] + i*cc
					o := f(p.clipped(pre(gO) + peep(d, 1, j)*nc[j]))
					nh[j] = o * h(nc[j])
				}
				hs, cs = nh, nc
				for j := range H {
					ref.y[((t*dirs+d)*p.batch+b)*H+j] = hs[j]
				}
			}
			if n > 0 {
				for j := range H {
					ref.yh[(d*p.batch+b)*H+j] = hs[j]
					ref.yc[(d*p.batch+b)*H+j] = cs[j]
				}
			}
		}
	}
	return ref
}

// TestLSTMRandom compares LSTM with lstmRef on random problems: every direction, layout,
// optional input and output, clip, input_forget and activation list. One Ctx and one set
// of output tensors serve every problem, as in a session, so stale buffers would show.
func TestLSTMRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	ctx := &Ctx{Threads: 1}
	pool := []*tensor.Tensor{{}, {}, {}}
	for range 600 {
		p := randRNNProblem(rng, "LSTM", 4, 3, true)
		p.inputForget = rng.IntN(4) == 0
		out, err := p.run(newLSTM, ctx, pool)
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		p.compare(t, out, lstmRef(p))
	}
}

// TestLSTMErrors checks that bad inputs and attributes give errors naming what is wrong.
func TestLSTMErrors(t *testing.T) {
	base := func() *rnnProblem {
		// seq 2, batch 3, input 2, hidden 3, every input present.
		rng := rand.New(rand.NewPCG(1, 2))
		p := &rnnProblem{op: "LSTM", gates: 4, seq: 2, batch: 3, input: 2, hidden: 3, direction: "forward", opset: 14, hiddenAttr: true, outputs: []bool{true, true, true}}
		p.x = rnnUniform(rng, 2*3*2)
		p.w = rnnUniform(rng, 12*2)
		p.r = rnnUniform(rng, 12*3)
		p.b = rnnUniform(rng, 24)
		p.lens = []int32{2, 1, 0}
		p.h0 = rnnUniform(rng, 9)
		p.c0 = rnnUniform(rng, 9)
		p.p = rnnUniform(rng, 9)
		return p
	}
	if _, err := base().run(newLSTM, &Ctx{Threads: 1}, []*tensor.Tensor{{}, {}, {}}); err != nil {
		t.Fatalf("the base problem fails: %v", err)
	}
	runErr := func(p *rnnProblem, attrs []*onnx.AttributeProto, mutate func(in []*tensor.Tensor)) error {
		np, in := p.node()
		for _, at := range attrs { // replace or add
			kept := np.Attribute[:0]
			for _, old := range np.Attribute {
				if old.GetName() != at.GetName() {
					kept = append(kept, old)
				}
			}
			np.Attribute = append(kept, at)
		}
		op, err := rnnPlan(newLSTM, np, p.opset, nil)
		if err != nil {
			return err
		}
		if mutate != nil {
			mutate(in)
		}
		return op.Run(&Ctx{Threads: 1}, in, []*tensor.Tensor{{}, {}, {}})
	}
	str := func(name, v string) []*onnx.AttributeProto {
		return []*onnx.AttributeProto{{Name: proto.String(name), S: []byte(v)}}
	}
	cases := []struct {
		name   string
		edit   func(p *rnnProblem)
		attrs  []*onnx.AttributeProto
		mutate func(in []*tensor.Tensor)
		want   string
	}{
		{"W with 3 gate blocks", nil, nil, func(in []*tensor.Tensor) { in[1] = tensor.New(tensor.Float32, 1, 9, 2) }, `input "W": want shape [1 12 2], got [1 9 2]`},
		{"W rank 2", nil, nil, func(in []*tensor.Tensor) { in[1] = tensor.New(tensor.Float32, 12, 2) }, `input "W": want rank 3`},
		{"hidden_size mismatch", nil, []*onnx.AttributeProto{rnnAttrInt("hidden_size", 4)}, nil, `input "R": want shape [1 16 4] (hidden_size 4), got [1 12 3]`},
		{"R for one direction, bidirectional node", nil, str("direction", "bidirectional"), nil, `input "R": want shape [2 12 3], got [1 12 3]`},
		{"X input size", nil, nil, func(in []*tensor.Tensor) { in[0] = tensor.New(tensor.Float32, 2, 3, 5) }, `input "X": input_size 5 does not match W's 2`},
		{"X rank", nil, nil, func(in []*tensor.Tensor) { in[0] = tensor.New(tensor.Float32, 6, 2) }, `input "X": want rank 3`},
		{"X float64", nil, nil, func(in []*tensor.Tensor) { in[0] = tensor.New(tensor.Float64, 2, 3, 2) }, `input "X": unsupported dtype float64`},
		{"B shape", nil, nil, func(in []*tensor.Tensor) { in[3] = tensor.New(tensor.Float32, 1, 12) }, `input "B": want shape [1 24]`},
		{"sequence_lens too long", nil, nil, func(in []*tensor.Tensor) { in[4] = tensor.FromInt64([]int64{2, 3, 1}, 3) }, `input "sequence_lens": entry 1 is 3, want 0 to seq_length 2`},
		{"sequence_lens negative", nil, nil, func(in []*tensor.Tensor) { in[4].I32()[0] = -1 }, `entry 0 is -1`},
		{"sequence_lens float", nil, nil, func(in []*tensor.Tensor) { in[4] = tensor.New(tensor.Float32, 3) }, `input "sequence_lens": unsupported dtype`},
		{"sequence_lens shape", nil, nil, func(in []*tensor.Tensor) { in[4] = tensor.FromInt64([]int64{1, 1}, 2) }, `input "sequence_lens": want shape [3]`},
		{"initial_h shape", nil, nil, func(in []*tensor.Tensor) { in[5] = tensor.New(tensor.Float32, 1, 2, 3) }, `input "initial_h": want shape [1 3 3], got [1 2 3]`},
		{"initial_c shape", nil, nil, func(in []*tensor.Tensor) { in[6] = tensor.New(tensor.Float32, 3, 1, 3) }, `input "initial_c": want shape [1 3 3]`},
		{"P shape", nil, nil, func(in []*tensor.Tensor) { in[7] = tensor.New(tensor.Float32, 1, 12) }, `input "P": want shape [1 9], got [1 12]`},
		{"direction", nil, str("direction", "sideways"), nil, `attribute "direction": want forward, reverse or bidirectional, got "sideways"`},
		{"activation count", func(p *rnnProblem) { p.acts = []string{"Sigmoid", "Tanh"} }, nil, nil, `attribute "activations": want 3 names (3 per direction), got 2`},
		{"unknown activation", func(p *rnnProblem) { p.acts = []string{"Sigmoid", "Gelu", "Tanh"} }, nil, nil, `unsupported activation "Gelu"`},
		{"layout before opset 14", func(p *rnnProblem) { p.opset = 13 }, []*onnx.AttributeProto{rnnAttrInt("layout", 1)}, nil, `attribute "layout": arrived in opset 14`},
		{"layout 2", nil, []*onnx.AttributeProto{rnnAttrInt("layout", 2)}, nil, `attribute "layout": want 0 or 1, got 2`},
		{"negative clip", nil, []*onnx.AttributeProto{{Name: proto.String("clip"), F: proto.Float32(-1)}}, nil, `attribute "clip": want a positive finite threshold`},
		{"hidden_size 0", nil, []*onnx.AttributeProto{rnnAttrInt("hidden_size", 0)}, nil, `attribute "hidden_size": want a positive value, got 0`},
		{"input_forget 2", nil, []*onnx.AttributeProto{rnnAttrInt("input_forget", 2)}, nil, `attribute "input_forget": want 0 or 1, got 2`},
		{"activations of the wrong type", nil, str("activations", "Tanh"), nil, `attribute "activations": want type STRINGS, got STRING`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			if c.edit != nil {
				c.edit(p)
			}
			rnnWantErr(t, runErr(p, c.attrs, c.mutate), c.want)
		})
	}
}

// TestLSTMPlanTimeWeights checks that constant W and R are validated when the node is
// planned, before anything runs.
func TestLSTMPlanTimeWeights(t *testing.T) {
	np := &onnx.NodeProto{Name: proto.String("l"), OpType: proto.String("LSTM"), Input: []string{"X", "W", "R"}, Output: []string{"Y"},
		Attribute: []*onnx.AttributeProto{rnnAttrInt("hidden_size", 3)}}
	good := []*tensor.Tensor{nil, tensor.New(tensor.Float32, 1, 12, 2), tensor.New(tensor.Float32, 1, 12, 3)}
	if _, err := rnnPlan(newLSTM, np, 14, good); err != nil {
		t.Fatalf("valid constant weights: %v", err)
	}
	bad := []*tensor.Tensor{nil, tensor.New(tensor.Float32, 1, 12, 2), tensor.New(tensor.Float32, 1, 8, 2)}
	_, err := rnnPlan(newLSTM, np, 14, bad)
	rnnWantErr(t, err, `node "l" (LSTM): input "R": want shape [1 12 3] (hidden_size 3), got [1 8 2]`)
}

// TestLSTMKnownValue pins one hand-checkable step: with zero weights every gate
// pre-activation is its bias, so i = o = f = sigmoid(0) = 0.5, c = tanh(0) = 0 and, from
// C0 = 1, C1 = f*C0 = 0.5 and H1 = 0.5*tanh(0.5).
func TestLSTMKnownValue(t *testing.T) {
	p := &rnnProblem{op: "LSTM", gates: 4, seq: 1, batch: 1, input: 1, hidden: 1, direction: "forward", opset: 7,
		x: []float32{3}, w: make([]float32, 4), r: make([]float32, 4), c0: []float32{1}, outputs: []bool{false, true, true}}
	out, err := p.run(newLSTM, &Ctx{Threads: 1}, []*tensor.Tensor{{}, {}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != nil {
		t.Fatalf("Y is not an output of the node, yet out[0] = %v", out[0])
	}
	const wantH = 0.23105857863000490 // 0.5*tanh(0.5)
	if got := out[1].F32()[0]; got != float32(wantH) {
		t.Errorf("Y_h (-want +got): -%v +%v", float32(wantH), got)
	}
	if got := out[2].F32()[0]; got != 0.5 {
		t.Errorf("Y_c (-want +got): -0.5 +%v", got)
	}
}

// TestLSTMEmpty checks that empty dimensions give empty (or zero) outputs, not a panic:
// no time steps (Y_h is zero, as for an entry of length 0), no batch, no hidden units.
func TestLSTMEmpty(t *testing.T) {
	for _, c := range []struct {
		seq, batch, input, hidden int
	}{{0, 2, 3, 2}, {3, 0, 3, 2}, {3, 2, 0, 2}, {3, 2, 3, 0}} {
		p := &rnnProblem{op: "LSTM", gates: 4, seq: c.seq, batch: c.batch, input: c.input, hidden: c.hidden, direction: "bidirectional", opset: 14,
			outputs: []bool{true, true, true}}
		p.x = make([]float32, c.seq*c.batch*c.input)
		p.w = make([]float32, 2*4*c.hidden*c.input)
		p.r = make([]float32, 2*4*c.hidden*c.hidden)
		p.h0 = make([]float32, 2*c.batch*c.hidden)
		for i := range p.h0 {
			p.h0[i] = 1
		}
		out, err := p.run(newLSTM, &Ctx{Threads: 1}, []*tensor.Tensor{{}, {}, {}})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		p.compare(t, out, lstmRef(p))
	}
}
