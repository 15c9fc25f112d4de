package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestLessRandom(t *testing.T) {
	op := mtMustBuild(t, newLess, mtNode("Less", 13, mtInputs(2)))
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 200 {
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8}[trial%6]
		shapes := mtRandBroadcast(rng, 2)
		// Few distinct values, so that equal elements occur.
		gen := func() float64 { return float64(rng.IntN(5)) }
		a, b := mtRandom(dt, shapes[0], gen), mtRandom(dt, shapes[1], gen)
		y, err := mtRun(op, a, b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := broadcastShape([]string{"A", "B"}, a.Shape, b.Shape)
		want := tensor.New(tensor.Bool, out...)
		o := 0
		forEachIndex(out, func(ix []int) {
			want.Bools()[o] = a.Float64At(mtBroadcastOffset(a.Shape, ix)) < b.Float64At(mtBroadcastOffset(b.Shape, ix))
			o++
		})
		mtCompare(t, a.String()+" < "+b.String(), y, want, 0, 0)
	}
	nan := float32(math.NaN())
	y, err := mtRun(op, tensor.FromFloat32([]float32{nan, 1, nan}, 3), tensor.FromFloat32([]float32{1, nan, nan}, 3))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "NaN", y, &tensor.Tensor{DType: tensor.Bool, Shape: []int{3}, Data: []bool{false, false, false}}, 0, 0)
}

func TestLessErrors(t *testing.T) { mtCheckBinaryErrors(t, newLess, "Less") }
