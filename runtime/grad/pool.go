package grad

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
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
// divisor (count_include_pad, ceil_mode). Both run on the kernels package's pooling loops
// (kernels.MaxPoolBackward, kernels.AveragePoolBackward), the planes split over the
// session's threads.
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
	xs, dy, dx := x.F32(), dOut[0].F32(), dIn[0].F32()
	if op.max {
		kernels.MaxPoolBackward(c.threads, &win.ConvGeometry, planes, xs, dy, dx)
	} else {
		kernels.AveragePoolBackward(c.threads, &win.ConvGeometry, win.padEnd, op.includePads, planes, dy, dx)
	}
	return nil
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
