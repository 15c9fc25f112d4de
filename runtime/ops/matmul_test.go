package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// mtMatMulRef is numpy.matmul by the definition, in float64 (exact for the small integers the
// integer cases use).
func mtMatMulRef(a, b *tensor.Tensor) *tensor.Tensor {
	as, bs := a.Shape, b.Shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	batch, err := broadcastShape([]string{"A", "B"}, as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		panic(err)
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	full := append(append([]int{}, batch...), m, n)
	y := tensor.New(a.DType, full...)
	o := 0
	forEachIndex(full, func(ix []int) {
		i, j := ix[len(ix)-2], ix[len(ix)-1]
		s := 0.0
		for p := range k {
			ai := append(append([]int{}, ix[:len(ix)-2]...), i, p)
			bi := append(append([]int{}, ix[:len(ix)-2]...), p, j)
			s += a.Float64At(mtBroadcastOffset(as, ai)) * b.Float64At(mtBroadcastOffset(bs, bi))
		}
		mtSet(y, o, s)
		o++
	})
	// Drop the unit dimensions of 1-D operands.
	out := append([]int{}, batch...)
	if len(a.Shape) > 1 {
		out = append(out, m)
	}
	if len(b.Shape) > 1 {
		out = append(out, n)
	}
	y.Shape = out
	return y
}

func TestMatMulRandom(t *testing.T) {
	op := mtMustBuild(t, newMatMul, mtNode("MatMul", 13, mtInputs(2)))
	rng := rand.New(rand.NewPCG(19, 20))
	for trial := range 400 {
		m, k, n := 1+rng.IntN(5), rng.IntN(6), 1+rng.IntN(5)
		batches := mtRandBroadcast(rng, 2)
		as := append(append([]int{}, batches[0]...), m, k)
		bs := append(append([]int{}, batches[1]...), k, n)
		switch trial % 5 {
		case 0:
			as = []int{k} // 1-D A
		case 1:
			bs = []int{k} // 1-D B
		case 2:
			bs = []int{k, n} // one B for the whole batch
		}
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32}[trial%4]
		gen := func() float64 { return float64(rng.IntN(11) - 5) }
		if dt == tensor.Float32 || dt == tensor.Float64 {
			gen = rng.NormFloat64
		}
		a, b := mtRandom(dt, as, gen), mtRandom(dt, bs, gen)
		y, err := mtRun(op, a, b)
		if err != nil {
			t.Fatalf("%v x %v: %v", a, b, err)
		}
		mtCompare(t, a.String()+" x "+b.String(), y, mtMatMulRef(a, b), mtGemmATol, mtGemmRTol)
	}
}

func TestMatMulErrors(t *testing.T) {
	op := mtMustBuild(t, newMatMul, mtNode("MatMul", 13, mtInputs(2)))
	f := func(s ...int) *tensor.Tensor { return tensor.New(tensor.Float32, s...) }
	_, err := mtRun(op, f(2, 3), f(4, 2))
	mtWantErr(t, "K mismatch", err, "inner dimensions differ (3 and 4)")
	_, err = mtRun(op, f(2, 2, 3), f(3, 3, 4))
	mtWantErr(t, "batch mismatch", err, "does not broadcast")
	_, err = mtRun(op, f(), f(3))
	mtWantErr(t, "scalar", err, "want rank 1 or more")
	_, err = mtRun(op, f(3), tensor.New(tensor.Float64, 3))
	mtWantErr(t, "mixed dtypes", err, "want the same dtype")
	_, err = mtRun(op, tensor.New(tensor.Uint8, 3), tensor.New(tensor.Uint8, 3))
	mtWantErr(t, "uint8", err, "dtype uint8 is not supported")
}
