package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Tolerance of float32 matrix products against a float64 reference: with standard normal
// entries and K <= 12, a float32 dot product's rounding error is a few times K*2^-24*|a||b|,
// below 1e-5; 1e-4 absolute plus 1e-4 relative leaves margin without hiding a wrong element
// (those are off by O(1)).
const (
	mtGemmATol = 1e-4
	mtGemmRTol = 1e-4
)

// mtGemmRef is Y = alpha*op(A)*op(B) + beta*C by the definition, in float64.
func mtGemmRef(a, b, c *tensor.Tensor, transA, transB bool, alpha, beta float64) *tensor.Tensor {
	at := func(t *tensor.Tensor, i, j int, trans bool) float64 {
		if trans {
			i, j = j, i
		}
		return t.Float64At(i*t.Shape[1] + j)
	}
	m, k := a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	n := b.Shape[1]
	if transB {
		n = b.Shape[0]
	}
	y := tensor.New(a.DType, m, n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += at(a, i, p, transA) * at(b, p, j, transB)
			}
			s *= alpha
			if c != nil {
				s += beta * c.Float64At(mtBroadcastOffset(c.Shape, []int{i, j}))
			}
			mtSet(y, i*n+j, s)
		}
	}
	return y
}

func TestGemmRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for trial := range 300 {
		m, n, k := 1+rng.IntN(6), 1+rng.IntN(6), rng.IntN(12) // k = 0 happens
		transA, transB := rng.IntN(2) == 1, rng.IntN(2) == 1
		alpha, beta := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		if trial%5 == 0 {
			beta = 0
		}
		dt := []tensor.DType{tensor.Float32, tensor.Float64}[trial%2]
		as, bs := []int{m, k}, []int{k, n}
		if transA {
			as = []int{k, m}
		}
		if transB {
			bs = []int{n, k}
		}
		a, b := mtRandom(dt, as, rng.NormFloat64), mtRandom(dt, bs, rng.NormFloat64)
		in := []*tensor.Tensor{a, b}
		names := mtInputs(2)
		var c *tensor.Tensor
		if cs := [][]int{nil, {}, {1}, {n}, {1, n}, {m, 1}, {m, n}}[trial%7]; cs != nil {
			c = mtRandom(dt, cs, rng.NormFloat64)
			in, names = append(in, c), mtInputs(3)
		}
		op := mtMustBuild(t, newGemm, mtNode("Gemm", 13, names,
			onnx.AttrInt("transA", b2i(transA)), onnx.AttrInt("transB", b2i(transB)),
			onnx.AttrFloat("alpha", alpha), onnx.AttrFloat("beta", beta)))
		y, err := mtRun(op, in...)
		if err != nil {
			t.Fatalf("%v x %v + %v: %v", a, b, c, err)
		}
		want := mtGemmRef(a, b, c, transA, transB, float64(alpha), float64(beta))
		mtCompare(t, "gemm", y, want, mtGemmATol, mtGemmRTol)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestGemmErrors(t *testing.T) {
	op := mtMustBuild(t, newGemm, mtNode("Gemm", 13, mtInputs(3)))
	f := func(s ...int) *tensor.Tensor { return tensor.New(tensor.Float32, s...) }
	_, err := mtRun(op, f(2, 3, 1), f(3, 2), nil)
	mtWantErr(t, "rank 3 A", err, `input "A": want rank 2, got rank 3`)
	_, err = mtRun(op, f(2, 3), f(4, 2), nil)
	mtWantErr(t, "K mismatch", err, "inner dimensions differ (3 and 4)")
	_, err = mtRun(op, f(2, 3), f(3, 4), f(3))
	mtWantErr(t, "C [3] for [2 4]", err, `input "C" [3] does not broadcast`)
	_, err = mtRun(op, f(2, 3), f(3, 4), f(2, 4, 1))
	mtWantErr(t, "C of rank 3", err, `input "C" [2 4 1] does not broadcast`)
	_, err = mtRun(op, f(2, 3), tensor.New(tensor.Float64, 3, 4), nil)
	mtWantErr(t, "mixed dtypes", err, "want the same dtype")
	_, err = mtRun(op, tensor.New(tensor.Int64, 2, 3), tensor.New(tensor.Int64, 3, 4), nil)
	mtWantErr(t, "int64", err, "dtype int64 is not supported")
	// C is required before opset 11.
	_, err = mtBuild(newGemm, mtNode("Gemm", 9, mtInputs(2)))
	mtWantErr(t, "opset 9 without C", err, "want 3 inputs")
	if _, err := mtBuild(newGemm, mtNode("Gemm", 11, mtInputs(2))); err != nil {
		t.Errorf("opset 11 without C: %v", err)
	}
}
