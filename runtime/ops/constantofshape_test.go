package ops

import (
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestConstantOfShapeDTypes fills shapes (including empty ones) with a value of every dtype.
func TestConstantOfShapeDTypes(t *testing.T) {
	for _, dt := range shAllDTypes {
		v := tensor.New(dt, 1)
		shSet(v, 0, 7)
		op := shMustBuild(t, newConstantOfShape, shNode("ConstantOfShape", 21, []string{"shape"}, 1, onnx.AttrTensor("value", v)))
		for _, shape := range [][]int64{{2, 3}, {}, {4, 0}} {
			got, err := shRun1(op, tensor.FromInt64(shape, len(shape)))
			if err != nil {
				t.Fatal(err)
			}
			dims := make([]int, len(shape))
			for i, d := range shape {
				dims[i] = int(d)
			}
			want := tensor.New(dt, dims...)
			if err := fillScalar(want, scalarAt(v, 0)); err != nil {
				t.Fatal(err)
			}
			shEqual(t, dt.String(), got, want)
		}
	}
}

func TestConstantOfShapeDefault(t *testing.T) {
	op := shMustBuild(t, newConstantOfShape, shNode("ConstantOfShape", 9, []string{"shape"}, 1))
	got, err := shRun1(op, shI64(2))
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "default value", got, tensor.FromFloat32([]float32{0, 0}, 2))
}

func TestConstantOfShapeErrors(t *testing.T) {
	op := shMustBuild(t, newConstantOfShape, shNode("ConstantOfShape", 21, []string{"shape"}, 1))
	_, err := shRun1(op, shI64(2, -1))
	shWantErr(t, "negative dim", err, "negative")
	_, err = shRun1(op, shI64(1<<40, 1<<40))
	shWantErr(t, "2^80 elements", err, "memory cap")
	_, err = shRun1(op, tensor.FromInt64([]int64{2}))
	shWantErr(t, "rank-0 shape", err, "want rank 1")
	_, err = shBuild(newConstantOfShape, shNode("ConstantOfShape", 21, []string{"shape"}, 1, onnx.AttrTensor("value", tensor.New(tensor.Float32, 2))))
	shWantErr(t, "two-element value", err, "want one element")
}

func TestConstantOfShapeInfer(t *testing.T) {
	v := tensor.FromInt64([]int64{3}, 1)
	n := shNode("ConstantOfShape", 21, []string{"shape"}, 1, onnx.AttrTensor("value", v))
	n.Consts[0] = shI64(2, 0, 3) // a plan-time constant shape gives the exact type
	op := shMustBuild(t, newConstantOfShape, n).(Inferer)
	got, err := op.Infer([]Type{TypeOf(n.Consts[0])})
	if err != nil || got[0].String() != "int64[2 0 3]" {
		t.Errorf("constant shape: got %v, %v; want int64[2 0 3]", got, err)
	}
	n.Consts[0] = nil // a run-time shape of known length gives the rank
	op = shMustBuild(t, newConstantOfShape, n).(Inferer)
	got, err = op.Infer([]Type{rankedType(tensor.Int64, []int{2})})
	if err != nil || got[0].String() != "int64[? ?]" {
		t.Errorf("run-time shape: got %v, %v; want int64[? ?]", got, err)
	}
}
