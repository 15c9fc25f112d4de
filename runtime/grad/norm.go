package grad

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// batchNormGrad is the backward of BatchNormalization in inference mode with respect to X:
// Y = (X - mean)*scale/sqrt(var + epsilon) + B is affine in X, so dX = dY*scale/sqrt(var+eps)
// per channel (per element of a sample for opset 7's spatial=0). Training mode, where mean
// and var are statistics of X, has no backward here.
type batchNormGrad struct {
	epsilon float64
	perElem bool
}

func newBatchNormGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"X", "scale", "B", "input_mean", "input_var"}, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &batchNormGrad{epsilon: float64(a.Float("epsilon", 1e-5))}
	if n.Opset < 9 {
		op.perElem = !a.Flag("spatial", true)
	}
	if n.Opset >= 14 && a.Flag("training_mode", false) {
		return nil, nodeErrorf(n, "no gradient in training mode (training_mode 1), whose statistics depend on X; export the graph in inference mode")
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *batchNormGrad) backward(c *ctx, in, _, dOut, dIn []*tensor.Tensor) error {
	x, scale, variance := in[0], in[1], in[4]
	if x.Rank() < 2 {
		return fmt.Errorf("input \"X\": want rank 2 or more, got %d", x.Rank())
	}
	n, ch := x.Shape[0], x.Shape[1]
	spatial := 1
	for _, d := range x.Shape[2:] {
		spatial *= d
	}
	params := ch
	if op.perElem {
		params = ch * spatial
	}
	if scale.Len() != params || variance.Len() != params {
		return fmt.Errorf("inputs \"scale\" %v and \"input_var\" %v: want %d values", scale, variance, params)
	}
	dx, dy := dIn[0].F32(), dOut[0].F32()
	if op.perElem {
		size := ch * spatial
		for j := range size {
			a := float32(scale.Float64At(j) / math.Sqrt(variance.Float64At(j)+op.epsilon))
			for i := range n {
				dx[i*size+j] += a * dy[i*size+j]
			}
		}
		return nil
	}
	for i := range n {
		for k := range ch {
			a := float32(scale.Float64At(k) / math.Sqrt(variance.Float64At(k)+op.epsilon))
			off := (i*ch + k) * spatial
			d, g := dx[off:off+spatial], dy[off:off+spatial]
			for j := range d {
				d[j] += a * g[j]
			}
		}
	}
	return nil
}

// lrnGrad is the backward of LRN. With S_c = bias + alpha/size * sum of x_q² over the
// channel window of c, Y_c = x_c * S_c^-beta, so
//
//	dX_i = dY_i*S_i^-beta - 2*beta*alpha/size * x_i * sum over the c whose window holds i of dY_c*x_c*S_c^(-beta-1)
//
// The window of c is [c - floor((size-1)/2), c + ceil((size-1)/2)], so the c whose window
// holds i are [i - ceil((size-1)/2), i + floor((size-1)/2)]. Arithmetic in float64, as the
// forward.
type lrnGrad struct {
	alpha, beta, bias float64
	size              int
}

func newLRNGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"X"}, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &lrnGrad{alpha: float64(a.Float("alpha", 1e-4)), beta: float64(a.Float("beta", 0.75)),
		bias: float64(a.Float("bias", 1)), size: int(a.Int("size", 1))}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *lrnGrad) backward(c *ctx, in, _, dOut, dIn []*tensor.Tensor) error {
	x := in[0]
	if x.Rank() < 2 {
		return fmt.Errorf("input \"X\": want rank 2 or more, got %d", x.Rank())
	}
	n, ch := x.Shape[0], x.Shape[1]
	spatial := 1
	for _, d := range x.Shape[2:] {
		spatial *= d
	}
	before, after := (op.size-1)/2, op.size/2
	k := op.alpha / float64(op.size)
	xs, dx, dy := x.F32(), dIn[0].F32(), dOut[0].F32()
	// t_c = dY_c * x_c * S_c^(-beta-1), and S_c^-beta, one image at a time in scratch.
	buf := c.scratch(1, 2*ch*spatial)
	t, sb := buf[:ch*spatial], buf[ch*spatial:]
	for i := range n {
		img := xs[i*ch*spatial : (i+1)*ch*spatial]
		g := dy[i*ch*spatial : (i+1)*ch*spatial]
		d := dx[i*ch*spatial : (i+1)*ch*spatial]
		for cc := range ch {
			lo, hi := max(0, cc-before), min(ch-1, cc+after)
			for j := range spatial {
				var ss float64
				for q := lo; q <= hi; q++ {
					v := float64(img[q*spatial+j])
					ss += v * v
				}
				s := op.bias + k*ss
				p := math.Pow(s, -op.beta)
				sb[cc*spatial+j] = float32(p)
				t[cc*spatial+j] = float32(float64(g[cc*spatial+j]) * float64(img[cc*spatial+j]) * p / s)
			}
		}
		for ci := range ch {
			lo, hi := max(0, ci-after), min(ch-1, ci+before)
			for j := range spatial {
				var sum float64
				for q := lo; q <= hi; q++ {
					sum += float64(t[q*spatial+j])
				}
				xi := float64(img[ci*spatial+j])
				d[ci*spatial+j] += float32(float64(g[ci*spatial+j])*float64(sb[ci*spatial+j]) - 2*op.beta*k*xi*sum)
			}
		}
	}
	return nil
}

// softmaxGrad is the backward of Softmax and LogSoftmax along the forward's lines (the
// single axis from opset 13, the coerced 2-D rows before):
//
//	Softmax:    dX = y * (dY - sum(dY*y))
//	LogSoftmax: dX = dY - e^y * sum(dY)
type softmaxGrad struct {
	axis   int64
	legacy bool
	log    bool
}

func newSoftmaxGrad(log bool) Constructor {
	return func(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
		if err := frozen(n, diff, []string{"input"}, true); err != nil {
			return nil, err
		}
		a := onnx.NewAttrs(n.Proto)
		op := &softmaxGrad{legacy: n.Opset < 13, log: log}
		def := int64(-1)
		if op.legacy {
			def = 1
		}
		op.axis = a.Int("axis", def)
		if err := a.Err(); err != nil {
			return nil, err
		}
		return op, nil
	}
}

func (op *softmaxGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	y := out[0]
	r := int64(y.Rank())
	axis := op.axis
	if axis < -r || axis >= r {
		return fmt.Errorf("attribute \"axis\": %d is out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	outer, n, inner := 1, y.Shape[axis], 1
	for _, d := range y.Shape[:axis] {
		outer *= d
	}
	for _, d := range y.Shape[axis+1:] {
		inner *= d
	}
	if op.legacy {
		n, inner = n*inner, 1
	}
	ys, dx, dy := y.F32(), dIn[0].F32(), dOut[0].F32()
	for o := range outer {
		for i := range inner {
			base := o*n*inner + i
			var sum float64
			for j := range n {
				k := base + j*inner
				if op.log {
					sum += float64(dy[k])
				} else {
					sum += float64(dy[k]) * float64(ys[k])
				}
			}
			for j := range n {
				k := base + j*inner
				if op.log {
					dx[k] += float32(float64(dy[k]) - math.Exp(float64(ys[k]))*sum)
				} else {
					dx[k] += float32(float64(ys[k]) * (float64(dy[k]) - sum))
				}
			}
		}
	}
	return nil
}
