package ops

// LSTM: a one-layer long short-term memory (ONNX opsets 7 and 14 — 14 added the layout
// attribute; float32). The shared conventions (directions, sequence_lens, clip,
// activations) are described in recurrent.go.

import (
	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// lstm computes, per direction and time step t, with f, g, h the direction's three
// activations (default Sigmoid, Tanh, Tanh) and gate blocks stacked i, o, f, c:
//
//	i = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi⊙Ct-1 + Wbi + Rbi)
//	f = f(Xt·Wfᵀ + Ht-1·Rfᵀ + Pf⊙Ct-1 + Wbf + Rbf)   (1 - i when input_forget)
//	c = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
//	Ct = f⊙Ct-1 + i⊙c
//	o = f(Xt·Woᵀ + Ht-1·Roᵀ + Po⊙Ct + Wbo + Rbo)
//	Ht = o⊙h(Ct)
//
// Inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P (peepholes [dirs, 3H], i o f).
// Outputs: Y, Y_h, Y_c, each optional.
type lstm struct {
	rec         recurrent
	inputForget bool
}

func newLSTM(n *Node) (Op, error) {
	if err := n.CheckArity(3, 8, 0, 3); err != nil {
		return nil, err
	}
	rec, err := newRecurrent(n, 4, []string{"Sigmoid", "Tanh", "Tanh"})
	if err != nil {
		return nil, err
	}
	op := &lstm{rec: rec}
	if op.inputForget = n.Attrs.Flag("input_forget", false); n.Attrs.Err() != nil {
		return nil, n.Attrs.Err()
	}
	if err := rec.checkConstWeights(n); err != nil {
		return nil, err
	}
	return op, nil
}

// Infer checks what is known of the inputs; Y, Y_h and Y_c are float32 with the sizes known.
func (op *lstm) Infer(in []Type) ([]Type, error) { return op.rec.infer(in) }

// LSTM scratch buffers (ctx.Float32s indices).
const (
	lstmScratchXW    = iota // [seq*batch, 4H]: input projection of one direction
	lstmScratchGates        // [batch, 4H]: gate pre-activations of one step
	lstmScratchH            // [batch, H]: hidden state
	lstmScratchC            // [batch, H]: cell state
)

func (op *lstm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	c := &op.rec
	d, err := c.dims(in)
	if err != nil {
		return err
	}
	initC, peep := rnnInput(in, 6), rnnInput(in, 7)
	sl := rnnInput(in, 4)
	y, states := c.resetOutputs(out, d, sl, 2)
	yh, yc := states[0], states[1]
	if y == nil && yh == nil && yc == nil {
		return nil
	}

	var yd []float32
	if y != nil {
		yd = y.F32()
	}
	H, B := d.hidden, d.batch
	g4 := 4 * H
	xw := ctx.Float32s(lstmScratchXW, d.seq*B*g4)
	gates := ctx.Float32s(lstmScratchGates, B*g4)
	h := ctx.Float32s(lstmScratchH, B*H)
	cell := ctx.Float32s(lstmScratchC, B*H)
	steps := maxSeqLen(sl, d)
	for dir := range c.dirs {
		c.projectThreads(ctx.Threads, xw, in, dir, d, 0)
		c.loadState(h, rnnInput(in, 5), dir, d)
		c.loadState(cell, initC, dir, d)
		rd := in[2].F32()[dir*g4*H : (dir+1)*g4*H]
		var pi, po, pf []float32
		if peep != nil {
			p := peep.F32()[dir*3*H : (dir+1)*3*H]
			pi, po, pf = p[:H], p[H:2*H], p[2*H:]
		}
		fAct, gAct, hAct := c.act(dir, 0), c.act(dir, 1), c.act(dir, 2)
		// Without peepholes and input_forget the gates i, o, f (stacked in that order) do
		// not depend on the new cell state: one call activates all three.
		fused := peep == nil && !op.inputForget
		for s := range steps {
			// gates: [batch, 4H] = Xt·W[dir]ᵀ + biases (from xw) + H [batch, H] · R[dir]ᵀ [H, 4H]
			for b := range B {
				if t, ok := c.stepTime(d, sl, dir, s, b); ok {
					r := c.xRow(d, t, b) * g4
					copy(gates[b*g4:(b+1)*g4], xw[r:r+g4])
				}
			}
			kernels.Sgemm(false, true, B, g4, H, 1, h, max(H, 1), rd, max(H, 1), 1, gates, max(g4, 1))
			for b := range B {
				t, ok := c.stepTime(d, sl, dir, s, b)
				if !ok {
					continue
				}
				g := gates[b*g4 : (b+1)*g4]
				gi, gO, gf, gc := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:]
				hb, cb := h[b*H:(b+1)*H], cell[b*H:(b+1)*H]
				if fused {
					rnnClip(g, c.clip)
					fAct.apply(g[:3*H])
					gAct.apply(gc)
				} else {
					if peep != nil {
						for j, cv := range cb {
							gi[j] += pi[j] * cv
							gf[j] += pf[j] * cv
						}
					}
					rnnClip(gi, c.clip)
					fAct.apply(gi)
					if op.inputForget {
						for j, v := range gi {
							gf[j] = 1 - v
						}
					} else {
						rnnClip(gf, c.clip)
						fAct.apply(gf)
					}
					rnnClip(gc, c.clip)
					gAct.apply(gc)
				}
				gf, gi = gf[:len(cb)], gi[:len(cb)]
				for j, cv := range cb {
					cb[j] = gf[j]*cv + gi[j]*gc[j]
				}
				if !fused {
					if peep != nil {
						for j, cv := range cb {
							gO[j] += po[j] * cv
						}
					}
					rnnClip(gO, c.clip)
					fAct.apply(gO)
				}
				// h(Ct) goes into gc, which is no longer needed.
				hAct.applyTo(gc, cb)
				gO = gO[:len(hb)]
				for j := range hb {
					hb[j] = gO[j] * gc[j]
				}
				if yd != nil {
					o := c.yOff(d, t, dir, b)
					copy(yd[o:o+H], hb)
				}
			}
		}
		c.storeState(yh, h, sl, dir, d)
		c.storeState(yc, cell, sl, dir, d)
	}
	return nil
}
