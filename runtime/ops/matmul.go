package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// MatMul is the matrix product with numpy.matmul semantics (opset 1, 9, 13; float32 through
// kernels.Sgemm, float64, int64, int32): the last two dimensions are matrices and the leading
// ones a batch that broadcasts multidirectionally; a 1-D A is a row vector [1, K] and a 1-D B
// a column vector [K, 1], whose unit dimension is removed from the output.
type matMul struct{}

func newMatMul(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return matMul{}, nil
}

// matMulShapes is the geometry of one MatMul.
type matMulShapes struct {
	m, k, n        int
	batch          []int // broadcast batch shape
	aBatch, bBatch []int // the inputs' batch shapes
	out            []int
}

func matMulGeometry(a, b []int) (matMulShapes, error) {
	var g matMulShapes
	if len(a) == 0 || len(b) == 0 {
		return g, fmt.Errorf("inputs \"A\" %s and \"B\" %s: want rank 1 or more", tensor.ShapeString(a), tensor.ShapeString(b))
	}
	am, ak := 1, a[len(a)-1]
	if len(a) >= 2 {
		am = a[len(a)-2]
		g.aBatch = a[:len(a)-2]
	}
	bk, bn := b[0], 1
	if len(b) >= 2 {
		bk, bn = b[len(b)-2], b[len(b)-1]
		g.bBatch = b[:len(b)-2]
	}
	if ak != bk {
		return g, fmt.Errorf("inputs \"A\" %s and \"B\" %s: inner dimensions differ (%d and %d)",
			tensor.ShapeString(a), tensor.ShapeString(b), ak, bk)
	}
	g.m, g.k, g.n = am, ak, bn
	batch, err := broadcastShape([]string{"A (batch dimensions)", "B (batch dimensions)"}, g.aBatch, g.bBatch)
	if err != nil {
		return g, err
	}
	g.batch = batch
	g.out = append([]int{}, batch...)
	if len(a) >= 2 {
		g.out = append(g.out, am)
	}
	if len(b) >= 2 {
		g.out = append(g.out, bn)
	}
	return g, nil
}

func (matMul) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return fmt.Errorf("input \"A\" is %v but input \"B\" is %v: want the same dtype", a.DType, b.DType)
	}
	g, err := matMulGeometry(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	y := out[0]
	switch a.DType {
	case tensor.Float32:
		y.Reset(a.DType, g.out)
		threads := ctx.Threads
		matMulBatches(g, y.F32(), a.F32(), b.F32(), func(m, n, k int, a, b, c []float32) { sgemmPlain(threads, m, n, k, a, b, c) })
	case tensor.Float64:
		y.Reset(a.DType, g.out)
		matMulBatches(g, y.F64(), a.F64(), b.F64(), gemmPlain[float64])
	case tensor.Int64:
		y.Reset(a.DType, g.out)
		matMulBatches(g, y.I64(), a.I64(), b.I64(), gemmPlain[int64])
	case tensor.Int32:
		y.Reset(a.DType, g.out)
		matMulBatches(g, y.I32(), a.I32(), b.I32(), gemmPlain[int32])
	default:
		return fmt.Errorf("input \"A\": dtype %v is not supported", a.DType)
	}
	return nil
}

// sgemmPlain is c = a*b for dense row-major m×k and k×n float32 matrices, on threads
// goroutines.
func sgemmPlain(threads, m, n, k int, a, b, c []float32) {
	// Sgemm wants row strides of at least 1 even when k is 0 (it returns before reading them
	// when m or n is 0).
	sgemmThreads(threads, false, false, m, n, k, 1, a, max(k, 1), b, n, 0, c, n)
}

// gemmPlain is c = a*b for dense row-major m×k and k×n matrices.
func gemmPlain[T numericElem](m, n, k int, a, b, c []T) {
	gemmNaive(false, false, m, n, k, 1, a, b, 0, c)
}

// matMulBatches runs one matrix product per batch element, with the batch broadcast.
func matMulBatches[T any](g matMulShapes, c, a, b []T, mm func(m, n, k int, a, b, c []T)) {
	sa, sb, sc := g.m*g.k, g.k*g.n, g.m*g.n
	if tensor.Numel(g.bBatch) == 1 {
		// One B for the whole batch: stack A's matrices into one tall matrix.
		mm(tensor.Numel(g.aBatch)*g.m, g.n, g.k, a, b, c)
		return
	}
	nb := tensor.Numel(g.batch)
	p := newBcastPlan(g.batch, g.aBatch, g.bBatch)
	run, na := p.inner(0)
	_, nbb := p.inner(1)
	ia, ib := runSteps(na, nbb)
	p.forRuns(nb, func(o int, offs []int) {
		for r := range run {
			ea, eb, ec := offs[0]+r*ia, offs[1]+r*ib, o+r
			mm(g.m, g.n, g.k, a[ea*sa:(ea+1)*sa], b[eb*sb:(eb+1)*sb], c[ec*sc:(ec+1)*sc])
		}
	})
}

func (matMul) Infer(in []Type) ([]Type, error) {
	a, b := in[0], in[1]
	dt, err := sameDType([]string{"A", "B"}, a, b)
	if err != nil {
		return nil, err
	}
	if err := CheckDType("A", Type{DType: dt}, tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32); err != nil {
		return nil, err
	}
	if !a.Ranked || !b.Ranked {
		return []Type{{DType: dt}}, nil
	}
	if len(a.Shape) == 0 || len(b.Shape) == 0 {
		return nil, fmt.Errorf("inputs \"A\" %v and \"B\" %v: want rank 1 or more", a, b)
	}
	ak, bk := a.Shape[len(a.Shape)-1], b.Shape[0]
	var aBatch, bBatch []int
	if len(a.Shape) >= 2 {
		aBatch = a.Shape[:len(a.Shape)-2]
	}
	if len(b.Shape) >= 2 {
		bk = b.Shape[len(b.Shape)-2]
		bBatch = b.Shape[:len(b.Shape)-2]
	}
	if ak >= 0 && bk >= 0 && ak != bk {
		return nil, fmt.Errorf("inputs \"A\" %v and \"B\" %v: inner dimensions differ (%d and %d)", a, b, ak, bk)
	}
	batch, _, err := inferBroadcast([]string{"A (batch dimensions)", "B (batch dimensions)"},
		Type{Shape: aBatch, Ranked: true}, Type{Shape: bBatch, Ranked: true})
	if err != nil {
		return nil, err
	}
	if len(a.Shape) >= 2 {
		batch = append(batch, a.Shape[len(a.Shape)-2])
	}
	if len(b.Shape) >= 2 {
		batch = append(batch, b.Shape[len(b.Shape)-1])
	}
	return []Type{{DType: dt, Shape: batch, Ranked: true}}, nil
}
