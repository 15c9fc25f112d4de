package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestSqueezeRandom squeezes random tensors of every dtype with many unit dimensions: with
// axes as an input (opset 13), as an attribute (opset 11), and without axes.
func TestSqueezeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	in13 := shMustBuild(t, newSqueeze, shNode("Squeeze", 13, []string{"x", "axes"}, 1))
	all := shMustBuild(t, newSqueeze, shNode("Squeeze", 13, []string{"x"}, 1))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 5, 2)
		x := shRandTensor(rng, dt, in...)
		var axes []int64
		var want []int
		for k, d := range in {
			if d == 1 && rng.IntN(2) == 0 {
				a := int64(k)
				if rng.IntN(2) == 0 {
					a -= int64(len(in))
				}
				axes = append(axes, a)
				continue
			}
			want = append(want, d)
		}
		rng.Shuffle(len(axes), func(i, j int) { axes[i], axes[j] = axes[j], axes[i] })
		what := fmt.Sprintf("%v axes %v", in, axes)
		y, err := shRun1(in13, x, tensor.FromInt64(axes, len(axes)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		shEqual(t, what, y, &tensor.Tensor{DType: dt, Shape: want, Data: x.Data})
		op11 := shMustBuild(t, newSqueeze, shNode("Squeeze", 11, []string{"x"}, 1, onnx.AttrInts("axes", axes...)))
		if len(axes) > 0 { // an empty attribute reads as absent: squeeze everything
			y, err = shRun1(op11, x)
			if err != nil {
				t.Fatalf("opset 11 %s: %v", what, err)
			}
			shEqual(t, "opset 11 "+what, y, &tensor.Tensor{DType: dt, Shape: want, Data: x.Data})
		}
		var noUnit []int
		for _, d := range in {
			if d != 1 {
				noUnit = append(noUnit, d)
			}
		}
		y, err = shRun1(all, x)
		if err != nil {
			t.Fatal(err)
		}
		shEqual(t, fmt.Sprintf("%v without axes", in), y, &tensor.Tensor{DType: dt, Shape: noUnit, Data: x.Data})
	}
}

func TestSqueezeErrors(t *testing.T) {
	op := shMustBuild(t, newSqueeze, shNode("Squeeze", 13, []string{"x", "axes"}, 1))
	x := tensor.New(tensor.Float32, 1, 3)
	_, err := shRun1(op, x, shI64(1))
	shWantErr(t, "axis of size 3", err, "cannot squeeze axis 1 of size 3")
	_, err = shRun1(op, x, shI64(2))
	shWantErr(t, "axis 2 of rank 2", err, "out of range")
	_, err = shRun1(op, x, shI64(0, -2))
	shWantErr(t, "axes 0 and -2", err, "given twice")
}

func TestSqueezeInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 3, 1, 4)
	shInferExact(t, newSqueeze, shNode("Squeeze", 13, []string{"x", "axes"}, 1), x, shI64(-2))
	shInferExact(t, newSqueeze, shNode("Squeeze", 13, []string{"x"}, 1), x)
	shInferExact(t, newSqueeze, shNode("Squeeze", 11, []string{"x"}, 1, onnx.AttrInts("axes", 0)), x)
	n := shNode("Squeeze", 13, []string{"x", "axes"}, 1)
	n.Consts[1] = shI64(1)
	op := shMustBuild(t, newSqueeze, n).(Inferer)
	_, err := op.Infer([]Type{TypeOf(x), Unknown})
	shWantErr(t, "axis of size 3", err, "cannot squeeze")
}
