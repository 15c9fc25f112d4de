package ops

// GRU: a one-layer gated recurrent unit (ONNX opsets 7 and 14 — 14 added the layout
// attribute; float32). The shared conventions (directions, sequence_lens, clip,
// activations) are described in recurrent.go.

import (
	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// gru computes, per direction and time step t, with f, g the direction's two activations
// (default Sigmoid, Tanh) and gate blocks stacked z, r, h:
//
//	z = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz)
//	r = f(Xt·Wrᵀ + Ht-1·Rrᵀ + Wbr + Rbr)
//	h = g(Xt·Whᵀ + (r⊙Ht-1)·Rhᵀ + Rbh + Wbh)        linear_before_reset = 0
//	h = g(Xt·Whᵀ + r⊙(Ht-1·Rhᵀ + Rbh) + Wbh)        linear_before_reset != 0
//	Ht = (1-z)⊙h + z⊙Ht-1
//
// Inputs: X, W, R, B, sequence_lens, initial_h. Outputs: Y, Y_h, each optional.
type gru struct {
	rec               recurrent
	linearBeforeReset bool
}

func newGRU(n *Node) (Op, error) {
	if err := n.CheckArity(3, 6, 0, 2); err != nil {
		return nil, err
	}
	rec, err := newRecurrent(n, 3, []string{"Sigmoid", "Tanh"})
	if err != nil {
		return nil, err
	}
	op := &gru{rec: rec, linearBeforeReset: n.Attrs.Int("linear_before_reset", 0) != 0}
	if err := rec.checkConstWeights(n); err != nil {
		return nil, err
	}
	return op, nil
}

// Infer checks what is known of the inputs; Y and Y_h are float32 with the sizes known.
func (op *gru) Infer(in []Type) ([]Type, error) { return op.rec.infer(in) }

// GRU scratch buffers (ctx.Float32s indices).
const (
	gruScratchXW    = iota // [seq*batch, 3H]: input projection of one direction
	gruScratchGates        // [batch, 3H]: recurrent projections of one step
	gruScratchH            // [batch, H]: hidden state
	gruScratchRH           // [batch, H]: r⊙Ht-1 (linear_before_reset = 0)
)

func (op *gru) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
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
	if B == 0 {
		return nil // every output is empty (and gates[2*H:] below would be out of range)
	}
	g3 := 3 * H
	keepRb := 0
	if op.linearBeforeReset {
		keepRb = 1 // Rbh is added before the product with r
	}
	xw := ctx.Float32s(gruScratchXW, d.seq*B*g3)
	gates := ctx.Float32s(gruScratchGates, B*g3)
	h := ctx.Float32s(gruScratchH, B*H)
	rh := ctx.Float32s(gruScratchRH, B*H)
	steps := maxSeqLen(sl, d)
	for dir := range c.dirs {
		c.project(xw, in, dir, d, keepRb)
		c.loadState(h, rnnInput(in, 5), dir, d)
		rd := in[2].F32()[dir*g3*H : (dir+1)*g3*H]
		var rbh []float32 // Rbh, for linear_before_reset
		if b := rnnInput(in, 3); b != nil && op.linearBeforeReset {
			rbh = b.F32()[dir*2*g3+g3+2*H : (dir+1)*2*g3]
		}
		fAct, gAct := c.act(dir, 0), c.act(dir, 1)
		for s := range steps {
			// The z and r blocks (and the h block too when linear_before_reset):
			// gates[:, :n] = H [batch, H] · R[dir][:n]ᵀ [H, n]
			n := 2 * H
			if op.linearBeforeReset {
				n = g3
			}
			kernels.Sgemm(false, true, B, n, H, 1, h, max(H, 1), rd, max(H, 1), 0, gates, max(g3, 1))
			for b := range B {
				t, ok := c.stepTime(d, sl, dir, s, b)
				if !ok {
					continue
				}
				g := gates[b*g3 : (b+1)*g3]
				xr := xw[c.xRow(d, t, b)*g3:]
				gzr := g[:2*H]
				for j := range gzr {
					gzr[j] += xr[j]
				}
				rnnClip(gzr, c.clip)
				fAct.apply(gzr)
				if !op.linearBeforeReset {
					gr, hb := g[H:2*H], h[b*H:(b+1)*H]
					rb := rh[b*H : (b+1)*H]
					for j := range rb {
						rb[j] = gr[j] * hb[j]
					}
				}
			}
			if !op.linearBeforeReset {
				// gates[:, 2H:] = (r⊙H) [batch, H] · Rh[dir]ᵀ [H, H]
				kernels.Sgemm(false, true, B, H, H, 1, rh, max(H, 1), rd[2*H*H:], max(H, 1), 0, gates[2*H:], max(g3, 1))
			}
			for b := range B {
				t, ok := c.stepTime(d, sl, dir, s, b)
				if !ok {
					continue
				}
				g := gates[b*g3 : (b+1)*g3]
				xh := xw[c.xRow(d, t, b)*g3+2*H:]
				gz, gr, gh := g[:H], g[H:2*H], g[2*H:]
				if op.linearBeforeReset {
					for j := range gh {
						rec := gh[j]
						if rbh != nil {
							rec += rbh[j]
						}
						gh[j] = xh[j] + gr[j]*rec
					}
				} else {
					for j := range gh {
						gh[j] += xh[j]
					}
				}
				rnnClip(gh, c.clip)
				gAct.apply(gh)
				hb := h[b*H : (b+1)*H]
				for j := range hb {
					hb[j] = (1-gz[j])*gh[j] + gz[j]*hb[j]
				}
				if yd != nil {
					o := c.yOff(d, t, dir, b)
					copy(yd[o:o+H], hb)
				}
			}
		}
		c.storeState(yh, h, sl, dir, d)
	}
	return nil
}
