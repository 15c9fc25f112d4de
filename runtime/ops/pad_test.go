package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// shPadIndex is numpy.pad's source index for position i (relative to the start of the
// unpadded axis) of an axis of n elements, or -1 for the constant. Reflection is done one
// mirror at a time, the way the definition reads, independently of pad.go's closed form.
func shPadIndex(mode string, i, n int) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case padEdge:
		return min(max(i, 0), n-1)
	case padWrap:
		for i < 0 {
			i += n
		}
		for i >= n {
			i -= n
		}
		return i
	case padReflect:
		if n == 1 {
			return 0
		}
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	return -1
}

// TestPadRandom pads random tensors of every dtype in every mode with random pads, negative
// (cropping) ones included, through opset 19's inputs, and compares with shPadIndex.
func TestPadRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for iter := range 300 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		mode := []string{padConstant, padReflect, padEdge, padWrap}[iter/len(shAllDTypes)%4]
		in := shRandShape(rng, 0, 4, 4)
		x := shRandTensor(rng, dt, in...)
		r := len(in)
		pads := make([]int64, 2*r)
		out := make([]int, r)
		for k, n := range in {
			for {
				b, e := rng.IntN(n+6)-n, rng.IntN(n+6)-n
				if n+b+e >= 0 {
					pads[k], pads[k+r] = int64(b), int64(e)
					out[k] = n + b + e
					break
				}
			}
		}
		cv := shRandTensor(rng, dt)
		op := shMustBuild(t, newPad, shNode("Pad", 19, []string{"x", "pads", "value"}, 1, onnx.AttrString("mode", mode)))
		y, err := shRun1(op, x, shI64(pads...), cv)
		if err != nil {
			t.Fatalf("case %d %s %v pads %v: %v", iter, mode, in, pads, err)
		}
		src := make([]int, r)
		want := shGather(x, out, func(idx []int) int {
			for k, o := range idx {
				if src[k] = shPadIndex(mode, o-int(pads[k]), in[k]); src[k] < 0 {
					return -1
				}
			}
			return rowMajorOffset(in, src)
		}, scalarAt(cv, 0))
		shEqual(t, fmt.Sprintf("case %d: %v %s %v pads %v", iter, dt, mode, in, pads), y, want)
	}
}

// TestPadAxes checks opset 18's axes input against the same padding written for every axis.
func TestPadAxes(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	x := shRandTensor(rng, tensor.Float32, 2, 3, 4)
	withAxes := shMustBuild(t, newPad, shNode("Pad", 18, []string{"x", "pads", "", "axes"}, 1, onnx.AttrString("mode", "reflect")))
	full := shMustBuild(t, newPad, shNode("Pad", 18, []string{"x", "pads"}, 1, onnx.AttrString("mode", "reflect")))
	got, err := shRun1(withAxes, x, shI64(2, 1, -1, 3), nil, shI64(-1, 1))
	if err != nil {
		t.Fatal(err)
	}
	want, err := shRun1(full, x, shI64(0, 1, 2, 0, 3, -1))
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "axes [-1 1]", got, want)
}

// TestPadOpset2 checks the attribute form: pads and value attributes.
func TestPadOpset2(t *testing.T) {
	op := shMustBuild(t, newPad, shNode("Pad", 7, []string{"x"}, 1, onnx.AttrInts("pads", 1, 0, 0, 2), onnx.AttrFloat("value", 1.5)))
	y, err := shRun1(op, tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := tensor.FromFloat32([]float32{1.5, 1.5, 1.5, 1.5, 1, 2, 1.5, 1.5, 3, 4, 1.5, 1.5}, 3, 4)
	shEqual(t, "pads [1 0 0 2] value 1.5", y, want)
}

func TestPadErrors(t *testing.T) {
	op := shMustBuild(t, newPad, shNode("Pad", 19, []string{"x", "pads", "value"}, 1, onnx.AttrString("mode", "edge")))
	x := tensor.New(tensor.Float32, 2, 3)
	for _, c := range []struct {
		pads, cv *tensor.Tensor
		want     string
	}{
		{shI64(1, 1, 1), nil, "want 4 values"},
		{shI64(-2, 0, -1, 0), nil, "do not give a valid size"},
		{shI64(0, 0, 0, 0), tensor.FromFloat32([]float32{1, 2}, 2), "want a float32 scalar"},
		{shI64(0, 0, 0, 0), tensor.FromInt64([]int64{1}), "want a float32 scalar"},
		{tensor.FromFloat32([]float32{0, 0, 0, 0}, 4), nil, "want an int64 or int32 tensor"},
	} {
		_, err := shRun1(op, x, c.pads, c.cv)
		shWantErr(t, fmt.Sprint(c.pads.Data), err, c.want)
	}
	_, err := shRun1(op, tensor.New(tensor.Float32, 0, 3), shI64(1, 0, 0, 0), nil)
	shWantErr(t, "edge-padding an empty axis", err, "cannot pad the empty axis")
	_, err = shBuild(newPad, shNode("Pad", 18, []string{"x", "pads"}, 1, onnx.AttrString("mode", "wrap")))
	shWantErr(t, "wrap at opset 18", err, "needs opset 19")
	_, err = shBuild(newPad, shNode("Pad", 19, []string{"x", "pads"}, 1, onnx.AttrString("mode", "mirror")))
	shWantErr(t, "mode mirror", err, "want constant, reflect, edge or wrap")
	_, err = shBuild(newPad, shNode("Pad", 7, []string{"x"}, 1))
	shWantErr(t, "opset 7 without pads", err, "\"pads\" is required")
	_, err = shBuild(newPad, shNode("Pad", 13, []string{"x", "pads", "v", "axes"}, 1))
	shWantErr(t, "axes at opset 13", err, "want 1 to 3 inputs")
}

func TestPadInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3, 4)
	shInferExact(t, newPad, shNode("Pad", 18, []string{"x", "pads", "", "axes"}, 1), x, shI64(1, -1, 2, 0), nil, shI64(0, -1))
	shInferExact(t, newPad, shNode("Pad", 7, []string{"x"}, 1, onnx.AttrInts("pads", 0, 1, 2, 3, 4, 5)), x)
	n := shNode("Pad", 19, []string{"x", "pads"}, 1)
	n.Consts[1] = shI64(0, -3, 0, 0)
	op := shMustBuild(t, newPad, n).(Inferer)
	_, err := op.Infer([]Type{rankedType(tensor.Float32, []int{-1, 2})})
	shWantErr(t, "cropping 3 of 2", err, "do not give a valid size")
}
