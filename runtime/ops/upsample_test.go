package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestUpsampleNearestRepeat checks that nearest upsampling by integer factors repeats every
// element (numpy.repeat along each axis, the ONNX reference's definition), for every dtype,
// with the scales as opset 7's attribute and as opset 9's input.
func TestUpsampleNearestRepeat(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for iter := range 70 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 1, 4, 3)
		x := shRandTensor(rng, dt, in...)
		factor := make([]int, len(in))
		scales := make([]float32, len(in))
		out := make([]int, len(in))
		for k := range in {
			factor[k] = 1 + rng.IntN(3)
			scales[k] = float32(factor[k])
			out[k] = in[k] * factor[k]
		}
		var y *tensor.Tensor
		var err error
		if iter%2 == 0 {
			op := shMustBuild(t, newUpsample, shNode("Upsample", 7, []string{"X"}, 1, onnx.AttrFloats("scales", scales...)))
			y, err = shRun1(op, x)
		} else {
			op := shMustBuild(t, newUpsample, shNode("Upsample", 9, []string{"X", "scales"}, 1, onnx.AttrString("mode", "nearest")))
			y, err = shRun1(op, x, tensor.FromFloat32(scales, len(scales)))
		}
		if err != nil {
			t.Fatalf("%v scales %v: %v", in, scales, err)
		}
		src := make([]int, len(in))
		want := shGather(x, out, func(o []int) int {
			for k, i := range o {
				src[k] = i / factor[k]
			}
			return rowMajorOffset(in, src)
		}, nil)
		shEqual(t, fmt.Sprintf("%v %v scales %v", dt, in, scales), y, want)
	}
}

// TestUpsampleLinear checks linear upsampling of an affine ramp: with asymmetric coordinates
// the output is the ramp at x_ori = o/scale, clamped to the last input element.
func TestUpsampleLinear(t *testing.T) {
	x := rzRamp([]int{2, 3}, []float64{1, 4, -2})
	op := shMustBuild(t, newUpsample, shNode("Upsample", 9, []string{"X", "scales"}, 1, onnx.AttrString("mode", "linear")))
	y, err := shRun1(op, x, tensor.FromFloat32([]float32{2, 1.5}, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := tensor.New(tensor.Float64, 4, 4)
	i := 0
	forEachIndex([]int{4, 4}, func(o []int) {
		want.F64()[i] = 1 + 4*min(float64(o[0])/2, 1) - 2*min(float64(o[1])/1.5, 2)
		i++
	})
	rzClose(t, "[2 3] x [2 1.5]", y, want)
}

func TestUpsampleErrors(t *testing.T) {
	op := shMustBuild(t, newUpsample, shNode("Upsample", 9, []string{"X", "scales"}, 1))
	_, err := shRun1(op, tensor.New(tensor.Float32, 2, 2), tensor.FromFloat32([]float32{2}, 1))
	shWantErr(t, "one scale for rank 2", err, "want 2 float values")
	_, err = shBuild(newUpsample, shNode("Upsample", 7, []string{"X"}, 1))
	shWantErr(t, "opset 7 without scales", err, "\"scales\" is required")
	_, err = shBuild(newUpsample, shNode("Upsample", 9, []string{"X", "scales"}, 1, onnx.AttrString("mode", "cubic")))
	shWantErr(t, "cubic", err, "want nearest or linear")
}

func TestUpsampleInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 2, 3)
	shInferExact(t, newUpsample, shNode("Upsample", 9, []string{"X", "scales"}, 1), x, tensor.FromFloat32([]float32{1, 2, 2.5}, 3))
	shInferExact(t, newUpsample, shNode("Upsample", 7, []string{"X"}, 1, onnx.AttrFloats("scales", 1, 3, 1)), x)
}
