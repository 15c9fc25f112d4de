package grad

import (
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// walk visits the elements of a tensor of shape out together with the elements of tensors
// of shapes a and b that numpy broadcasting maps onto them, one innermost row at a time:
// f(o, ia, ib, n, sa, sb) covers out elements [o, o+n), which read a at ia + j*sa and b at
// ib + j*sb for j < n (a stride is 0 along a broadcast dimension). a and b must broadcast to
// out. Consecutive dimensions are merged where every operand allows it, so a same-shape or
// bias-like broadcast is a few long rows.
func walk(out, a, b []int, f func(o, ia, ib, n, sa, sb int)) {
	r := len(out)
	// Aligned strides: 0 where the operand is broadcast.
	var sbuf [3][8]int
	var dbuf [8]int
	sa, sb, dims := sbuf[0][:0], sbuf[1][:0], dbuf[:0]
	stA, stB := alignedStrides(a, r), alignedStrides(b, r)
	for d := range r {
		n := out[d]
		if n == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && sa[k] == stA[d]*n && sb[k] == stB[d]*n {
			// Merge with the previous dimension (also when both operands broadcast both).
			dims[k] *= n
			sa[k], sb[k] = stA[d], stB[d]
			continue
		}
		dims = append(dims, n)
		sa = append(sa, stA[d])
		sb = append(sb, stB[d])
	}
	total := tensor.Numel(out)
	if total == 0 {
		return
	}
	if len(dims) == 0 {
		f(0, 0, 0, 1, 0, 0)
		return
	}
	last := len(dims) - 1
	inner := dims[last]
	var ibuf [8]int
	idx := ibuf[:0]
	for range last {
		idx = append(idx, 0)
	}
	o, ia, ib := 0, 0, 0
	for o < total {
		f(o, ia, ib, inner, sa[last], sb[last])
		o += inner
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < dims[d] {
				break
			}
			ia -= sa[d] * dims[d]
			ib -= sb[d] * dims[d]
			idx[d] = 0
		}
	}
}

// alignedStrides returns the row-major strides of shape s aligned to rank r (right-aligned),
// with 0 for the dimensions it lacks or has as 1.
func alignedStrides(s []int, r int) []int {
	st := make([]int, r)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[r-len(s)+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// binaryGrad is the backward of the broadcasting arithmetic ops Add, Sub, Mul and Div
// (Y = A op B): the gradient of each operand is the element-wise derivative times dY, summed
// over the dimensions along which the operand was broadcast.
//
//	Add: dA = dY, dB = dY    Sub: dA = dY, dB = -dY
//	Mul: dA = dY*B, dB = dY*A    Div: dA = dY/B, dB = -dY*Y/B
type binaryGrad struct{ kind byte }

func newBinaryGrad(kind byte) Constructor {
	return func(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
		if err := frozen(n, diff, []string{"A", "B"}, true, true); err != nil {
			return nil, err
		}
		return binaryGrad{kind: kind}, nil
	}
}

func (op binaryGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	a, b, y := in[0], in[1], out[0]
	if a.DType != tensor.Float32 || b.DType != tensor.Float32 {
		return fmt.Errorf("inputs \"A\" %v and \"B\" %v: want float32", a, b)
	}
	as, bs, ys, dy := a.F32(), b.F32(), y.F32(), dOut[0].F32()
	var da, db []float32
	if dIn[0] != nil {
		da = dIn[0].F32()
	}
	if dIn[1] != nil {
		db = dIn[1].F32()
	}
	walk(y.Shape, a.Shape, b.Shape, func(o, ia, ib, n, sa, sb int) {
		g := dy[o : o+n]
		if da != nil {
			switch op.kind {
			case '+', '-':
				accum(da, ia, sa, g)
			case '*':
				for j, v := range g {
					da[ia+j*sa] += v * bs[ib+j*sb]
				}
			case '/':
				for j, v := range g {
					da[ia+j*sa] += v / bs[ib+j*sb]
				}
			}
		}
		if db != nil {
			switch op.kind {
			case '+':
				accum(db, ib, sb, g)
			case '-':
				for j, v := range g {
					db[ib+j*sb] -= v
				}
			case '*':
				for j, v := range g {
					db[ib+j*sb] += v * as[ia+j*sa]
				}
			case '/':
				for j, v := range g {
					db[ib+j*sb] -= v * ys[o+j] / bs[ib+j*sb]
				}
			}
		}
	})
	return nil
}

// accum adds g[j] into d[i + j*s] (s is 0 or 1 in practice: 0 sums the row into one element).
func accum(d []float32, i, s int, g []float32) {
	switch s {
	case 1:
		d = d[i : i+len(g)]
		for j, v := range g {
			d[j] += v
		}
	case 0:
		var sum float32
		for _, v := range g {
			sum += v
		}
		d[i] += sum
	default:
		for j, v := range g {
			d[i+j*s] += v
		}
	}
}

// gemmGrad is the backward of Gemm, Y = alpha*A'*B' + beta*C with A' = A or Aᵀ (transA), B'
// likewise: dA' = alpha*dY*B'ᵀ, dB' = alpha*A'ᵀ*dY (transposed back when the operand is
// stored transposed), and dC = beta*dY summed over C's broadcast dimensions.
type gemmGrad struct {
	transA, transB bool
	alpha, beta    float32
}

func newGemmGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"A", "B", "C"}, true, true, true); err != nil {
		return nil, err
	}
	a := onnx.NewAttrs(n.Proto)
	op := &gemmGrad{transA: a.Int("transA", 0) != 0, transB: a.Int("transB", 0) != 0,
		alpha: a.Float("alpha", 1), beta: a.Float("beta", 1)}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *gemmGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.Rank() != 2 || b.Rank() != 2 || a.DType != tensor.Float32 || b.DType != tensor.Float32 {
		return fmt.Errorf("inputs \"A\" %v and \"B\" %v: want float32 matrices", a, b)
	}
	m, k := a.Shape[0], a.Shape[1]
	if op.transA {
		m, k = k, m
	}
	n := out[0].Shape[1]
	dy, as, bs := dOut[0].F32(), a.F32(), b.F32()
	ldA, ldB := max(a.Shape[1], 1), max(b.Shape[1], 1)
	t := c.threads
	if dIn[0] != nil {
		da := dIn[0].F32()
		if !op.transA { // dA [m, k] += alpha * dY [m, n] × B'ᵀ
			sgemm(t, false, !op.transB, m, k, n, op.alpha, dy, max(n, 1), bs, ldB, 1, da, max(k, 1))
		} else { // dA [k, m] += alpha * B' [k, n] × dYᵀ
			sgemm(t, op.transB, true, k, m, n, op.alpha, bs, ldB, dy, max(n, 1), 1, da, max(m, 1))
		}
	}
	if dIn[1] != nil {
		db := dIn[1].F32()
		if !op.transB { // dB [k, n] += alpha * A'ᵀ × dY
			sgemm(t, !op.transA, false, k, n, m, op.alpha, as, ldA, dy, max(n, 1), 1, db, max(n, 1))
		} else { // dB [n, k] += alpha * dYᵀ × A'
			sgemm(t, true, op.transA, n, k, m, op.alpha, dy, max(n, 1), as, ldA, 1, db, max(k, 1))
		}
	}
	if len(dIn) > 2 && dIn[2] != nil && op.beta != 0 {
		dc := dIn[2].F32()
		beta := op.beta
		walk(out[0].Shape, in[2].Shape, nil, func(o, ic, _, cnt, sc, _ int) {
			for j, v := range dy[o : o+cnt] {
				dc[ic+j*sc] += beta * v
			}
		})
	}
	return nil
}

// matMulGrad is the backward of MatMul (numpy.matmul: batch dimensions broadcast, a 1-D A is
// a row [1, K] and a 1-D B a column [K, 1]): per batch element dA += dY×Bᵀ and dB += Aᵀ×dY,
// summed over the batch elements an operand was broadcast to.
type matMulGrad struct{}

func newMatMulGrad(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
	if err := frozen(n, diff, []string{"A", "B"}, true, true); err != nil {
		return nil, err
	}
	return matMulGrad{}, nil
}

func (matMulGrad) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.Rank() == 0 || b.Rank() == 0 || a.DType != tensor.Float32 || b.DType != tensor.Float32 {
		return fmt.Errorf("inputs \"A\" %v and \"B\" %v: want float32 tensors of rank 1 or more", a, b)
	}
	m, k := 1, a.Shape[a.Rank()-1]
	var aBatch, bBatch []int
	if a.Rank() >= 2 {
		m = a.Shape[a.Rank()-2]
		aBatch = a.Shape[:a.Rank()-2]
	}
	n := 1
	if b.Rank() >= 2 {
		n = b.Shape[b.Rank()-1]
		bBatch = b.Shape[:b.Rank()-2]
	}
	outBatch := out[0].Shape[:max(0, out[0].Rank()-(min(a.Rank(), 2)-1)-(min(b.Rank(), 2)-1))]
	dy, as, bs := dOut[0].F32(), a.F32(), b.F32()
	var da, db []float32
	if dIn[0] != nil {
		da = dIn[0].F32()
	}
	if dIn[1] != nil {
		db = dIn[1].F32()
	}
	t := c.threads
	walk(outBatch, aBatch, bBatch, func(o, ia, ib, cnt, sa, sb int) {
		for j := range cnt {
			y := dy[(o+j)*m*n:]
			pa, pb := (ia+j*sa)*m*k, (ib+j*sb)*k*n
			if da != nil { // dA [m, k] += dY [m, n] × Bᵀ
				sgemm(t, false, true, m, k, n, 1, y, max(n, 1), bs[pb:], max(n, 1), 1, da[pa:], max(k, 1))
			}
			if db != nil { // dB [k, n] += Aᵀ × dY
				sgemm(t, true, false, k, n, m, 1, as[pa:], max(k, 1), y, max(n, 1), 1, db[pb:], max(n, 1))
			}
		}
	})
	return nil
}

// reduceGrad is the backward of ReduceSum and ReduceMean: every input element receives the
// gradient of the output element it was folded into (divided by the count for the mean).
// The axes are an attribute before opset 13 (ReduceSum) or 18 (ReduceMean) and an optional
// input after, with noop_with_empty_axes.
type reduceGrad struct {
	mean      bool
	axesInput bool
	axes      []int64
	noopEmpty bool
}

func newReduceGrad(mean bool) Constructor {
	return func(n *engine.Node, _ *engine.Plan, diff []bool) (gradOp, error) {
		if err := frozen(n, diff, []string{"data", "axes"}, true); err != nil {
			return nil, err
		}
		since := int64(13)
		if mean {
			since = 18
		}
		a := onnx.NewAttrs(n.Proto)
		op := &reduceGrad{mean: mean, axesInput: n.Opset >= since}
		if op.axesInput {
			op.noopEmpty = a.Int("noop_with_empty_axes", 0) != 0
		} else {
			op.axes = a.Ints("axes", nil)
		}
		if err := a.Err(); err != nil {
			return nil, err
		}
		return op, nil
	}
}

func (op *reduceGrad) backward(_ *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	x := in[0]
	axes := op.axes
	if op.axesInput && len(in) > 1 && in[1] != nil {
		v, err := in[1].Int64s()
		if err != nil {
			return fmt.Errorf("input \"axes\": %w", err)
		}
		axes = v
	}
	dx, dy := dIn[0].F32(), dOut[0].F32()
	if len(axes) == 0 && op.noopEmpty {
		for i, g := range dy {
			dx[i] += g
		}
		return nil
	}
	r := x.Rank()
	kept := append([]int{}, x.Shape...)
	if len(axes) == 0 {
		for i := range kept {
			kept[i] = 1
		}
	}
	for _, ax := range axes {
		if ax < 0 {
			ax += int64(r)
		}
		if ax < 0 || ax >= int64(r) {
			return fmt.Errorf("axis %d is out of range for rank %d", ax, r)
		}
		kept[ax] = 1
	}
	if tensor.Numel(kept) != len(dy) {
		return fmt.Errorf("internal error: reduced shape %v does not match the output %v", kept, out[0].Shape)
	}
	scale := float32(1)
	if op.mean && len(dy) > 0 {
		scale = float32(float64(len(dy)) / float64(x.Len()))
	}
	walk(x.Shape, kept, nil, func(o, ik, _, cnt, sk, _ int) {
		for j := range cnt {
			dx[o+j] += scale * dy[ik+j*sk]
		}
	})
	return nil
}
