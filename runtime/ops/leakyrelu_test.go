package ops

import (
	"testing"

	"github.com/gendl/gendl/onnx"
)

func TestLeakyRelu(t *testing.T) {
	ref := func(alpha float64) func(float64) float64 {
		return func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}
	}
	def := mtMustBuild(t, newLeakyRelu, mtNode("LeakyRelu", 16, mtInputs(1)))
	mtCheckUnary(t, def, mtUniform(-5, 5), ref(0.01)) // the spec's default alpha
	op := mtMustBuild(t, newLeakyRelu, mtNode("LeakyRelu", 6, mtInputs(1), onnx.AttrFloat("alpha", 0.3)))
	mtCheckUnary(t, op, mtUniform(-5, 5), ref(float64(float32(0.3))))
	mtCheckUnaryErrors(t, newLeakyRelu, "LeakyRelu")
	_, err := mtBuild(newLeakyRelu, mtNode("LeakyRelu", 16, mtInputs(1), onnx.AttrInt("alpha", 1)))
	mtWantErr(t, "integer alpha", err, `attribute "alpha"`)
}
