package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/onnx"
)

func TestElu(t *testing.T) {
	ref := func(alpha float64) func(float64) float64 {
		return func(x float64) float64 {
			if x < 0 {
				return alpha * (math.Exp(x) - 1)
			}
			return x
		}
	}
	def := mtMustBuild(t, newElu, mtNode("Elu", 22, mtInputs(1)))
	mtCheckUnary(t, def, mtUniform(-5, 5), ref(1)) // the spec's default alpha
	op := mtMustBuild(t, newElu, mtNode("Elu", 6, mtInputs(1), onnx.AttrFloat("alpha", 2)))
	mtCheckUnary(t, op, mtUniform(-5, 5), ref(2))
	mtCheckUnaryErrors(t, newElu, "Elu")
}
