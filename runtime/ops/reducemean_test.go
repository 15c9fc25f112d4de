package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func TestReduceMeanRandom(t *testing.T) {
	mean := func(acc float64, n int) float64 { return acc / float64(n) } // 0/0 is NaN: the mean of nothing
	mtCheckReduce(t, newReduceMean, "ReduceMean", 18, []tensor.DType{tensor.Float32, tensor.Float64},
		0, mtSum, mean, mtSumATol, mtSumRTol)
	// Integer means truncate toward zero.
	imean := func(acc float64, n int) float64 { return math.Trunc(acc / float64(n)) }
	mtCheckReduce(t, newReduceMean, "ReduceMean", 18, []tensor.DType{tensor.Int64, tensor.Int32},
		0, mtSum, imean, 0, 0)
}

func TestReduceMeanNoop(t *testing.T) { mtCheckReduceNoop(t, newReduceMean, "ReduceMean", 18) }

func TestReduceMeanErrors(t *testing.T) {
	mtCheckReduceErrors(t, newReduceMean, "ReduceMean", 18)
	op := mtMustBuild(t, newReduceMean, mtNode("ReduceMean", 13, mtInputs(1), onnx.AttrInts("axes", 1)))
	_, err := mtRun(op, tensor.New(tensor.Int64, 2, 0))
	mtWantErr(t, "integer mean of an empty set", err, "undefined")
}
