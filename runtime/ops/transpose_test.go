package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestTransposeRandom checks random permutations (and the default reversal) of random tensors
// of every dtype against the definition y[i_0..i_{r-1}] = x[j] with j[perm[k]] = i_k.
func TestTransposeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 5, 4)
		x := shRandTensor(rng, dt, in...)
		perm := make([]int64, len(in))
		var attrs []*onnx.AttributeProto
		if iter%4 == 0 {
			for i := range perm {
				perm[i] = int64(len(in) - 1 - i)
			}
		} else {
			for i, p := range rng.Perm(len(in)) {
				perm[i] = int64(p)
			}
			attrs = append(attrs, onnx.AttrInts("perm", perm...))
		}
		op := shMustBuild(t, newTranspose, shNode("Transpose", 21, []string{"x"}, 1, attrs...))
		y, err := shRun1(op, x)
		if err != nil {
			t.Fatalf("%v perm %v: %v", in, perm, err)
		}
		out := make([]int, len(in))
		for i, p := range perm {
			out[i] = in[p]
		}
		src := make([]int, len(in))
		want := shGather(x, out, func(idx []int) int {
			for k, p := range perm {
				src[p] = idx[k]
			}
			return rowMajorOffset(in, src)
		}, nil)
		shEqual(t, fmt.Sprintf("%v %v perm %v", dt, in, perm), y, want)
	}
}

func TestTransposeErrors(t *testing.T) {
	_, err := shBuild(newTranspose, shNode("Transpose", 21, []string{"x"}, 1, onnx.AttrInts("perm", 0, 0, 1)))
	shWantErr(t, "perm [0 0 1]", err, "not a permutation")
	op := shMustBuild(t, newTranspose, shNode("Transpose", 21, []string{"x"}, 1, onnx.AttrInts("perm", 1, 0)))
	_, err = shRun1(op, tensor.New(tensor.Float32, 2, 3, 4))
	shWantErr(t, "perm of rank 2 for rank 3", err, "2 entries for an input of rank 3")
}

func TestTransposeInfer(t *testing.T) {
	op := shMustBuild(t, newTranspose, shNode("Transpose", 21, []string{"x"}, 1, onnx.AttrInts("perm", 2, 0, 1))).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Int8, []int{2, -1, 4})})
	if err != nil || got[0].String() != "int8[4 2 ?]" {
		t.Errorf("got %v, %v; want int8[4 2 ?]", got, err)
	}
	_, err = op.Infer([]Type{rankedType(tensor.Int8, []int{2, 3})})
	shWantErr(t, "perm of 3 for rank 2", err, "3 entries for an input of rank 2")
}
