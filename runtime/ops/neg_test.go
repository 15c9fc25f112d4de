package ops

import (
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestNeg(t *testing.T) {
	op := mtMustBuild(t, newNeg, mtNode("Neg", 13, mtInputs(1)))
	mtCheckUnary(t, op, mtUniform(-10, 10), func(x float64) float64 { return -x })
	// Integers wrap: -(-128) is -128 in int8.
	x := &tensor.Tensor{DType: tensor.Int8, Shape: []int{3}, Data: []int8{-128, 5, 0}}
	y, err := mtRun(op, x)
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "int8", y, &tensor.Tensor{DType: tensor.Int8, Shape: []int{3}, Data: []int8{-128, -5, 0}}, 0, 0)
	_, err = mtRun(op, tensor.New(tensor.Uint8, 2))
	mtWantErr(t, "Neg on uint8", err, "dtype uint8 is not supported")
}
