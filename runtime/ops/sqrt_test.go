package ops

import (
	"math"
	"testing"
)

func TestSqrt(t *testing.T) {
	mtCheckUnary(t, mtMustBuild(t, newSqrt, mtNode("Sqrt", 13, mtInputs(1))), mtUniform(0, 100), math.Sqrt)
	mtCheckUnaryErrors(t, newSqrt, "Sqrt")
}
