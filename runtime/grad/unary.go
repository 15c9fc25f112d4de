package grad

import (
	"fmt"
	"math"
	"sync"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// unaryGrad is the backward of an element-wise op y = f(x): dX[i] += dY[i] * f'(x[i]), with
// f' computed by fn from the input and the output (whichever is cheaper or more exact).
type unaryGrad struct {
	fn func(dx, dy, x, y []float32)
}

func (op unaryGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x, y := in[0], out[0]
	dx, dy := dIn[0], dOut[0]
	if dx.Len() != dy.Len() || x.Len() != dy.Len() || y.DType != tensor.Float32 {
		return fmt.Errorf("internal error: element-wise shapes differ: X %v, Y %v", x, y)
	}
	xs, ys, dxs, dys := x.F32(), y.F32(), dx.F32(), dy.F32()
	if c.threads <= 1 || len(dxs) < elemParallelMin { // direct call: no closure to allocate
		op.fn(dxs, dys, xs, ys)
		return nil
	}
	parallelFor(c.threads, len(dxs), func(lo, hi int) {
		op.fn(dxs[lo:hi], dys[lo:hi], xs[lo:hi], ys[lo:hi])
	})
	return nil
}

// elemParallelMin is the smallest element count parallelFor splits.
const elemParallelMin = 1 << 16

// parallelFor calls f on up to threads contiguous parts of [0, n) (the caller decides
// whether the work is worth splitting).
func parallelFor(threads, n int, f func(lo, hi int)) {
	threads = min(threads, n)
	if threads <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(threads - 1)
	for t := 1; t < threads; t++ {
		lo, hi := t*n/threads, (t+1)*n/threads
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	f(0, n/threads)
	wg.Wait()
}

// unary builds the constructor of an element-wise op whose only differentiable input is slot
// 0; mk reads the attributes and returns the derivative kernel.
func unary(mk func(a *onnx.Attrs) func(dx, dy, x, y []float32)) Constructor {
	return func(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
		if err := frozen(n, diff, []string{"X"}, true); err != nil {
			return nil, err
		}
		a := onnx.NewAttrs(n.Proto)
		fn := mk(a)
		if err := a.Err(); err != nil {
			return nil, err
		}
		return unaryGrad{fn: fn}, nil
	}
}

func fixed(fn func(dx, dy, x, y []float32)) Constructor {
	return unary(func(*onnx.Attrs) func(dx, dy, x, y []float32) { return fn })
}

// Relu: 1 where x > 0 (the subgradient 0 at x = 0, as PyTorch and TensorFlow). Branch-free:
// the signs of a conv net's pre-activations are random, so a branch mispredicts half the
// time. As int32, the bits of a float32 are positive exactly when the float is > 0 (or a
// positive NaN, whose gradient is NaN anyway); the mask keeps dY there and zeroes it elsewhere.
func reluGrad(dx, dy, x, _ []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		mask := uint32(-int64(int32(math.Float32bits(v))) >> 63)
		dx[i] += math.Float32frombits(math.Float32bits(dy[i]) & mask)
	}
}

// LeakyRelu: alpha where x < 0, else 1 (the forward scales where x < 0).
func leakyReluGrad(a *onnx.Attrs) func(dx, dy, x, y []float32) {
	alpha := a.Float("alpha", 0.01)
	return func(dx, dy, x, _ []float32) {
		for i, v := range x {
			if v < 0 {
				dx[i] += alpha * dy[i]
			} else {
				dx[i] += dy[i]
			}
		}
	}
}

// Sigmoid: y(1-y).
func sigmoidGrad(dx, dy, _, y []float32) {
	for i, s := range y {
		dx[i] += dy[i] * s * (1 - s)
	}
}

// Tanh: 1-y².
func tanhGrad(dx, dy, _, y []float32) {
	for i, t := range y {
		dx[i] += dy[i] * (1 - t*t)
	}
}

// Identity, Dropout (inference: the forward copies X), Reshape, Flatten, Squeeze,
// Unsqueeze: the gradient is dY in X's shape.
func passGrad(dx, dy, _, _ []float32) {
	for i, g := range dy {
		dx[i] += g
	}
}

func negGrad(dx, dy, _, _ []float32) {
	for i, g := range dy {
		dx[i] -= g
	}
}

// Exp: y.
func expGrad(dx, dy, _, y []float32) {
	for i, e := range y {
		dx[i] += dy[i] * e
	}
}

// Log: 1/x.
func logGrad(dx, dy, x, _ []float32) {
	for i, v := range x {
		dx[i] += dy[i] / v
	}
}

// Sqrt: 1/(2y).
func sqrtGrad(dx, dy, _, y []float32) {
	for i, s := range y {
		dx[i] += dy[i] / (2 * s)
	}
}

// Elu: 1 for x >= 0, y + alpha below (the forward uses alpha*(e^x-1) where x < 0).
func eluGrad(a *onnx.Attrs) func(dx, dy, x, y []float32) {
	alpha := a.Float("alpha", 1)
	return func(dx, dy, x, y []float32) {
		for i, v := range x {
			if v < 0 {
				dx[i] += dy[i] * (y[i] + alpha)
			} else {
				dx[i] += dy[i]
			}
		}
	}
}

// Selu: gamma for x > 0, y + gamma*alpha for x <= 0.
func seluGrad(a *onnx.Attrs) func(dx, dy, x, y []float32) {
	alpha := float64(a.Float("alpha", 1.67326319217681884765625))
	gamma := float64(a.Float("gamma", 1.05070102214813232421875))
	ga := float32(gamma * alpha)
	g := float32(gamma)
	return func(dx, dy, x, y []float32) {
		for i, v := range x {
			if v <= 0 {
				dx[i] += dy[i] * (y[i] + ga)
			} else {
				dx[i] += dy[i] * g
			}
		}
	}
}

// clipGrad is the backward of Clip: dY passes where min <= x <= max (PyTorch's convention at
// the bounds) and is 0 elsewhere; with min > max every element is max and nothing passes.
// The bounds are attributes before opset 11 and optional scalar inputs after; they are never
// differentiated.
type clipGrad struct {
	fromAttrs bool
	lo, hi    float32
}

func newClipGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"input", "min", "max"}, true); err != nil {
		return nil, err
	}
	op := &clipGrad{fromAttrs: n.Opset < 11, lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	if op.fromAttrs {
		a := onnx.NewAttrs(n.Proto)
		op.lo, op.hi = a.Float("min", -math.MaxFloat32), a.Float("max", math.MaxFloat32)
		if err := a.Err(); err != nil {
			return nil, err
		}
	}
	return op, nil
}

func (op *clipGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	lo, hi := op.lo, op.hi
	if !op.fromAttrs {
		for i := 1; i <= 2 && i < len(in); i++ {
			b := in[i]
			if b == nil {
				continue
			}
			if b.DType != tensor.Float32 || b.Len() != 1 {
				return fmt.Errorf("input %d: want a float32 scalar bound, got %v", i, b)
			}
			if i == 1 {
				lo = b.F32()[0]
			} else {
				hi = b.F32()[0]
			}
		}
	}
	x, dx, dy := in[0].F32(), dIn[0].F32(), dOut[0].F32()
	threads := c.threads
	if len(dx) < elemParallelMin {
		threads = 1
	}
	parallelFor(threads, len(dx), func(a, b int) {
		for i := a; i < b; i++ {
			if v := x[i]; v >= lo && v <= hi {
				dx[i] += dy[i]
			}
		}
	})
	return nil
}

// dropoutGrad: the forward succeeds only in inference (or with ratio 0), where Y is X.
func newDropoutGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"data", "ratio", "training_mode"}, true); err != nil {
		return nil, err
	}
	return unaryGrad{fn: passGrad}, nil
}

// shapeOnly builds the backward of ops that only change the shape (Reshape, Flatten, Squeeze,
// Unsqueeze, Identity): their other inputs (shape, axes) are integers.
func shapeOnly(names ...string) Constructor {
	return func(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
		if err := frozen(n, diff, names, true); err != nil {
			return nil, err
		}
		return unaryGrad{fn: passGrad}, nil
	}
}
