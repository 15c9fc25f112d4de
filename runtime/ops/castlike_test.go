package ops

import (
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestCastLike(t *testing.T) {
	op := mtMustBuild(t, newCastLike, mtNode("CastLike", 15, mtInputs(2)))
	x := tensor.FromFloat32([]float32{-1.5, 0, 2.5}, 3)
	for _, to := range mtCastTypes {
		// The target's values and shape do not matter, only its dtype.
		y, err := mtRun(op, x, tensor.New(to, 7))
		if err != nil {
			t.Fatal(err)
		}
		want := tensor.New(to, 3)
		for i := range 3 {
			mtSet(want, i, mtCastRef(x.Float64At(i), to))
		}
		mtCompare(t, "to "+to.String(), y, want, 0, 0)
	}
	_, err := mtBuild(newCastLike, mtNode("CastLike", 15, mtInputs(1)))
	mtWantErr(t, "one input", err, "want 2 inputs")
	_, err = mtRun(op, x, &tensor.Tensor{DType: tensor.Float16})
	mtWantErr(t, "float16 target", err, "casting to float16 is not supported")
}
