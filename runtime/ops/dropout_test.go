package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestDropoutInference checks that every opset's inference mode passes every dtype through and
// that the mask is all ones: bool from opset 10, the input's type before.
func TestDropoutInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, opset := range []int64{7, 10, 12, 13, 22} {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			x := shRandTensor(rng, dt, 3, 4)
			var attrs []*onnx.AttributeProto
			if opset < 12 {
				attrs = append(attrs, onnx.AttrFloat("ratio", 0.3))
			}
			op := shMustBuild(t, newDropout, shNode("Dropout", opset, []string{"x"}, 2, attrs...))
			out, err := shRun(op, 2, x)
			if err != nil {
				t.Fatalf("opset %d %v: %v", opset, dt, err)
			}
			shEqual(t, "output", out[0], x)
			var want *tensor.Tensor
			if opset >= 10 {
				want = tensor.New(tensor.Bool, 3, 4)
				for i := range want.Bools() {
					want.Bools()[i] = true
				}
			} else {
				want = tensor.New(dt, 3, 4)
				one, _ := scalarFromFloat(dt, 1)
				if err := fillScalar(want, one); err != nil {
					t.Fatal(err)
				}
			}
			shEqual(t, "mask", out[1], want)
		}
	}
}

// TestDropoutTraining checks opset 12+'s ratio and training_mode inputs: training with ratio 0
// is the identity with an all-true mask; training with a positive ratio is an error.
func TestDropoutTraining(t *testing.T) {
	op := shMustBuild(t, newDropout, shNode("Dropout", 13, []string{"x", "r", "t"}, 2))
	x := tensor.FromFloat32([]float32{1, -2, 3}, 3)
	yes := &tensor.Tensor{DType: tensor.Bool, Shape: []int{}, Data: []bool{true}}
	no := &tensor.Tensor{DType: tensor.Bool, Shape: []int{}, Data: []bool{false}}
	out, err := shRun(op, 2, x, tensor.FromFloat32([]float32{0}), yes)
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "ratio 0 output", out[0], x)
	shEqual(t, "ratio 0 mask", out[1], &tensor.Tensor{DType: tensor.Bool, Shape: []int{3}, Data: []bool{true, true, true}})
	_, err = shRun(op, 2, x, tensor.FromFloat32([]float32{0.5}), yes)
	shWantErr(t, "training with ratio 0.5", err, "random mask")
	_, err = shRun(op, 2, x, tensor.FromFloat32([]float32{0.5}), no)
	if err != nil {
		t.Errorf("inference with ratio 0.5: %v", err)
	}
	_, err = shRun(op, 2, x, tensor.FromFloat32([]float32{1}), no)
	shWantErr(t, "ratio 1", err, "want a value in [0, 1)")
	_, err = shRun(op, 2, x, tensor.FromFloat32([]float32{0}), tensor.FromFloat32([]float32{1}))
	shWantErr(t, "float training_mode", err, "want a bool scalar")
	_, err = shBuild(newDropout, shNode("Dropout", 7, []string{"x"}, 1, onnx.AttrFloat("ratio", 1.5)))
	shWantErr(t, "ratio 1.5 at opset 7", err, "want a value in [0, 1)")
	_, err = shBuild(newDropout, shNode("Dropout", 10, []string{"x", "r"}, 1))
	shWantErr(t, "ratio input at opset 10", err, "want 1 inputs")
}

func TestDropoutInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3)
	shInferExact(t, newDropout, shNode("Dropout", 13, []string{"x"}, 2), x)
	shInferExact(t, newDropout, shNode("Dropout", 7, []string{"x"}, 2), x)
}
