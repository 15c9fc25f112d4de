package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/onnx"
)

func TestSelu(t *testing.T) {
	ref := func(alpha, gamma float64) func(float64) float64 {
		return func(x float64) float64 {
			if x <= 0 {
				return gamma * (alpha*math.Exp(x) - alpha)
			}
			return gamma * x
		}
	}
	// The spec's defaults, to the digits it prints.
	def := mtMustBuild(t, newSelu, mtNode("Selu", 22, mtInputs(1)))
	mtCheckUnary(t, def, mtUniform(-5, 5), ref(1.67326319217681884765625, 1.05070102214813232421875))
	op := mtMustBuild(t, newSelu, mtNode("Selu", 6, mtInputs(1), onnx.AttrFloat("alpha", 2), onnx.AttrFloat("gamma", 3)))
	mtCheckUnary(t, op, mtUniform(-5, 5), ref(2, 3))
	mtCheckUnaryErrors(t, newSelu, "Selu")
}
