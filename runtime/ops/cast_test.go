package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

var mtCastTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool}

// mtCastRef converts one value by numpy's astype rules for the values the tests use: floats
// truncate toward zero into integers (which then wrap), anything is true when non-zero.
func mtCastRef(v float64, to tensor.DType) float64 {
	switch to {
	case tensor.Float32:
		return float64(float32(v))
	case tensor.Float64:
		return v
	case tensor.Bool:
		if v != 0 {
			return 1
		}
		return 0
	}
	i := int64(math.Trunc(v))
	switch to {
	case tensor.Int32:
		return float64(int32(i))
	case tensor.Int8:
		return float64(int8(i))
	case tensor.Uint8:
		return float64(uint8(i))
	}
	return float64(i)
}

// TestCastAllPairs casts random values between every pair of supported dtypes.
func TestCastAllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, from := range mtCastTypes {
		for _, to := range mtCastTypes {
			op := mtMustBuild(t, newCast, mtNode("Cast", 21, mtInputs(1), onnx.AttrInt("to", int64(to))))
			// Values in int8's range with fractions (floats) and both signs; a few zeros.
			x := mtRandom(from, []int{4, 5}, func() float64 {
				if rng.IntN(5) == 0 {
					return 0
				}
				return rng.Float64()*250 - 125
			})
			y, err := mtRun(op, x)
			if err != nil {
				t.Fatalf("%v to %v: %v", from, to, err)
			}
			want := tensor.New(to, x.Shape...)
			for i := range x.Len() {
				mtSet(want, i, mtCastRef(x.Float64At(i), to))
			}
			mtCompare(t, from.String()+" to "+to.String(), y, want, 0, 0)
		}
	}
}

// TestCastSpecialValues pins the rules the random test cannot reach: NaN is true, truncation
// toward zero of negative values, uint8 wrap-around of negative integers, float64 rounding.
func TestCastSpecialValues(t *testing.T) {
	cast := func(x *tensor.Tensor, to tensor.DType) *tensor.Tensor {
		t.Helper()
		op := mtMustBuild(t, newCast, mtNode("Cast", 13, mtInputs(1), onnx.AttrInt("to", int64(to))))
		y, err := mtRun(op, x)
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	f := tensor.FromFloat32([]float32{float32(math.NaN()), -2.7, 2.7, -0.5}, 4)
	mtCompare(t, "to bool", cast(f, tensor.Bool), &tensor.Tensor{DType: tensor.Bool, Shape: []int{4}, Data: []bool{true, true, true, true}}, 0, 0)
	g := tensor.FromFloat32([]float32{-2.7, 2.7, -0.5}, 3)
	mtCompare(t, "to int32", cast(g, tensor.Int32), &tensor.Tensor{DType: tensor.Int32, Shape: []int{3}, Data: []int32{-2, 2, 0}}, 0, 0)
	i := tensor.FromInt64([]int64{-1, 256, 300}, 3)
	mtCompare(t, "int64 to uint8", cast(i, tensor.Uint8), &tensor.Tensor{DType: tensor.Uint8, Shape: []int{3}, Data: []uint8{255, 0, 44}}, 0, 0)
	d := &tensor.Tensor{DType: tensor.Float64, Shape: []int{1}, Data: []float64{0.1}}
	mtCompare(t, "float64 to float32", cast(d, tensor.Float32), tensor.FromFloat32([]float32{0.1}, 1), 0, 0)
}

func TestCastErrors(t *testing.T) {
	for _, to := range []int64{int64(onnx.TensorProto_FLOAT16), int64(onnx.TensorProto_STRING), int64(onnx.TensorProto_BFLOAT16), 17, 1 << 40} {
		_, err := mtBuild(newCast, mtNode("Cast", 21, mtInputs(1), onnx.AttrInt("to", to)))
		mtWantErr(t, "to "+onnx.TensorProto_DataType(to).String(), err, "is not supported")
	}
	_, err := mtBuild(newCast, mtNode("Cast", 21, mtInputs(1)))
	mtWantErr(t, "no to", err, `attribute "to": is required`)
	_, err = mtBuild(newCast, mtNode("Cast", 21, []string{""}, onnx.AttrInt("to", 1)))
	mtWantErr(t, "empty input", err, "input 0 is required")
}
