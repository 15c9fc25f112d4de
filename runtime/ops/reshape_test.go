package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestReshapeRandom reshapes random tensors of every dtype into random factorisations of their
// element count, written with 0 (copy) and -1 (infer) where possible; the data must not move.
func TestReshapeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	op := shMustBuild(t, newReshape, shNode("Reshape", 14, []string{"data", "shape"}, 1))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 4, 4)
		x := shRandTensor(rng, dt, in...)
		// A random target: split the element count into factors of the input dims, shuffled.
		var want []int
		for _, d := range in {
			want = append(want, d)
		}
		rng.Shuffle(len(want), func(i, j int) { want[i], want[j] = want[j], want[i] })
		if len(want) > 1 && rng.IntN(2) == 0 {
			want = append([]int{want[0] * want[1]}, want[2:]...)
		}
		dims := make([]int64, len(want))
		for i, d := range want {
			dims[i] = int64(d)
			if i < len(in) && in[i] == d && rng.IntN(2) == 0 {
				dims[i] = 0
			}
		}
		if len(dims) > 0 && rng.IntN(2) == 0 {
			dims[rng.IntN(len(dims))] = -1
		}
		y, err := shRun1(op, x, shI64(dims...))
		if err != nil {
			t.Fatalf("case %d: %v -> %v: %v", iter, in, dims, err)
		}
		shEqual(t, fmt.Sprintf("case %d: %v -> %v", iter, in, dims), y, &tensor.Tensor{DType: dt, Shape: want, Data: x.Data})
	}
}

func TestReshapeAllowZero(t *testing.T) {
	x := tensor.New(tensor.Float32, 0, 3, 4)
	az := shMustBuild(t, newReshape, shNode("Reshape", 14, []string{"data", "shape"}, 1, onnx.AttrInt("allowzero", 1)))
	y, err := shRun1(az, x, shI64(3, 4, 0))
	if err != nil || fmt.Sprint(y.Shape) != "[3 4 0]" {
		t.Errorf("allowzero=1: got %v, %v; want shape [3 4 0]", y, err)
	}
	copyZero := shMustBuild(t, newReshape, shNode("Reshape", 14, []string{"data", "shape"}, 1))
	y, err = shRun1(copyZero, x, shI64(0, 4, 3))
	if err != nil || fmt.Sprint(y.Shape) != "[0 4 3]" {
		t.Errorf("allowzero=0: got %v, %v; want shape [0 4 3]", y, err)
	}
	_, err = shRun1(az, x, shI64(0, -1))
	shWantErr(t, "allowzero with 0 and -1", err, "cannot infer")
	_, err = shBuild(newReshape, shNode("Reshape", 13, []string{"data", "shape"}, 1, onnx.AttrInt("allowzero", 1)))
	shWantErr(t, "allowzero at opset 13", err, "needs opset 14")
}

func TestReshapeErrors(t *testing.T) {
	op := shMustBuild(t, newReshape, shNode("Reshape", 21, []string{"data", "shape"}, 1))
	x := tensor.New(tensor.Float32, 2, 3, 4)
	for _, c := range []struct {
		shape *tensor.Tensor
		want  string
	}{
		{shI64(-1, -1), "more than one -1"},
		{shI64(5, -1), "cannot reshape"},
		{shI64(4, 7), "cannot reshape"},
		{shI64(2, 3, 4, 0), "has only 3 dimensions"},
		{shI64(-2, 12), "negative dimension"},
		{shI64(1<<62, 1<<62), "too many elements"},
		{tensor.FromInt64([]int64{2, 12}, 1, 2), "want rank 1"},
		{tensor.FromFloat32([]float32{24}, 1), "want an int64 or int32 tensor"},
	} {
		_, err := shRun1(op, x, c.shape)
		shWantErr(t, fmt.Sprintf("shape %v", c.shape.Data), err, c.want)
	}
	_, err := shBuild(newReshape, shNode("Reshape", 21, []string{"data"}, 1))
	shWantErr(t, "one input", err, "want 2 inputs")
}

// TestReshapeInfer checks plan-time inference with a constant target shape: exact with a
// known input, partial (0 copies a known dim, -1 unknown) with a partly known one, and the
// element-count error found before running.
func TestReshapeInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3, 4)
	shInferExact(t, newReshape, shNode("Reshape", 14, []string{"data", "shape"}, 1), x, shI64(0, -1))
	n := shNode("Reshape", 14, []string{"data", "shape"}, 1)
	n.Consts[1] = shI64(0, -1, 2)
	op := shMustBuild(t, newReshape, n).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Float32, []int{5, -1, 4}), Unknown})
	if err != nil || got[0].String() != "float32[5 ? 2]" {
		t.Errorf("partial: got %v, %v; want float32[5 ? 2]", got, err)
	}
	n = shNode("Reshape", 14, []string{"data", "shape"}, 1)
	n.Consts[1] = shI64(5, 5)
	op = shMustBuild(t, newReshape, n).(Inferer)
	_, err = op.Infer([]Type{TypeOf(x), Unknown})
	shWantErr(t, "24 elements into [5 5]", err, "cannot reshape")
}
