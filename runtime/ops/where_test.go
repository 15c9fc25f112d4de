package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestWhereRandom(t *testing.T) {
	op := mtMustBuild(t, newWhere, mtNode("Where", 16, mtInputs(3)))
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool}[trial%7]
		shapes := mtRandBroadcast(rng, 3)
		c := mtRandom(tensor.Bool, shapes[0], func() float64 { return float64(rng.IntN(2)) })
		x := mtRandom(dt, shapes[1], func() float64 { return float64(1 + rng.IntN(100)) })
		y := mtRandom(dt, shapes[2], func() float64 { return float64(-rng.IntN(100)) })
		got, err := mtRun(op, c, x, y)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := broadcastShape([]string{"c", "x", "y"}, shapes...)
		want := tensor.New(dt, out...)
		o := 0
		forEachIndex(out, func(ix []int) {
			v := y.Float64At(mtBroadcastOffset(y.Shape, ix))
			if c.Bools()[mtBroadcastOffset(c.Shape, ix)] {
				v = x.Float64At(mtBroadcastOffset(x.Shape, ix))
			}
			mtSet(want, o, v)
			o++
		})
		mtCompare(t, "where", got, want, 0, 0)
	}
}

func TestWhereErrors(t *testing.T) {
	op := mtMustBuild(t, newWhere, mtNode("Where", 16, mtInputs(3)))
	_, err := mtRun(op, tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 2))
	mtWantErr(t, "float condition", err, `input "condition": want bool`)
	_, err = mtRun(op, tensor.New(tensor.Bool, 2), tensor.New(tensor.Float32, 2), tensor.New(tensor.Int64, 2))
	mtWantErr(t, "mixed X and Y", err, "want the same dtype")
	_, err = mtRun(op, tensor.New(tensor.Bool, 2), tensor.New(tensor.Float32, 3), tensor.New(tensor.Float32, 1))
	mtWantErr(t, "[2] with [3]", err, "does not broadcast")
	_, err = mtBuild(newWhere, mtNode("Where", 16, mtInputs(2)))
	mtWantErr(t, "2 inputs", err, "want 3 inputs")
}
