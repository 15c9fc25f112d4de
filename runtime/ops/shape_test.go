package ops

import (
	"fmt"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestShapeStartEnd checks every start and end in [-5, 5] on ranks 0 to 3 against Python's
// list slicing dims[start:end], which the spec follows.
func TestShapeStartEnd(t *testing.T) {
	for r := range 4 {
		dims := []int{2, 3, 4}[:r]
		x := tensor.New(tensor.Uint8, dims...)
		for start := int64(-5); start <= 5; start++ {
			for end := int64(-5); end <= 6; end++ {
				attrs := []*onnx.AttributeProto{onnx.AttrInt("start", start)}
				if end <= 5 { // end 6 stands for "no end attribute"
					attrs = append(attrs, onnx.AttrInt("end", end))
				}
				op := shMustBuild(t, newShape, shNode("Shape", 15, []string{"x"}, 1, attrs...))
				y, err := shRun1(op, x)
				if err != nil {
					t.Fatal(err)
				}
				norm := func(v int64) int {
					if v < 0 {
						v += int64(r)
					}
					return int(min(max(v, 0), int64(r)))
				}
				lo, hi := norm(start), r
				if end <= 5 {
					hi = norm(end)
				}
				var want []int64
				for i := lo; i < hi; i++ {
					want = append(want, int64(dims[i]))
				}
				shEqual(t, fmt.Sprintf("rank %d start %d end %d", r, start, end), y, tensor.FromInt64(append([]int64{}, want...), len(want)))
			}
		}
	}
	_, err := shBuild(newShape, shNode("Shape", 14, []string{"x"}, 1, onnx.AttrInt("start", 1)))
	shWantErr(t, "start at opset 14", err, "need opset 15")
}

func TestShapeInfer(t *testing.T) {
	shInferExact(t, newShape, shNode("Shape", 15, []string{"x"}, 1, onnx.AttrInt("start", -2)), tensor.New(tensor.Float32, 2, 3, 4))
}
