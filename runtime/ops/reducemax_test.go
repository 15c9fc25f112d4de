package ops

import (
	"math"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestReduceMaxRandom(t *testing.T) {
	// The maximum is one of the inputs: exact. Over an empty set it is -Inf for floats.
	mtCheckReduce(t, newReduceMax, "ReduceMax", 18, []tensor.DType{tensor.Float32, tensor.Float64},
		math.Inf(-1), math.Max, mtIdentity, 0, 0)
	for _, c := range []struct {
		dt     tensor.DType
		lowest float64
	}{{tensor.Int64, math.MinInt64}, {tensor.Int32, math.MinInt32}, {tensor.Int8, math.MinInt8}, {tensor.Uint8, 0}} {
		// Over an empty set an integer maximum is the type's lowest value.
		finish := func(acc float64, n int) float64 {
			if n == 0 {
				return c.lowest
			}
			return acc
		}
		mtCheckReduce(t, newReduceMax, "ReduceMax", 18, []tensor.DType{c.dt}, math.Inf(-1), math.Max, finish, 0, 0)
	}
}

func TestReduceMaxNoop(t *testing.T) { mtCheckReduceNoop(t, newReduceMax, "ReduceMax", 18) }

func TestReduceMaxErrors(t *testing.T) { mtCheckReduceErrors(t, newReduceMax, "ReduceMax", 18) }
