package grad

import (
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// poolGrad is the backward of MaxPool and AveragePool with respect to X.
//
// MaxPool routes each output's gradient to the input element it took: the arg-max is found
// again from X with the forward's rule (the first maximum in row-major tap order, a NaN
// winning over numbers), so nothing needs to be kept from the forward pass. AveragePool
// spreads each output's gradient evenly over the taps it averaged, with the forward's
// divisor (count_include_pad, ceil_mode).
type poolGrad struct {
	win         windowAttrs
	max         bool
	includePads bool
}

func newMaxPoolGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	return newPoolGrad(n, diff, true)
}

func newAveragePoolGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	return newPoolGrad(n, diff, false)
}

func newPoolGrad(n *engine.Node, diff []bool, isMax bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"X"}, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &poolGrad{win: readWindow(a, true), max: isMax}
	if !isMax {
		op.includePads = a.Flag("count_include_pad", false)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *poolGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x, y := in[0], out[0]
	if dOut[0] == nil {
		return nil
	}
	if x.Rank() != len(op.win.kernel)+2 {
		return fmt.Errorf("input \"X\": want rank %d, got %d", len(op.win.kernel)+2, x.Rank())
	}
	win := &c.pool
	var err error
	if *win, err = op.win.forward(x.Shape[2:], op.win.kernel); err != nil {
		return err
	}
	win.Channels = 1
	if !win.isOut(y.Shape, x.Shape[0], x.Shape[1]) {
		return fmt.Errorf("internal error: derived output shape %v, the forward computed %v", win.outShape(x.Shape[0], x.Shape[1]), y.Shape)
	}
	planes := x.Shape[0] * x.Shape[1]
	inVol, outVol := win.In[0]*win.In[1]*win.In[2], win.ColCols()
	xs, dy, dx := x.F32(), dOut[0].F32(), dIn[0].F32()
	if c.threads <= 1 || x.Len() < elemParallelMin { // direct call: no closure to allocate
		op.planes(win, xs, dy, dx, planes)
		return nil
	}
	parallelFor(c.threads, planes, func(lo, hi int) {
		// Planes [lo, hi) are independent: each reads and writes only its own part.
		op.planes(win, xs[lo*inVol:hi*inVol], dy[lo*outVol:hi*outVol], dx[lo*inVol:hi*inVol], hi-lo)
	})
	return nil
}

func (op *poolGrad) planes(win *window, x, dy, dx []float32, planes int) {
	if op.max {
		maxPoolBackward(win, x, dy, dx, planes)
	} else {
		averagePoolBackward(win, dy, dx, planes, op.includePads)
	}
}

func maxPoolBackward(win *window, x, dy, dx []float32, planes int) {
	inD, inH, inW := win.In[0], win.In[1], win.In[2]
	inVol := inD * inH * inW
	o := 0
	for p := range planes {
		src := x[p*inVol : (p+1)*inVol]
		dst := dx[p*inVol : (p+1)*inVol]
		for od := range win.Out[0] {
			d0, d1 := win.taps(0, od)
			startD := od*win.Stride[0] - win.Pad[0]
			for oh := range win.Out[1] {
				h0, h1 := win.taps(1, oh)
				startH := oh*win.Stride[1] - win.Pad[1]
				for ow := range win.Out[2] {
					w0, w1 := win.taps(2, ow)
					startW := ow*win.Stride[2] - win.Pad[2]
					best, at := float32(0), -1
					for td := d0; td < d1; td++ {
						id := startD + td*win.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := startH + th*win.Dilation[1]
							base := (id*inH + ih) * inW
							for tw := w0; tw < w1; tw++ {
								i := base + startW + tw*win.Dilation[2]
								v := src[i]
								if at < 0 || v > best || (v != v && best == best) {
									best, at = v, i
								}
							}
						}
					}
					if at >= 0 {
						dst[at] += dy[o]
					}
					o++
				}
			}
		}
	}
}

func averagePoolBackward(win *window, dy, dx []float32, planes int, includePads bool) {
	inD, inH, inW := win.In[0], win.In[1], win.In[2]
	inVol := inD * inH * inW
	o := 0
	for p := range planes {
		dst := dx[p*inVol : (p+1)*inVol]
		for od := range win.Out[0] {
			d0, d1 := win.taps(0, od)
			startD := od*win.Stride[0] - win.Pad[0]
			for oh := range win.Out[1] {
				h0, h1 := win.taps(1, oh)
				startH := oh*win.Stride[1] - win.Pad[1]
				for ow := range win.Out[2] {
					w0, w1 := win.taps(2, ow)
					startW := ow*win.Stride[2] - win.Pad[2]
					count := (d1 - d0) * (h1 - h0) * (w1 - w0)
					if includePads {
						count = win.paddedTaps(0, od) * win.paddedTaps(1, oh) * win.paddedTaps(2, ow)
					}
					if count == 0 {
						o++
						continue
					}
					g := dy[o] / float32(count)
					o++
					for td := d0; td < d1; td++ {
						id := startD + td*win.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := startH + th*win.Dilation[1]
							row := dst[(id*inH+ih)*inW : (id*inH+ih+1)*inW]
							for tw := w0; tw < w1; tw++ {
								row[startW+tw*win.Dilation[2]] += g
							}
						}
					}
				}
			}
		}
	}
}

// globalAveragePoolGrad: dX[n, c, ...] += dY[n, c] / (spatial size).
type globalAveragePoolGrad struct{}

func newGlobalAveragePoolGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"X"}, true); err != nil {
		return nil, err
	}
	return globalAveragePoolGrad{}, nil
}

func (globalAveragePoolGrad) backward(_ *ctx, in, _, dOut, dIn []*tensor.Tensor) error {
	x := in[0]
	if x.Rank() < 2 {
		return fmt.Errorf("input \"X\": want rank 2 or more, got %d", x.Rank())
	}
	planes := x.Shape[0] * x.Shape[1]
	if planes == 0 {
		return nil
	}
	size := x.Len() / planes
	dy, dx := dOut[0].F32(), dIn[0].F32()
	for p := range planes {
		g := dy[p] / float32(size)
		for i := range dx[p*size : (p+1)*size] {
			dx[p*size+i] += g
		}
	}
	return nil
}
