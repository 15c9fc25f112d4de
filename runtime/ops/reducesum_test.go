package ops

import (
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// Tolerance of float32 sums of at most 4^4 standard normal values against a float64 sum: the
// float32 result is rounded a few times (2^-24 relative each, over partial sums of size up to
// ~16), so 1e-5 absolute plus 1e-5 relative holds with margin.
const (
	mtSumATol = 1e-5
	mtSumRTol = 1e-5
)

func TestReduceSumRandom(t *testing.T) {
	mtCheckReduce(t, newReduceSum, "ReduceSum", 13, []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32},
		0, mtSum, mtIdentity, mtSumATol, mtSumRTol)
}

func TestReduceSumNoop(t *testing.T) { mtCheckReduceNoop(t, newReduceSum, "ReduceSum", 13) }

func TestReduceSumErrors(t *testing.T) { mtCheckReduceErrors(t, newReduceSum, "ReduceSum", 13) }
