package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestConcatRandom joins 1 to 4 random tensors of every dtype (some empty along the axis)
// along a random axis, negative ones included, and checks every element against the input
// it comes from.
func TestConcatRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		base := shRandShape(rng, 1, 4, 4)
		axis := rng.IntN(len(base))
		k := 1 + rng.IntN(4)
		in := make([]*tensor.Tensor, k)
		names := make([]string, k)
		starts := make([]int, k+1) // start of each input along the axis
		for i := range in {
			s := append([]int{}, base...)
			s[axis] = rng.IntN(4)
			in[i] = shRandTensor(rng, dt, s...)
			names[i] = fmt.Sprintf("x%d", i)
			starts[i+1] = starts[i] + s[axis]
		}
		attr := int64(axis)
		if rng.IntN(2) == 0 {
			attr -= int64(len(base))
		}
		op := shMustBuild(t, newConcat, shNode("Concat", 13, names, 1, onnx.AttrInt("axis", attr)))
		y, err := shRun1(op, in...)
		if err != nil {
			t.Fatalf("case %d: %v", iter, err)
		}
		out := append([]int{}, base...)
		out[axis] = starts[k]
		want := tensor.New(dt, out...)
		o := 0
		src := make([]int, len(out))
		forEachIndex(out, func(idx []int) {
			i := 0
			for idx[axis] >= starts[i+1] {
				i++
			}
			copy(src, idx)
			src[axis] -= starts[i]
			shPut(want, o, scalarAt(in[i], rowMajorOffset(in[i].Shape, src)))
			o++
		})
		shEqual(t, fmt.Sprintf("case %d (%v axis %d)", iter, dt, attr), y, want)
	}
}

func TestConcatErrors(t *testing.T) {
	op := shMustBuild(t, newConcat, shNode("Concat", 13, []string{"a", "b"}, 1, onnx.AttrInt("axis", 1)))
	a := tensor.New(tensor.Float32, 2, 3)
	for _, c := range []struct {
		b    *tensor.Tensor
		want string
	}{
		{tensor.New(tensor.Float64, 2, 3), "dtype float64 differs"},
		{tensor.New(tensor.Float32, 3, 3), "does not match"},
		{tensor.New(tensor.Float32, 2, 3, 1), "want rank 2"},
	} {
		_, err := shRun1(op, a, c.b)
		shWantErr(t, fmt.Sprint(c.b), err, c.want)
	}
	op = shMustBuild(t, newConcat, shNode("Concat", 13, []string{"a"}, 1, onnx.AttrInt("axis", 2)))
	_, err := shRun1(op, a)
	shWantErr(t, "axis 2 of rank 2", err, "out of range")
	_, err = shBuild(newConcat, shNode("Concat", 13, []string{"a"}, 1))
	shWantErr(t, "no axis", err, "\"axis\" is required")
	_, err = shBuild(newConcat, shNode("Concat", 10, []string{"a"}, 1, onnx.AttrInt("axis", -1)))
	shWantErr(t, "negative axis at opset 10", err, "needs opset 11")
}

func TestConcatInfer(t *testing.T) {
	op := shMustBuild(t, newConcat, shNode("Concat", 13, []string{"a", "b", "c"}, 1, onnx.AttrInt("axis", 0))).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Float32, []int{2, -1}), rankedType(tensor.Undefined, []int{3, 5}), Unknown})
	if err != nil || got[0].String() != "float32[? 5]" {
		t.Errorf("with an unknown input: got %v, %v; want float32[? 5]", got, err)
	}
	got, err = op.Infer([]Type{rankedType(tensor.Float32, []int{2, -1}), rankedType(tensor.Float32, []int{3, 5}), rankedType(tensor.Float32, []int{1, -1})})
	if err != nil || got[0].String() != "float32[6 5]" {
		t.Errorf("all ranked: got %v, %v; want float32[6 5]", got, err)
	}
	_, err = op.Infer([]Type{rankedType(tensor.Float32, []int{2, 4}), rankedType(tensor.Float32, []int{3, 5}), Unknown})
	shWantErr(t, "4 and 5 outside the axis", err, "does not match")
	_, err = op.Infer([]Type{rankedType(tensor.Float32, []int{2, 4}), rankedType(tensor.Float32, []int{3}), Unknown})
	shWantErr(t, "ranks 2 and 1", err, "want rank 2")
	_, err = op.Infer([]Type{Type{DType: tensor.Float32}, Type{DType: tensor.Int64}, Unknown})
	shWantErr(t, "float32 and int64", err, "differs")
}
