package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func TestArgMaxRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for trial := range 300 {
		shape := mtRandShape(rng, 4, 4)
		if len(shape) == 0 {
			shape = []int{1 + rng.IntN(4)}
		}
		axis := rng.IntN(2*len(shape)) - len(shape)
		keep, last := rng.IntN(2) == 0, rng.IntN(2) == 0
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8}[trial%6]
		// Few distinct values, so that ties occur and select_last_index matters.
		x := mtRandom(dt, shape, func() float64 { return float64(rng.IntN(4)) })
		op := mtMustBuild(t, newArgMax, mtNode("ArgMax", 13, mtInputs(1), onnx.AttrInt("axis", int64(axis)),
			onnx.AttrInt("keepdims", b2i(keep)), onnx.AttrInt("select_last_index", b2i(last))))
		y, err := mtRun(op, x)
		if err != nil {
			t.Fatal(err)
		}
		if axis < 0 {
			axis += len(shape)
		}
		// Reference: scan each line in index order, keep the first (or last) maximum.
		kept := append([]int{}, shape...)
		kept[axis] = 1
		best := make([]float64, tensor.Numel(kept))
		arg := make([]int64, len(best))
		for i := range best {
			best[i] = math.Inf(-1)
		}
		i := 0
		forEachIndex(shape, func(ix []int) {
			o := mtBroadcastOffset(kept, ix)
			if v := x.Float64At(i); v > best[o] || (last && v == best[o]) {
				best[o], arg[o] = v, int64(ix[axis])
			}
			i++
		})
		out := kept
		if !keep {
			out = append(append([]int{}, shape[:axis]...), shape[axis+1:]...)
		}
		mtCompare(t, x.String(), y, tensor.FromInt64(arg, out...), 0, 0)
	}
}

// TestArgMaxDefaults pins the defaults (axis 0, keepdims 1, first index) and NaN handling.
func TestArgMaxDefaults(t *testing.T) {
	op := mtMustBuild(t, newArgMax, mtNode("ArgMax", 11, mtInputs(1), onnx.AttrInt("select_last_index", 1)))
	nan := float32(math.NaN())
	// select_last_index is ignored before opset 12, which introduced it.
	// Column 0 has a tie (2 at rows 0, 2, 3): the first wins. Column 1 has NaNs at rows 1 and
	// 3: the first NaN wins.
	y, err := mtRun(op, tensor.FromFloat32([]float32{2, 1, 1, nan, 2, 1, 2, nan}, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "[4 2]", y, tensor.FromInt64([]int64{0, 1}, 1, 2), 0, 0)
}

func TestArgMaxErrors(t *testing.T) {
	op := mtMustBuild(t, newArgMax, mtNode("ArgMax", 13, mtInputs(1), onnx.AttrInt("axis", -3)))
	_, err := mtRun(op, tensor.New(tensor.Float32, 2, 2))
	mtWantErr(t, "axis -3 of rank 2", err, "axis -3 is out of range")
	op = mtMustBuild(t, newArgMax, mtNode("ArgMax", 13, mtInputs(1), onnx.AttrInt("axis", 1)))
	_, err = mtRun(op, tensor.New(tensor.Float32, 2, 0))
	mtWantErr(t, "empty axis", err, "has size 0")
	mtCheckUnaryErrors(t, newArgMax, "ArgMax")
}
