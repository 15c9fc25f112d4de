package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestSigmoid(t *testing.T) {
	op := mtMustBuild(t, newSigmoid, mtNode("Sigmoid", 13, mtInputs(1)))
	mtCheckUnary(t, op, mtUniform(-30, 30), func(x float64) float64 { return 1 / (1 + math.Exp(-x)) })
	// No overflow at the extremes, and tiny results keep their relative precision.
	y, err := mtRun(op, &tensor.Tensor{DType: tensor.Float64, Shape: []int{3}, Data: []float64{-1000, 1000, -700}})
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "extremes", y, &tensor.Tensor{DType: tensor.Float64, Shape: []int{3}, Data: []float64{0, 1, math.Exp(-700)}}, 0, 1e-12)
	mtCheckUnaryErrors(t, newSigmoid, "Sigmoid")
}
