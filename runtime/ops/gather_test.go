package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestGatherRandom gathers from random tensors of every dtype along every axis (given
// negative half the time) with random int64 or int32 indices of rank 0 to 2, negative ones
// included, and checks y[a, j, b] = x[a, idx[j], b].
func TestGatherRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for iter := range 200 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 1, 4, 4)
		x := shRandTensor(rng, dt, in...)
		axis := rng.IntN(len(in))
		ishape := shRandShape(rng, 0, 2, 3)
		idx := make([]int64, tensor.Numel(ishape))
		for i := range idx {
			idx[i] = int64(rng.IntN(2*in[axis]) - in[axis])
		}
		indices := tensor.FromInt64(idx, ishape...)
		if iter%2 == 0 {
			i32 := tensor.New(tensor.Int32, ishape...)
			for i, v := range idx {
				i32.I32()[i] = int32(v)
			}
			indices = i32
		}
		attr := int64(axis)
		if rng.IntN(2) == 0 {
			attr -= int64(len(in))
		}
		op := shMustBuild(t, newGather, shNode("Gather", 13, []string{"data", "indices"}, 1, onnx.AttrInt("axis", attr)))
		y, err := shRun1(op, x, indices)
		if err != nil {
			t.Fatalf("case %d: %v", iter, err)
		}
		out := append(append(append([]int{}, in[:axis]...), ishape...), in[axis+1:]...)
		src := make([]int, len(in))
		want := shGather(x, out, func(o []int) int {
			copy(src, o[:axis])
			j := rowMajorOffset(ishape, o[axis:axis+len(ishape)])
			src[axis] = int(idx[j])
			if src[axis] < 0 {
				src[axis] += in[axis]
			}
			copy(src[axis+1:], o[axis+len(ishape):])
			return rowMajorOffset(in, src)
		}, nil)
		shEqual(t, fmt.Sprintf("case %d: %v %v axis %d indices %v", iter, dt, in, attr, idx), y, want)
	}
}

func TestGatherErrors(t *testing.T) {
	op := shMustBuild(t, newGather, shNode("Gather", 13, []string{"data", "indices"}, 1, onnx.AttrInt("axis", 1)))
	x := tensor.New(tensor.Float32, 2, 3)
	_, err := shRun1(op, x, shI64(0, 3))
	shWantErr(t, "index 3 of 3", err, "out of range")
	_, err = shRun1(op, x, shI64(-4))
	shWantErr(t, "index -4 of 3", err, "out of range")
	_, err = shRun1(op, x, tensor.FromFloat32([]float32{0}, 1))
	shWantErr(t, "float indices", err, "want an int64 or int32 tensor")
	_, err = shRun1(op, tensor.New(tensor.Float32, 3), shI64(0))
	shWantErr(t, "axis 1 of rank 1", err, "out of range")
	_, err = shRun1(op, tensor.New(tensor.Float32), shI64(0))
	shWantErr(t, "scalar data", err, "want rank >= 1")
}

func TestGatherInfer(t *testing.T) {
	op := shMustBuild(t, newGather, shNode("Gather", 13, []string{"data", "indices"}, 1, onnx.AttrInt("axis", -2))).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Bool, []int{2, -1, 4}), rankedType(tensor.Int32, []int{5, 6})})
	if err != nil || got[0].String() != "bool[2 5 6 4]" {
		t.Errorf("got %v, %v; want bool[2 5 6 4]", got, err)
	}
	_, err = op.Infer([]Type{rankedType(tensor.Bool, []int{2, 3}), Type{DType: tensor.Float32}})
	shWantErr(t, "float32 indices", err, "not supported")
}
