package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Resize tolerances: the op accumulates in float64, so float64 results agree with exact
// arithmetic to a few ulps of the magnitudes involved (values up to ~100 here):
// |got-want| <= rzATol + rzRTol*|want|.
const (
	rzATol = 1e-9
	rzRTol = 1e-12
)

// rzNode builds a Resize node at opset 19 with inputs X, roi, scales, sizes (roi, scales or
// sizes left out when their name is "").
func rzNode(roi, scales, sizes string, attrs ...*onnx.AttributeProto) *Node {
	return shNode("Resize", 19, []string{"X", roi, scales, sizes}, 1, attrs...)
}

// rzClose fails unless got and want (float64) agree within the resize tolerance.
func rzClose(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got.DType != want.DType || !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for i := range want.Len() {
		g, w := got.Float64At(i), want.Float64At(i)
		if math.Abs(g-w) > rzATol+rzRTol*math.Abs(w) {
			t.Errorf("%s: element %d: got %v, want %v", what, i, g, w)
			return
		}
	}
}

// rzRamp returns a float64 tensor whose element at idx is the affine function
// c[0] + Σ c[k+1]*idx[k].
func rzRamp(shape []int, c []float64) *tensor.Tensor {
	x := tensor.New(tensor.Float64, shape...)
	i := 0
	forEachIndex(shape, func(idx []int) {
		v := c[0]
		for k, j := range idx {
			v += c[k+1] * float64(j)
		}
		x.F64()[i] = v
		i++
	})
	return x
}

// rzSizes returns the sizes input for shape.
func rzSizes(shape []int) *tensor.Tensor {
	v := make([]int64, len(shape))
	for i, d := range shape {
		v[i] = int64(d)
	}
	return shI64(v...)
}

// TestResizeIdentity resizes random tensors to their own size: every mode and coordinate
// transform must then return the input (tf_crop_and_resize with the full roi).
func TestResizeIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	coords := []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"}
	for iter := range 60 {
		mode := []string{"nearest", "linear", "cubic"}[iter%3]
		coord := coords[iter/3%len(coords)]
		dt := tensor.Float64
		if mode == "nearest" {
			dt = shAllDTypes[iter%len(shAllDTypes)]
		}
		in := shRandShape(rng, 1, 4, 4)
		x := shRandTensor(rng, dt, in...)
		roi := make([]float32, 2*len(in))
		for i := range in {
			roi[len(in)+i] = 1
		}
		op := shMustBuild(t, newResize, rzNode("roi", "", "sizes", onnx.AttrString("mode", mode), onnx.AttrString("coordinate_transformation_mode", coord)))
		y, err := shRun1(op, x, tensor.FromFloat32(roi, len(roi)), nil, rzSizes(in))
		if err != nil {
			t.Fatalf("%s %s %v: %v", mode, coord, in, err)
		}
		what := fmt.Sprintf("%s %s %v %v", mode, coord, dt, in)
		if mode == "nearest" {
			shEqual(t, what, y, x)
		} else {
			rzClose(t, what, y, x)
		}
	}
}

// TestResizeNearestRepeat checks nearest-neighbour resizing by integer factors, for every
// dtype, against numpy-style repetition and subsampling: upsampling by k with asymmetric
// coordinates and floor, or half_pixel and round_prefer_floor (x_ori = o/k - (k-1)/(2k)
// rounds to o/k), repeats each element k times; downsampling by k in {1, 2, 4} (exact float
// scales) with asymmetric coordinates and floor takes every k-th element.
func TestResizeNearestRepeat(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for iter := range 70 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 1, 4, 3)
		up := iter%2 == 0
		factor := make([]int, len(in))
		scales := make([]float32, len(in))
		out := make([]int, len(in))
		for k := range in {
			if up {
				factor[k] = 1 + rng.IntN(3)
				scales[k] = float32(factor[k])
				out[k] = in[k] * factor[k]
			} else {
				factor[k] = 1 << rng.IntN(3)
				in[k] *= factor[k] // make the input divisible
				scales[k] = 1 / float32(factor[k])
				out[k] = in[k] / factor[k]
			}
		}
		x := shRandTensor(rng, dt, in...)
		coord, nearest := "asymmetric", "floor"
		if up && iter%4 == 0 {
			coord, nearest = "half_pixel", "round_prefer_floor"
		}
		op := shMustBuild(t, newResize, rzNode("", "scales", "", onnx.AttrString("coordinate_transformation_mode", coord), onnx.AttrString("nearest_mode", nearest)))
		y, err := shRun1(op, x, nil, tensor.FromFloat32(scales, len(scales)))
		if err != nil {
			t.Fatalf("%v scales %v: %v", in, scales, err)
		}
		src := make([]int, len(in))
		want := shGather(x, out, func(o []int) int {
			for k, i := range o {
				if up {
					src[k] = i / factor[k]
				} else {
					src[k] = i * factor[k]
				}
			}
			return rowMajorOffset(in, src)
		}, nil)
		shEqual(t, fmt.Sprintf("%v %v scales %v %s %s", dt, in, scales, coord, nearest), y, want)
	}
}

// TestResizeLinearRamp checks that n-linear interpolation reproduces affine functions: with
// align_corners every sample lies inside the input, so the output is the ramp evaluated at
// x_ori = o*(in-1)/(out-1); with half_pixel and asymmetric, at x_ori clamped into [0, in-1]
// (the edge is repeated outside).
func TestResizeLinearRamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for iter := range 60 {
		coord := []string{"align_corners", "half_pixel", "asymmetric"}[iter%3]
		in := shRandShape(rng, 1, 4, 5)
		c := make([]float64, len(in)+1)
		for i := range c {
			c[i] = rng.Float64()*10 - 5
		}
		x := rzRamp(in, c)
		out := make([]int, len(in))
		for k := range out {
			out[k] = 1 + rng.IntN(8)
		}
		op := shMustBuild(t, newResize, rzNode("", "", "sizes", onnx.AttrString("mode", "linear"), onnx.AttrString("coordinate_transformation_mode", coord)))
		y, err := shRun1(op, x, nil, nil, rzSizes(out))
		if err != nil {
			t.Fatal(err)
		}
		want := tensor.New(tensor.Float64, out...)
		i := 0
		forEachIndex(out, func(o []int) {
			v := c[0]
			for k, j := range o {
				scale := float64(out[k]) / float64(in[k])
				var xo float64
				switch coord {
				case "align_corners":
					if out[k] > 1 {
						xo = float64(j) * float64(in[k]-1) / float64(out[k]-1)
					}
				case "half_pixel":
					xo = (float64(j)+0.5)/scale - 0.5
				case "asymmetric":
					xo = float64(j) / scale
				}
				v += c[k+1] * min(max(xo, 0), float64(in[k]-1))
			}
			want.F64()[i] = v
			i++
		})
		rzClose(t, fmt.Sprintf("%s %v -> %v", coord, in, out), y, want)
	}
}

// TestResizeConstant checks that every linear and cubic filter (antialiased, with
// exclude_outside, any coordinate transform) sums to one: a constant input stays constant.
func TestResizeConstant(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	coords := []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"}
	for iter := range 80 {
		attrs := []*onnx.AttributeProto{
			onnx.AttrString("mode", []string{"linear", "cubic"}[iter%2]),
			onnx.AttrString("coordinate_transformation_mode", coords[iter/2%len(coords)]),
			onnx.AttrInt("antialias", int64(iter/10%2)),
			onnx.AttrInt("exclude_outside", int64(iter/20%2)),
			onnx.AttrFloat("cubic_coeff_a", -0.5-0.25*float32(iter%3)),
		}
		in := shRandShape(rng, 1, 3, 6)
		x := tensor.New(tensor.Float64, in...)
		for i := range x.F64() {
			x.F64()[i] = 3.25
		}
		scales := make([]float32, len(in))
		out := make([]int, len(in))
		for k := range in {
			for out[k] == 0 {
				scales[k] = float32(0.2 + 2.8*rng.Float64())
				out[k] = int(float64(scales[k]) * float64(in[k]))
			}
		}
		op := shMustBuild(t, newResize, rzNode("", "scales", "", attrs...))
		y, err := shRun1(op, x, nil, tensor.FromFloat32(scales, len(scales)))
		if err != nil {
			t.Fatal(err)
		}
		want := tensor.New(tensor.Float64, out...)
		for i := range want.F64() {
			want.F64()[i] = 3.25
		}
		rzClose(t, fmt.Sprintf("%v scales %v attrs %v", in, scales, attrs), y, want)
	}
}

// TestResizeSpecExamples pins values from the ONNX operator documentation's Resize examples
// (onnx/docs/Operators.md, computed there by the reference implementation).
func TestResizeSpecExamples(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 2, 4)
	scales := tensor.FromFloat32([]float32{1, 1, 0.6, 0.6}, 4)
	for _, c := range []struct {
		name  string
		attrs []*onnx.AttributeProto
		want  []float32
	}{
		{"resize_downsample_scales_linear", []*onnx.AttributeProto{onnx.AttrString("mode", "linear")}, []float32{2.6666665, 4.3333331}},
		{"resize_downsample_scales_linear_align_corners", []*onnx.AttributeProto{onnx.AttrString("mode", "linear"), onnx.AttrString("coordinate_transformation_mode", "align_corners")}, []float32{1, 3.142857}},
		{"resize_downsample_scales_nearest", nil, []float32{1, 3}},
	} {
		op := shMustBuild(t, newResize, rzNode("", "scales", "", c.attrs...))
		y, err := shRun1(op, x, nil, scales)
		if err != nil {
			t.Fatal(err)
		}
		// The documented values are printed with 8 significant digits.
		for i, w := range c.want {
			if g := y.F32()[i]; math.Abs(float64(g-w)) > 1e-6 || !tensor.SameShape(y.Shape, []int{1, 1, 1, 2}) {
				t.Errorf("%s: got %v %v, want %v", c.name, y.Shape, y.F32(), c.want)
				break
			}
		}
	}
}

// TestResizeCropExtrapolation checks tf_crop_and_resize on a roi reaching past the input:
// x_ori = o*(2-(-1))*(4-1)/(7-1) - 1*(4-1) = 1.5*o - 3, and outputs whose x_ori falls outside
// [0, 3] take extrapolation_value.
func TestResizeCropExtrapolation(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4}, 4)
	roi := tensor.FromFloat32([]float32{-1, 2}, 2)
	for _, c := range []struct {
		mode string
		want []float32
	}{
		{"linear", []float32{10, 10, 1, 2.5, 4, 10, 10}},
		{"nearest", []float32{10, 10, 1, 2, 4, 10, 10}}, // 1.5 rounds down (round_prefer_floor)
	} {
		op := shMustBuild(t, newResize, rzNode("roi", "", "sizes", onnx.AttrString("mode", c.mode),
			onnx.AttrString("coordinate_transformation_mode", "tf_crop_and_resize"), onnx.AttrFloat("extrapolation_value", 10)))
		y, err := shRun1(op, x, roi, nil, shI64(7))
		if err != nil {
			t.Fatal(err)
		}
		shEqual(t, c.mode, y, tensor.FromFloat32(c.want, 7))
	}
}

// TestResizeAxesAspect checks opset 18's axes and keep_aspect_ratio_policy: sizes [3, 3] of a
// 2x4 image keep the aspect ratio with one scale, min(3/2, 3/4) = 0.75 for not_larger (output
// round(0.75*[2 4]) = [2 3]), max = 1.5 for not_smaller (output [3 6]).
func TestResizeAxesAspect(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 2, 4)
	for _, c := range []struct {
		policy string
		want   []int
	}{{"not_larger", []int{1, 2, 3}}, {"not_smaller", []int{1, 3, 6}}, {"stretch", []int{1, 3, 3}}} {
		op := shMustBuild(t, newResize, rzNode("", "", "sizes", onnx.AttrInts("axes", -1, 1), onnx.AttrString("keep_aspect_ratio_policy", c.policy)))
		y, err := shRun1(op, x, nil, nil, shI64(3, 3))
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(y.Shape, c.want) {
			t.Errorf("%s: got shape %v, want %v", c.policy, y.Shape, c.want)
		}
	}
}

// TestResizeOpset10 checks the opset-10 form (X, scales; asymmetric): nearest upsampling
// repeats, and downsampling by 2 rounds x_ori = 2*o up.
func TestResizeOpset10(t *testing.T) {
	op := shMustBuild(t, newResize, shNode("Resize", 10, []string{"X", "scales"}, 1))
	y, err := shRun1(op, tensor.FromFloat32([]float32{1, 2, 3}, 3), tensor.FromFloat32([]float32{2}, 1))
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "x2", y, tensor.FromFloat32([]float32{1, 1, 2, 2, 3, 3}, 6))
	lin := shMustBuild(t, newResize, shNode("Resize", 10, []string{"X", "scales"}, 1, onnx.AttrString("mode", "linear")))
	y, err = shRun1(lin, tensor.FromFloat32([]float32{1, 2, 3}, 3), tensor.FromFloat32([]float32{2}, 1))
	if err != nil {
		t.Fatal(err)
	}
	shEqual(t, "linear x2", y, tensor.FromFloat32([]float32{1, 1.5, 2, 2.5, 3, 3}, 6))
}

func TestResizeErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3)
	op := shMustBuild(t, newResize, rzNode("roi", "scales", "sizes"))
	for _, c := range []struct {
		roi, scales, sizes *tensor.Tensor
		want               string
	}{
		{nil, nil, nil, "one of them is required"},
		{nil, tensor.FromFloat32([]float32{1, 2}, 2), shI64(2, 3), "give only one"},
		{nil, tensor.FromFloat32([]float32{2}, 1), nil, "want 2 float values"},
		{nil, tensor.FromFloat32([]float32{1, -2}, 2), nil, "not valid"},
		{nil, tensor.FromFloat32([]float32{1, float32(math.NaN())}, 2), nil, "not valid"},
		{nil, nil, shI64(2), "want 2 values"},
		{nil, nil, shI64(2, -3), "not valid"},
	} {
		_, err := shRun1(op, x, c.roi, c.scales, c.sizes)
		shWantErr(t, c.want, err, c.want)
	}
	crop := shMustBuild(t, newResize, rzNode("roi", "", "sizes", onnx.AttrString("coordinate_transformation_mode", "tf_crop_and_resize")))
	_, err := shRun1(crop, x, nil, nil, shI64(2, 3))
	shWantErr(t, "tf_crop_and_resize without roi", err, "needs 4 float values")
	lin := shMustBuild(t, newResize, rzNode("", "scales", "", onnx.AttrString("mode", "linear")))
	_, err = shRun1(lin, tensor.New(tensor.Bool, 2, 2), nil, tensor.FromFloat32([]float32{2, 2}, 2))
	shWantErr(t, "linear on bool", err, "cannot be interpolated")
	for _, c := range []struct {
		opset int64
		attr  *onnx.AttributeProto
		want  string
	}{
		{19, onnx.AttrString("mode", "area"), "want nearest, linear or cubic"},
		{19, onnx.AttrString("coordinate_transformation_mode", "tf_half_pixel_for_nn"), "removed in opset 18"},
		{18, onnx.AttrString("coordinate_transformation_mode", "half_pixel_symmetric"), "needs opset 19"},
		{13, onnx.AttrInt("antialias", 1), "needs opset 18"},
		{19, onnx.AttrString("nearest_mode", "round"), "want round_prefer_floor"},
		{19, onnx.AttrString("keep_aspect_ratio_policy", "fit"), "want stretch"},
		{19, onnx.AttrInt("exclude_outside", 2), "want 0 or 1"},
	} {
		_, err := shBuild(newResize, shNode("Resize", c.opset, []string{"X", "", "scales"}, 1, c.attr))
		shWantErr(t, c.want, err, c.want)
	}
}

func TestResizeInfer(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 2, 4)
	shInferExact(t, newResize, rzNode("", "", "sizes", onnx.AttrInts("axes", 2, 1), onnx.AttrString("keep_aspect_ratio_policy", "not_smaller")), x, nil, nil, shI64(5, 3))
	shInferExact(t, newResize, rzNode("", "scales", ""), x, nil, tensor.FromFloat32([]float32{1, 1.5, 0.6}, 3))
	shInferExact(t, newResize, shNode("Resize", 10, []string{"X", "scales"}, 1), x, tensor.FromFloat32([]float32{2, 1, 3}, 3))
	op := shMustBuild(t, newResize, rzNode("", "scales", "", onnx.AttrInts("axes", -1))).(Inferer)
	got, err := op.Infer([]Type{rankedType(tensor.Float32, []int{1, -1, 4}), Unknown, Unknown, Unknown})
	if err != nil || got[0].String() != "float32[1 ? ?]" {
		t.Errorf("runtime scales: got %v, %v; want float32[1 ? ?]", got, err)
	}
}
