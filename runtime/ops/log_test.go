package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestLog(t *testing.T) {
	op := mtMustBuild(t, newLog, mtNode("Log", 13, mtInputs(1)))
	mtCheckUnary(t, op, mtUniform(1e-3, 100), math.Log)
	y, err := mtRun(op, tensor.FromFloat32([]float32{0, -1}, 2))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "log(0), log(-1)", y, tensor.FromFloat32([]float32{float32(math.Inf(-1)), float32(math.NaN())}, 2), 0, 0)
	mtCheckUnaryErrors(t, newLog, "Log")
}
