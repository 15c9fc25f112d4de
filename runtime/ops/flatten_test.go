package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestFlattenRandom flattens random tensors of every dtype at every valid axis, negative
// ones included; the result is [prod(dims before axis), prod(dims from axis)] with the data
// unmoved.
func TestFlattenRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 50 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 4, 4)
		x := shRandTensor(rng, dt, in...)
		for axis := -len(in); axis <= len(in); axis++ {
			op := shMustBuild(t, newFlatten, shNode("Flatten", 13, []string{"x"}, 1, onnx.AttrInt("axis", int64(axis))))
			y, err := shRun1(op, x)
			if err != nil {
				t.Fatalf("%v axis %d: %v", in, axis, err)
			}
			a := axis
			if a < 0 {
				a += len(in)
			}
			rows := 1
			for _, d := range in[:a] {
				rows *= d
			}
			want := &tensor.Tensor{DType: dt, Shape: []int{rows, x.Len() / rows}, Data: x.Data}
			shEqual(t, fmt.Sprintf("%v axis %d", in, axis), y, want)
		}
	}
}

func TestFlattenErrors(t *testing.T) {
	op := shMustBuild(t, newFlatten, shNode("Flatten", 13, []string{"x"}, 1, onnx.AttrInt("axis", 4)))
	_, err := shRun1(op, tensor.New(tensor.Float32, 2, 3, 4))
	shWantErr(t, "axis 4 of rank 3", err, "out of range")
	_, err = shBuild(newFlatten, shNode("Flatten", 9, []string{"x"}, 1, onnx.AttrInt("axis", -1)))
	shWantErr(t, "negative axis at opset 9", err, "needs opset 11")
}

func TestFlattenInfer(t *testing.T) {
	op := shMustBuild(t, newFlatten, shNode("Flatten", 13, []string{"x"}, 1, onnx.AttrInt("axis", -1))).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Float32, []int{2, -1, 4})})
	if err != nil || got[0].String() != "float32[? 4]" {
		t.Errorf("got %v, %v; want float32[? 4]", got, err)
	}
	_, err = op.Infer([]Type{rankedType(tensor.Float32, nil)})
	shWantErr(t, "axis -1 of a scalar", err, "out of range")
}
