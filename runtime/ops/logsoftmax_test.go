package ops

import (
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestLogSoftmaxRandom(t *testing.T) { mtCheckSoftmax(t, newLogSoftmax, "LogSoftmax", true) }

// TestLogSoftmaxLarge checks a case where log(softmax) computed naively gives -Inf: the spec's
// test_logsoftmax_large_number inputs, where e^(x-max) underflows in float32 for one element.
func TestLogSoftmaxLarge(t *testing.T) {
	op := mtMustBuild(t, newLogSoftmax, mtNode("LogSoftmax", 13, mtInputs(1)))
	y, err := mtRun(op, tensor.FromFloat32([]float32{0, 200}, 2))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "[0 200]", y, tensor.FromFloat32([]float32{-200, 0}, 2), 0, 0)
}

func TestLogSoftmaxErrors(t *testing.T) { mtCheckUnaryErrors(t, newLogSoftmax, "LogSoftmax") }
