package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestConstantValue round-trips tensors of every dtype through the value attribute.
func TestConstantValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, dt := range shAllDTypes {
		want := shRandTensor(rng, dt, 2, 3)
		op := shMustBuild(t, newConstant, shNode("Constant", 13, nil, 1, onnx.AttrTensor("value", want)))
		got, err := shRun1(op)
		if err != nil {
			t.Fatal(err)
		}
		shEqual(t, dt.String(), got, want)
	}
}

// TestConstantScalarAttrs checks opset 12's value_float(s) and value_int(s).
func TestConstantScalarAttrs(t *testing.T) {
	for _, c := range []struct {
		attr *onnx.AttributeProto
		want *tensor.Tensor
	}{
		{onnx.AttrFloat("value_float", 2.5), tensor.FromFloat32([]float32{2.5})},
		{onnx.AttrFloats("value_floats", 1, -2), tensor.FromFloat32([]float32{1, -2}, 2)},
		{onnx.AttrInt("value_int", -7), tensor.FromInt64([]int64{-7})},
		{onnx.AttrInts("value_ints", 3, 4, 5), tensor.FromInt64([]int64{3, 4, 5}, 3)},
	} {
		op := shMustBuild(t, newConstant, shNode("Constant", 12, nil, 1, c.attr))
		got, err := shRun1(op)
		if err != nil {
			t.Fatal(err)
		}
		shEqual(t, c.attr.GetName(), got, c.want)
	}
}

func TestConstantErrors(t *testing.T) {
	for _, c := range []struct {
		opset int64
		attrs []*onnx.AttributeProto
		want  string
	}{
		{13, nil, "want exactly one of"},
		{13, []*onnx.AttributeProto{onnx.AttrInt("value_int", 1), onnx.AttrFloat("value_float", 1)}, "got 2 (value_float, value_int)"},
		{11, []*onnx.AttributeProto{onnx.AttrInt("value_int", 1)}, "needs opset 12"},
		{13, []*onnx.AttributeProto{onnx.AttrString("value_string", "a")}, "no sparse or string tensors"},
		{13, []*onnx.AttributeProto{onnx.AttrInt("value", 1)}, "want type TENSOR"},
	} {
		_, err := shBuild(newConstant, shNode("Constant", c.opset, nil, 1, c.attrs...))
		shWantErr(t, c.want, err, c.want)
	}
	// A tensor attribute over the limits is refused before its data is allocated.
	big := onnx.AttrTensor("value", tensor.New(tensor.Float32, 4, 4))
	n := shNode("Constant", 13, nil, 1, big)
	n.Limits = onnx.Limits{MaxElements: 10}
	_, err := shBuild(newConstant, n)
	shWantErr(t, "16 elements over a cap of 10", err, "elements")
}

func TestConstantInfer(t *testing.T) {
	shInferExact(t, newConstant, shNode("Constant", 13, nil, 1, onnx.AttrInts("value_ints", 1, 2)))
}
