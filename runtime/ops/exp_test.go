package ops

import (
	"math"
	"testing"
)

func TestExp(t *testing.T) {
	mtCheckUnary(t, mtMustBuild(t, newExp, mtNode("Exp", 13, mtInputs(1))), mtUniform(-20, 20), math.Exp)
	mtCheckUnaryErrors(t, newExp, "Exp")
}
