package ops

// RNN: a one-layer simple recurrent network (ONNX opsets 7 and 14 — 14 added the layout
// attribute; float32). The shared conventions (directions, sequence_lens, clip,
// activations) are described in recurrent.go.

import (
	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// rnn computes, per direction and time step t, with f the direction's activation (default
// Tanh):
//
//	Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb)
//
// Inputs: X, W, R, B, sequence_lens, initial_h. Outputs: Y, Y_h, each optional.
type rnn struct {
	rec recurrent
}

func newRNN(n *Node) (Op, error) {
	if err := n.CheckArity(3, 6, 0, 2); err != nil {
		return nil, err
	}
	rec, err := newRecurrent(n, 1, []string{"Tanh"})
	if err != nil {
		return nil, err
	}
	if err := rec.checkConstWeights(n); err != nil {
		return nil, err
	}
	return &rnn{rec: rec}, nil
}

// Infer checks what is known of the inputs; Y and Y_h are float32 with the sizes known.
func (op *rnn) Infer(in []Type) ([]Type, error) { return op.rec.infer(in) }

// RNN scratch buffers (ctx.Float32s indices).
const (
	rnnScratchXW    = iota // [seq*batch, H]: input projection of one direction
	rnnScratchGates        // [batch, H]: recurrent projection of one step
	rnnScratchH            // [batch, H]: hidden state
)

func (op *rnn) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	c := &op.rec
	d, err := c.dims(in)
	if err != nil {
		return err
	}
	sl := rnnInput(in, 4)
	y, states := c.resetOutputs(out, d, sl, 1)
	yh := states[0]
	if y == nil && yh == nil {
		return nil
	}
	var yd []float32
	if y != nil {
		yd = y.F32()
	}

	H, B := d.hidden, d.batch
	xw := ctx.Float32s(rnnScratchXW, d.seq*B*H)
	gates := ctx.Float32s(rnnScratchGates, B*H)
	h := ctx.Float32s(rnnScratchH, B*H)
	steps := maxSeqLen(sl, d)
	for dir := range c.dirs {
		c.project(xw, in, dir, d, 0)
		c.loadState(h, rnnInput(in, 5), dir, d)
		rd := in[2].F32()[dir*H*H : (dir+1)*H*H]
		f := c.act(dir, 0)
		for s := range steps {
			// gates: [batch, H] = H [batch, H] · R[dir]ᵀ [H, H]
			kernels.Sgemm(false, true, B, H, H, 1, h, max(H, 1), rd, max(H, 1), 0, gates, max(H, 1))
			for b := range B {
				t, ok := c.stepTime(d, sl, dir, s, b)
				if !ok {
					continue
				}
				g := gates[b*H : (b+1)*H]
				xr := xw[c.xRow(d, t, b)*H:]
				for j := range g {
					g[j] += xr[j]
				}
				rnnClip(g, c.clip)
				f.apply(g)
				copy(h[b*H:(b+1)*H], g)
				if yd != nil {
					o := c.yOff(d, t, dir, b)
					copy(yd[o:o+H], g)
				}
			}
		}
		c.storeState(yh, h, sl, dir, d)
	}
	return nil
}
