package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestUnsqueezeRandom inserts random sets of unit dimensions (unsorted, negative half the
// time) into random tensors of every dtype, with axes as an input (opset 13) and as an
// attribute (opset 11).
func TestUnsqueezeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	in13 := shMustBuild(t, newUnsqueeze, shNode("Unsqueeze", 13, []string{"x", "axes"}, 1))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 3, 3)
		x := shRandTensor(rng, dt, in...)
		r := len(in) + 1 + rng.IntN(3)
		var axes []int64
		want := make([]int, r)
		j := 0
		positions := rng.Perm(r)[:r-len(in)]
		isUnit := make([]bool, r)
		for _, p := range positions {
			isUnit[p] = true
			a := int64(p)
			if rng.IntN(2) == 0 {
				a -= int64(r)
			}
			axes = append(axes, a)
		}
		for k := range want {
			if isUnit[k] {
				want[k] = 1
			} else {
				want[k] = in[j]
				j++
			}
		}
		what := fmt.Sprintf("%v axes %v", in, axes)
		y, err := shRun1(in13, x, tensor.FromInt64(axes, len(axes)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		shEqual(t, what, y, &tensor.Tensor{DType: dt, Shape: want, Data: x.Data})
		op11 := shMustBuild(t, newUnsqueeze, shNode("Unsqueeze", 11, []string{"x"}, 1, onnx.AttrInts("axes", axes...)))
		y, err = shRun1(op11, x)
		if err != nil {
			t.Fatalf("opset 11 %s: %v", what, err)
		}
		shEqual(t, "opset 11 "+what, y, &tensor.Tensor{DType: dt, Shape: want, Data: x.Data})
	}
}

func TestUnsqueezeErrors(t *testing.T) {
	op := shMustBuild(t, newUnsqueeze, shNode("Unsqueeze", 13, []string{"x", "axes"}, 1))
	x := tensor.New(tensor.Float32, 2, 3)
	_, err := shRun1(op, x, shI64(3))
	shWantErr(t, "axis 3 for output rank 3", err, "out of range")
	_, err = shRun1(op, x, shI64(0, -4)) // output rank 4
	shWantErr(t, "axes 0 and -4", err, "given twice")
	_, err = shBuild(newUnsqueeze, shNode("Unsqueeze", 13, []string{"x"}, 1))
	shWantErr(t, "opset 13 without axes", err, "want 2 inputs")
	_, err = shBuild(newUnsqueeze, shNode("Unsqueeze", 11, []string{"x"}, 1))
	shWantErr(t, "opset 11 without axes", err, "\"axes\" is required")
}

func TestUnsqueezeInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 3, 4)
	shInferExact(t, newUnsqueeze, shNode("Unsqueeze", 13, []string{"x", "axes"}, 1), x, shI64(-1, 0))
	shInferExact(t, newUnsqueeze, shNode("Unsqueeze", 11, []string{"x"}, 1, onnx.AttrInts("axes", 1)), x)
}
