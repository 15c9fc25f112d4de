package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// rnnRefCompute computes RNN one element at a time in float64, straight from the spec's
// equation Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb).
func rnnRefCompute(p *rnnProblem) *rnnRef {
	ref := newRNNRef(p)
	H, dirs := p.hidden, p.dirs()
	acts := p.refActs([]string{"Tanh"})
	for d := range dirs {
		f := acts[d][0]
		for b := range p.batch {
			hs := make([]float64, H)
			for j := range H {
				hs[j] = p.stateAt(p.h0, d, b, j)
			}
			n := p.length(b)
			for s := range n {
				t := p.timeOf(d, s, n)
				nh := make([]float64, H)
				for j := range H {
					nh[j] = f(p.clipped(p.inputPart(d, 0, j, t, b, true) + p.recurPart(d, 0, j, hs)))
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

// TestRNNRandom compares RNN with rnnRefCompute on random problems: every direction,
// layout, optional input and output, clip and activation. One Ctx and one set of output
// tensors serve every problem, as in a session.
func TestRNNRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	ctx := &Ctx{Threads: 1}
	pool := []*tensor.Tensor{{}, {}}
	for range 600 {
		p := randRNNProblem(rng, "RNN", 1, 1, false)
		out, err := p.run(newRNN, ctx, pool)
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		p.compare(t, out, rnnRefCompute(p))
	}
}

// TestRNNErrors checks errors particular to RNN's shapes.
func TestRNNErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := &rnnProblem{op: "RNN", gates: 1, seq: 2, batch: 2, input: 2, hidden: 3, direction: "reverse", opset: 14, hiddenAttr: true, outputs: []bool{false, true}}
	p.x, p.w, p.r = rnnUniform(rng, 8), rnnUniform(rng, 6), rnnUniform(rng, 9)
	np, in := p.node()
	op, err := rnnPlan(newRNN, np, 14, nil)
	if err != nil {
		t.Fatal(err)
	}
	in[2] = tensor.New(tensor.Float32, 1, 3, 2) // R [dirs, H, H] with H = 2 against hidden_size 3
	rnnWantErr(t, op.Run(&Ctx{Threads: 1}, in, []*tensor.Tensor{nil, {}}), `input "R": want shape [1 3 3] (hidden_size 3), got [1 3 2]`)
}
