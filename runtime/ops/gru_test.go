package ops

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// gruRef computes GRU one element at a time in float64, straight from the spec's
// equations (gate blocks z, r, h).
func gruRef(p *rnnProblem) *rnnRef {
	ref := newRNNRef(p)
	H, dirs := p.hidden, p.dirs()
	acts := p.refActs([]string{"Sigmoid", "Tanh"})
	const gz, gr, gh = 0, 1, 2
	for d := range dirs {
		f, g := acts[d][0], acts[d][1]
		for b := range p.batch {
			hs := make([]float64, H)
			for j := range H {
				hs[j] = p.stateAt(p.h0, d, b, j)
			}
			n := p.length(b)
			for s := range n {
				t := p.timeOf(d, s, n)
				z, r := make([]float64, H), make([]float64, H)
				for j := range H {
					z[j] = f(p.clipped(p.inputPart(d, gz, j, t, b, true) + p.recurPart(d, gz, j, hs)))
					r[j] = f(p.clipped(p.inputPart(d, gr, j, t, b, true) + p.recurPart(d, gr, j, hs)))
				}
				rh := make([]float64, H)
				for j := range H {
					rh[j] = r[j] * hs[j]
				}
				nh := make([]float64, H)
				for j := range H {
					var pre float64
					if p.linearBeforeReset {
						pre = p.inputPart(d, gh, j, t, b, false) + r[j]*(p.recurPart(d, gh, j, hs)+p.rbAt(d, gh, j))
					} else {
						pre = p.inputPart(d, gh, j, t, b, true) + p.recurPart(d, gh, j, rh)
					}
					nh[j] = (1-z[j])*g(p.clipped(pre)) + z[j]*hs[j]
				}
				hs = nh
				for j := range H {
					ref.y[((t*dirs+d)*p.batch+b)*H+j] = hs[j]
				}
			}
			if n > 0 {
				copy(ref.yh[(d*p.batch+b)*H:], hs)
			}
		}
	}
	return ref
}

// TestGRURandom compares GRU with gruRef on random problems: every direction, layout,
// optional input and output, clip, linear_before_reset and activation list. One Ctx and
// one set of output tensors serve every problem, as in a session.
func TestGRURandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 21))
	ctx := &Ctx{Threads: 1}
	pool := []*tensor.Tensor{{}, {}}
	for range 600 {
		p := randRNNProblem(rng, "GRU", 3, 2, false)
		p.linearBeforeReset = rng.IntN(2) == 0
		out, err := p.run(newGRU, ctx, pool)
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		p.compare(t, out, gruRef(p))
	}
}

// TestGRUErrors checks errors particular to GRU's shapes and arity.
func TestGRUErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := &rnnProblem{op: "GRU", gates: 3, seq: 2, batch: 1, input: 2, hidden: 3, direction: "forward", opset: 14, outputs: []bool{true, true}}
	p.x, p.w, p.r = rnnUniform(rng, 4), rnnUniform(rng, 18), rnnUniform(rng, 27)
	np, in := p.node()
	op, err := rnnPlan(newGRU, np, 14, nil)
	if err != nil {
		t.Fatal(err)
	}
	in[1] = tensor.New(tensor.Float32, 1, 12, 2) // LSTM-sized W
	rnnWantErr(t, op.Run(&Ctx{Threads: 1}, in, []*tensor.Tensor{{}, {}}), `input "W": want shape [1 9 2], got [1 12 2]`)

	np.Attribute = []*onnx.AttributeProto{{Name: proto.String("activations"), Strings: [][]byte{[]byte("Sigmoid"), []byte("Tanh"), []byte("Tanh")}}}
	_, err = rnnPlan(newGRU, np, 14, nil)
	rnnWantErr(t, err, `want 2 names (2 per direction), got 3`)

	np.Attribute = nil
	np.Output = append(np.Output, "Y_c")
	_, err = rnnPlan(newGRU, np, 14, nil)
	rnnWantErr(t, err, `want 0 to 2 outputs, got 3`)
}

// TestGRUEmpty checks that empty dimensions give empty (or zero) outputs, not a panic. Batch
// 0 pins a bug the engine's fuzzing found (FuzzMutate seed gru_batch0): the step loop sliced
// the empty gate buffer at 2H.
func TestGRUEmpty(t *testing.T) {
	for _, c := range []struct {
		seq, batch, input, hidden int
		lbr                       bool
	}{{0, 2, 3, 2, false}, {3, 0, 3, 5, false}, {3, 0, 3, 5, true}, {3, 2, 0, 2, false}, {3, 2, 3, 0, true}} {
		p := &rnnProblem{op: "GRU", gates: 3, seq: c.seq, batch: c.batch, input: c.input, hidden: c.hidden, direction: "bidirectional", opset: 14,
			linearBeforeReset: c.lbr, outputs: []bool{true, true}}
		p.x = make([]float32, c.seq*c.batch*c.input)
		p.w = make([]float32, 2*3*c.hidden*c.input)
		p.r = make([]float32, 2*3*c.hidden*c.hidden)
		p.h0 = make([]float32, 2*c.batch*c.hidden)
		for i := range p.h0 {
			p.h0[i] = 1
		}
		out, err := p.run(newGRU, &Ctx{Threads: 1}, []*tensor.Tensor{{}, {}})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		p.compare(t, out, gruRef(p))
	}
}
