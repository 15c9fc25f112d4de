package ops

import (
	"math"
	"testing"
)

func TestTanh(t *testing.T) {
	mtCheckUnary(t, mtMustBuild(t, newTanh, mtNode("Tanh", 13, mtInputs(1))), mtUniform(-10, 10),
		func(x float64) float64 { return (math.Exp(2*x) - 1) / (math.Exp(2*x) + 1) })
	mtCheckUnaryErrors(t, newTanh, "Tanh")
}
