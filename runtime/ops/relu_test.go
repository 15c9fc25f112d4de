package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestRelu(t *testing.T) {
	op := mtMustBuild(t, newRelu, mtNode("Relu", 14, mtInputs(1)))
	mtCheckUnary(t, op, mtUniform(-5, 5), func(x float64) float64 { return math.Max(x, 0) })
	// Opset 14 integers; NaN stays NaN.
	y, err := mtRun(op, &tensor.Tensor{DType: tensor.Int32, Shape: []int{3}, Data: []int32{-7, 0, 9}})
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "int32", y, &tensor.Tensor{DType: tensor.Int32, Shape: []int{3}, Data: []int32{0, 0, 9}}, 0, 0)
	y, err = mtRun(op, tensor.FromFloat32([]float32{float32(math.NaN())}, 1))
	if err != nil || !math.IsNaN(y.Float64At(0)) {
		t.Errorf("Relu(NaN) = %v, %v; want NaN", y, err)
	}
	mtCheckUnaryErrors(t, newRelu, "Relu")
}
