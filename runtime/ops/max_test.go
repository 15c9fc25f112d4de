package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestMaxRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 300 {
		k := 1 + trial%4
		op := mtMustBuild(t, newMax, mtNode("Max", 13, mtInputs(k)))
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8}[trial%6]
		shapes := mtRandBroadcast(rng, k)
		in := make([]*tensor.Tensor, k)
		for j := range in {
			in[j] = mtRandom(dt, shapes[j], func() float64 { return float64(rng.IntN(200)) })
		}
		got, err := mtRun(op, in...)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := broadcastShape(make([]string, k), shapes...)
		want := tensor.New(dt, out...)
		o := 0
		forEachIndex(out, func(ix []int) {
			m := math.Inf(-1)
			for _, x := range in {
				m = math.Max(m, x.Float64At(mtBroadcastOffset(x.Shape, ix)))
			}
			mtSet(want, o, m)
			o++
		})
		mtCompare(t, "max", got, want, 0, 0)
	}
}

func TestMaxNaN(t *testing.T) {
	op := mtMustBuild(t, newMax, mtNode("Max", 13, mtInputs(2)))
	nan := float32(math.NaN())
	y, err := mtRun(op, tensor.FromFloat32([]float32{nan, 1, 2}, 3), tensor.FromFloat32([]float32{1, nan, 1}, 3))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "NaN propagates", y, tensor.FromFloat32([]float32{nan, nan, 2}, 3), 0, 0)
}

func TestMaxErrors(t *testing.T) {
	op := mtMustBuild(t, newMax, mtNode("Max", 13, mtInputs(3)))
	_, err := mtRun(op, tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 2), tensor.New(tensor.Int32, 2))
	mtWantErr(t, "mixed dtypes", err, `input "data_2" is int32`)
	_, err = mtRun(op, tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 1), tensor.New(tensor.Float32, 3))
	mtWantErr(t, "[2] with [3]", err, `input "data_2" [3] does not broadcast`)
	_, err = mtRun(op, tensor.New(tensor.Bool, 2), tensor.New(tensor.Bool, 2), tensor.New(tensor.Bool, 2))
	mtWantErr(t, "bool", err, "dtype bool is not supported")
	_, err = mtBuild(newMax, mtNode("Max", 13, nil))
	mtWantErr(t, "no inputs", err, "want 1 to")
	_, err = mtBuild(newMax, mtNode("Max", 13, []string{"a", ""}))
	mtWantErr(t, "empty input", err, "input 1 is required")
}
