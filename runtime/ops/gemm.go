package ops

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// Gemm is Y = alpha*A'*B' + beta*C, where A' is A or its transpose (transA) and B' likewise
// (opset 7, 9, 11, 13; float32 through kernels.Sgemm, float64). A' is M×K, B' is K×N and C
// broadcasts unidirectionally to M×N (a scalar, a row [N], a column [M, 1], or the full
// matrix). C is required before opset 11 and optional from 11; alpha and beta default to 1.
type gemm struct {
	transA, transB bool
	alpha, beta    float32
}

func newGemm(n *Node) (Op, error) {
	minIn := 3
	if n.Opset >= 11 {
		minIn = 2
	}
	if err := n.CheckArity(minIn, 3, 1, 1); err != nil {
		return nil, err
	}
	return gemm{
		transA: n.Attrs.Int("transA", 0) != 0,
		transB: n.Attrs.Int("transB", 0) != 0,
		alpha:  n.Attrs.Float("alpha", 1),
		beta:   n.Attrs.Float("beta", 1),
	}, nil
}

func (op gemm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, b, c := in[0], in[1], optionalInput(in, 2)
	if a.Rank() != 2 {
		return fmt.Errorf("input \"A\": want rank 2, got rank %d", a.Rank())
	}
	if b.Rank() != 2 {
		return fmt.Errorf("input \"B\": want rank 2, got rank %d", b.Rank())
	}
	if b.DType != a.DType {
		return fmt.Errorf("input \"B\" is %v but input \"A\" is %v: want the same dtype", b.DType, a.DType)
	}
	m, k := a.Shape[0], a.Shape[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if op.transB {
		kb, n = n, kb
	}
	if kb != k {
		return fmt.Errorf("inputs \"A\" %s and \"B\" %s: inner dimensions differ (%d and %d) with transA=%v, transB=%v",
			tensor.ShapeString(a.Shape), tensor.ShapeString(b.Shape), k, kb, op.transA, op.transB)
	}
	shape := []int{m, n}
	useC := c != nil && op.beta != 0
	if c != nil {
		if c.DType != a.DType {
			return fmt.Errorf("input \"C\" is %v but input \"A\" is %v: want the same dtype", c.DType, a.DType)
		}
		if bs, err := broadcastShape([]string{"C", "Y"}, c.Shape, shape); err != nil || !tensor.SameShape(bs, shape) {
			return fmt.Errorf("input \"C\" %s does not broadcast to the output's shape %s", tensor.ShapeString(c.Shape), tensor.ShapeString(shape))
		}
	}
	y := out[0]
	switch a.DType {
	case tensor.Float32:
		y.Reset(tensor.Float32, shape)
		beta := float32(0)
		if useC {
			bcast1(newBcastPlan(shape, c.Shape), y.F32(), c.F32(), copyRun[float32])
			beta = op.beta
		}
		// Row strides of A and B as stored; Sgemm wants at least 1 even when K is 0.
		lda, ldb := max(a.Shape[1], 1), max(b.Shape[1], 1)
		sgemmThreads(ctx.Threads, op.transA, op.transB, m, n, k, op.alpha, a.F32(), lda, b.F32(), ldb, beta, y.F32(), n)
	case tensor.Float64:
		y.Reset(tensor.Float64, shape)
		dst := y.F64()
		if useC {
			bcast1(newBcastPlan(shape, c.Shape), dst, c.F64(), copyRun[float64])
		} else {
			clear(dst)
		}
		beta := 0.0
		if useC {
			beta = float64(op.beta)
		}
		gemmNaive(op.transA, op.transB, m, n, k, float64(op.alpha), a.F64(), b.F64(), beta, dst)
	default:
		return fmt.Errorf("input \"A\": dtype %v is not supported", a.DType)
	}
	return nil
}

// gemmNaive computes c = alpha*op(a)*op(b) + beta*c for row-major, densely stored matrices:
// op(a) is m×k and op(b) is k×n. When beta is 0, c is not read.
func gemmNaive[T numericElem](transA, transB bool, m, n, k int, alpha T, a, b []T, beta T, c []T) {
	for i := range m {
		for j := range n {
			var s T
			for p := range k {
				ai, bi := i*k+p, p*n+j
				if transA {
					ai = p*m + i
				}
				if transB {
					bi = j*k + p
				}
				s += a[ai] * b[bi]
			}
			if beta == 0 {
				c[i*n+j] = alpha * s
			} else {
				c[i*n+j] = alpha*s + beta*c[i*n+j]
			}
		}
	}
}

func (op gemm) Infer(in []Type) ([]Type, error) {
	a, b := in[0], in[1]
	dt, err := sameDType([]string{"A", "B", "C"}, in...)
	if err != nil {
		return nil, err
	}
	if err := CheckDType("A", Type{DType: dt}, tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	if err := CheckRank("A", a, 2); err != nil {
		return nil, err
	}
	if err := CheckRank("B", b, 2); err != nil {
		return nil, err
	}
	m, k, kb, n := -1, -1, -1, -1
	if a.Ranked {
		m, k = a.Shape[0], a.Shape[1]
		if op.transA {
			m, k = k, m
		}
	}
	if b.Ranked {
		kb, n = b.Shape[0], b.Shape[1]
		if op.transB {
			kb, n = n, kb
		}
	}
	if k >= 0 && kb >= 0 && k != kb {
		return nil, fmt.Errorf("inputs \"A\" %v and \"B\" %v: inner dimensions differ (%d and %d) with transA=%v, transB=%v", a, b, k, kb, op.transA, op.transB)
	}
	shape := []int{m, n}
	if len(in) > 2 && in[2].Ranked {
		// C broadcasts unidirectionally to [M, N]: rank 2 at most, each known dimension 1 or
		// the output's.
		c := in[2]
		ok := len(c.Shape) <= 2
		for i, d := range c.Shape {
			if o := shape[max(0, 2-len(c.Shape)+i)]; ok && d >= 0 && d != 1 && o >= 0 && d != o {
				ok = false
			}
		}
		if !ok {
			return nil, fmt.Errorf("input \"C\" %v does not broadcast to the output's shape %v", c, Type{Shape: shape, Ranked: true})
		}
	}
	return []Type{{DType: dt, Shape: shape, Ranked: true}}, nil
}

// sgemmThreads is kernels.Sgemm on a thread budget: kernels.SgemmParallel when threads > 1
// (bitwise the same result), the single-goroutine kernels.Sgemm otherwise. The float32
// products of Conv, ConvTranspose, Gemm, MatMul and the recurrent ops' input projection go
// through it with the session's Ctx.Threads.
func sgemmThreads(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if threads > 1 {
		kernels.SgemmParallel(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
