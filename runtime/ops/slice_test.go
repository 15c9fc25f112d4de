package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// shSliceIndices lists, one index at a time, the indices the ONNX spec's Slice text selects:
// negative starts and ends get dim added; then start is clamped to [0, dim] for positive steps
// and [0, dim-1] for negative ones, end to [0, dim] and [-1, dim-1]. (This differs from
// Python's slice.indices only for a start below -dim with a negative step: Python selects
// nothing, the spec, and ONNX Runtime, start at element 0.)
func shSliceIndices(start, end, step int64, dim int) []int {
	d := int64(dim)
	if d == 0 {
		return nil
	}
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = min(max(start, 0), d), min(max(end, 0), d)
	} else {
		start, end = min(max(start, 0), d-1), min(max(end, -1), d-1)
	}
	var out []int
	for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
		out = append(out, int(i))
		if (step > 0 && i > math.MaxInt64-step) || (step < 0 && i < math.MinInt64-step) {
			break
		}
	}
	return out
}

// TestSliceRandom slices random tensors of every dtype with random starts, ends (out of range
// and extreme values included), steps (negative included), and axes (negative, shuffled or
// absent), and compares with shSliceIndices.
func TestSliceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	op := shMustBuild(t, newSlice, shNode("Slice", 13, []string{"x", "starts", "ends", "axes", "steps"}, 1))
	noAxes := shMustBuild(t, newSlice, shNode("Slice", 13, []string{"x", "starts", "ends"}, 1))
	bound := func(dim int) int64 {
		switch rng.IntN(10) {
		case 0:
			return math.MaxInt64
		case 1:
			return math.MinInt64
		}
		return int64(rng.IntN(2*dim+7) - dim - 3)
	}
	for iter := range 300 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 1, 4, 5)
		x := shRandTensor(rng, dt, in...)
		r := len(in)
		useAxes := iter%3 != 0
		var axes []int
		if useAxes {
			axes = rng.Perm(r)[:1+rng.IntN(r)]
		} else {
			axes = make([]int, 1+rng.IntN(r))
			for i := range axes {
				axes[i] = i
			}
		}
		k := len(axes)
		starts, ends, steps, axesIn := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
		idx := make([][]int, r) // per axis, the source indices kept
		for a := range r {
			for i := range in[a] {
				idx[a] = append(idx[a], i)
			}
		}
		for i, a := range axes {
			starts[i], ends[i] = bound(in[a]), bound(in[a])
			steps[i] = 1
			if useAxes {
				steps[i] = int64(rng.IntN(7) - 3)
				if steps[i] == 0 { // extreme steps select at most one element
					steps[i] = []int64{math.MinInt64, math.MaxInt64}[rng.IntN(2)]
				}
			}
			axesIn[i] = int64(a)
			if rng.IntN(2) == 0 {
				axesIn[i] -= int64(r)
			}
			idx[a] = shSliceIndices(starts[i], ends[i], steps[i], in[a])
		}
		var y *tensor.Tensor
		var err error
		if useAxes {
			y, err = shRun1(op, x, shI64(starts...), shI64(ends...), shI64(axesIn...), shI64(steps...))
		} else {
			y, err = shRun1(noAxes, x, shI64(starts...), shI64(ends...))
		}
		what := fmt.Sprintf("case %d: %v %v starts %v ends %v axes %v steps %v", iter, dt, in, starts, ends, axesIn, steps)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out := make([]int, r)
		for a := range r {
			out[a] = len(idx[a])
		}
		src := make([]int, r)
		want := shGather(x, out, func(o []int) int {
			for a, i := range o {
				src[a] = idx[a][i]
			}
			return rowMajorOffset(in, src)
		}, nil)
		shEqual(t, what, y, want)
	}
}

// TestSliceOpset1 checks the attribute form.
func TestSliceOpset1(t *testing.T) {
	op := shMustBuild(t, newSlice, shNode("Slice", 9, []string{"x"}, 1,
		onnx.AttrInts("starts", 1, 0), onnx.AttrInts("ends", 1000, -1), onnx.AttrInts("axes", 0, 1)))
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	y, err := shRun1(op, x)
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "x[1:1000, 0:-1]", y, tensor.FromFloat32([]float32{4, 5}, 1, 2))
}

func TestSliceErrors(t *testing.T) {
	op := shMustBuild(t, newSlice, shNode("Slice", 13, []string{"x", "starts", "ends", "axes", "steps"}, 1))
	x := tensor.New(tensor.Float32, 4, 5)
	for _, c := range []struct {
		starts, ends, axes, steps *tensor.Tensor
		want                      string
	}{
		{shI64(0), shI64(1, 2), nil, nil, "want 1 values like \"starts\""},
		{shI64(0), shI64(1), shI64(2), nil, "out of range"},
		{shI64(0, 0), shI64(1, 1), shI64(1, -1), nil, "given twice"},
		{shI64(0), shI64(1), shI64(0), shI64(0), "is 0"},
		{shI64(0), shI64(1), shI64(0), shI64(1, 1), "want 1 values"},
		{tensor.FromFloat32([]float32{0}, 1), shI64(1), nil, nil, "want an int64 or int32 tensor"},
	} {
		_, err := shRun1(op, x, c.starts, c.ends, c.axes, c.steps)
		shWantErr(t, fmt.Sprint(c.starts.Data, c.ends.Data), err, c.want)
	}
	_, err := shRun1(op, x, shI64(0, 0, 0), shI64(1, 1, 1), nil, nil)
	shWantErr(t, "3 starts for rank 2", err, "for an input of rank 2")
	_, err = shBuild(newSlice, shNode("Slice", 9, []string{"x"}, 1, onnx.AttrInts("starts", 0)))
	shWantErr(t, "opset 9 without ends", err, "are required")
}

func TestSliceInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 20, 10, 5)
	shInferExact(t, newSlice, shNode("Slice", 13, []string{"x", "starts", "ends", "axes", "steps"}, 1), x, shI64(-1, 1), shI64(math.MinInt64, 1000), shI64(0, -1), shI64(-3, 2))
	shInferExact(t, newSlice, shNode("Slice", 13, []string{"x", "starts", "ends"}, 1), x, shI64(2, 3), shI64(-2, 4))
	shInferExact(t, newSlice, shNode("Slice", 9, []string{"x"}, 1, onnx.AttrInts("starts", 1), onnx.AttrInts("ends", 3)), x)
	n := shNode("Slice", 13, []string{"x", "starts", "ends", "axes"}, 1)
	n.Consts[1], n.Consts[2], n.Consts[3] = shI64(0), shI64(1), shI64(3)
	op := shMustBuild(t, newSlice, n).(Inferer)
	_, err := op.Infer([]Type{TypeOf(x), Unknown, Unknown, Unknown})
	shWantErr(t, "axis 3 of rank 3", err, "out of range")
}
