package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
)

// buildReference lays out the unrolled graph of Gorgonia's own ops (Options.Reference):
// the first implementation of this package, kept as an independent check of the fused ops
// (its gradients are Gorgonia's symbolic ones) and as a benchmark of Gorgonia's BLAS.
//
// Activations are column-major per batch: a hidden state is [H, B], so each gate is a
// contiguous row block of the fused [4H, B] pre-activation and the ONNX-layout weights
// multiply from the left without a transpose:
//
//	x_t:   layer 0: B characters, one-hot [V, B]; W·x_t = W[:, x_t] (gatherCols)
//	       above: the lower layer's h_t, [H, B]
//	gates: [4H, B] = W·x_t + R·h_{t-1} + (Wb + Rb)   blocks i, o, f, c (rows)
//	h_t:   [H, B]
//	logits [V, B] (next) or [V, T·B] (shifted, column t·B+n) = Wd·h + bd
//
// The targets are one-hot columns (Y), the loss -Σ Y⊙LogSoftMax(logits).
func (n *Net) buildReference() error {
	cfg, B, dt := n.Cfg, n.Opt.Batch, n.dt
	V, H, T := cfg.VocabSize(), cfg.Hidden, cfg.MaxLen
	ny := len(n.yidx)
	n.ybuf = tensor.New(tensor.Of(dt), tensor.WithShape(V, ny))
	n.Y = G.NewMatrix(n.g, dt, G.WithShape(V, ny), G.WithName("y"), G.WithValue(n.ybuf))

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
		if n.probs, err = G.Exp(logp); err != nil {
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
	n.Sum, err = G.Neg(s)
	return err
}
