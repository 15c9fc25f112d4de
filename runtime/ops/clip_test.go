package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func TestClipRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	opInputs := mtMustBuild(t, newClip, mtNode("Clip", 13, mtInputs(3)))
	for range 50 {
		lo, hi := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		opAttrs := mtMustBuild(t, newClip, mtNode("Clip", 6, mtInputs(1), onnx.AttrFloat("min", lo), onnx.AttrFloat("max", hi)))
		x := mtRandom(tensor.Float32, mtRandShape(rng, 3, 5), rng.NormFloat64)
		want := tensor.New(tensor.Float32, x.Shape...)
		for i, v := range x.F32() {
			// min > max gives max everywhere, as the spec says.
			want.F32()[i] = v
			if v < lo {
				want.F32()[i] = lo
			}
			if want.F32()[i] > hi {
				want.F32()[i] = hi
			}
		}
		y, err := mtRun(opAttrs, x)
		if err != nil {
			t.Fatal(err)
		}
		mtCompare(t, "opset 6", y, want, 0, 0)
		y, err = mtRun(opInputs, x, tensor.FromFloat32([]float32{lo}), tensor.FromFloat32([]float32{hi}))
		if err != nil {
			t.Fatal(err)
		}
		mtCompare(t, "opset 13", y, want, 0, 0)
	}
}

func TestClipDefaults(t *testing.T) {
	inf := float32(math.Inf(1))
	x := tensor.FromFloat32([]float32{-inf, -5, 0, 5, inf, float32(math.NaN())}, 6)
	// Opset 6's default bounds are the float32 range; from opset 11 an absent bound does not
	// clip.
	op6 := mtMustBuild(t, newClip, mtNode("Clip", 6, mtInputs(1)))
	y, err := mtRun(op6, x)
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "opset 6 defaults", y, tensor.FromFloat32([]float32{-math.MaxFloat32, -5, 0, 5, math.MaxFloat32, float32(math.NaN())}, 6), 0, 0)
	op13 := mtMustBuild(t, newClip, mtNode("Clip", 13, []string{"x", "", "max"}))
	y, err = mtRun(op13, x, nil, tensor.FromFloat32([]float32{1}))
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "opset 13, max only", y, tensor.FromFloat32([]float32{-inf, -5, 0, 1, 1, float32(math.NaN())}, 6), 0, 0)
	// Integers (opset 12 on), with only min given.
	op1 := mtMustBuild(t, newClip, mtNode("Clip", 13, mtInputs(2)))
	xi := &tensor.Tensor{DType: tensor.Int8, Shape: []int{4}, Data: []int8{-128, -1, 0, 127}}
	y, err = mtRun(op1, xi, &tensor.Tensor{DType: tensor.Int8, Shape: []int{}, Data: []int8{0}})
	if err != nil {
		t.Fatal(err)
	}
	mtCompare(t, "int8, min only", y, &tensor.Tensor{DType: tensor.Int8, Shape: []int{4}, Data: []int8{0, 0, 0, 127}}, 0, 0)
}

func TestClipErrors(t *testing.T) {
	op := mtMustBuild(t, newClip, mtNode("Clip", 13, mtInputs(3)))
	x := tensor.New(tensor.Float32, 3)
	_, err := mtRun(op, x, tensor.New(tensor.Float32, 2), nil)
	mtWantErr(t, "min of 2 elements", err, `input "min": want a scalar`)
	_, err = mtRun(op, x, nil, tensor.New(tensor.Float64))
	mtWantErr(t, "float64 max", err, `input "max" is float64`)
	op6 := mtMustBuild(t, newClip, mtNode("Clip", 6, mtInputs(1)))
	_, err = mtRun(op6, tensor.New(tensor.Int32, 3))
	mtWantErr(t, "opset 6 int32", err, "dtype int32 is not supported")
	_, err = mtBuild(newClip, mtNode("Clip", 6, mtInputs(3)))
	mtWantErr(t, "opset 6 with 3 inputs", err, "want 1 inputs")
	_, err = mtRun(op, tensor.New(tensor.Bool, 3))
	mtWantErr(t, "bool", err, "dtype bool is not supported")
}
