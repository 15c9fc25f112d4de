package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestDivRandom(t *testing.T) {
	op := mtMustBuild(t, newDiv, mtNode("Div", 14, mtInputs(2)))
	// Divisors avoid 0, which is an error for integers (TestDivErrors). Go's integer division
	// truncates toward zero like C.
	nonZero := func(r *rand.Rand) int64 {
		for {
			if v := r.Int64(); int8(v) != 0 && uint8(v) != 0 && int32(v) != 0 && v != 0 {
				return v
			}
		}
	}
	mtCheckArith(t, op, func(a, b float64) float64 { return a / b }, func(a, b int64) int64 { return a / b }, nonZero)
}

// TestDivTruncates pins test_div_int32_trunc: integer division rounds toward zero, not down
// like numpy's floor division.
func TestDivTruncates(t *testing.T) {
	op := mtMustBuild(t, newDiv, mtNode("Div", 14, mtInputs(2)))
	a := &tensor.Tensor{DType: tensor.Int32, Shape: []int{4}, Data: []int32{-3, 3, -3, 3}}
	b := &tensor.Tensor{DType: tensor.Int32, Shape: []int{4}, Data: []int32{2, 2, -2, -2}}
	y, err := mtRun(op, a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := &tensor.Tensor{DType: tensor.Int32, Shape: []int{4}, Data: []int32{-1, 1, 1, -1}}
	mtCompare(t, "int32 division", y, want, 0, 0)

	// Float division by zero follows IEEE 754.
	y, err = mtRun(op, tensor.FromFloat32([]float32{1, -1, 0}, 3), tensor.FromFloat32([]float32{0}, 1))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "float division by zero", y, tensor.FromFloat32([]float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}, 3), 0, 0)
}

func TestDivErrors(t *testing.T) {
	mtCheckBinaryErrors(t, newDiv, "Div")
	op := mtMustBuild(t, newDiv, mtNode("Div", 14, mtInputs(2)))
	for _, dt := range []tensor.DType{tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8} {
		a, b := tensor.New(dt, 2), tensor.New(dt, 2)
		mtSet(b, 0, 3)
		_, err := mtRun(op, a, b)
		mtWantErr(t, dt.String()+" division by zero", err, "integer division by zero")
	}
}
