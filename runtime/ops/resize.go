package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Resize resamples its input (opset 10, 11, 13, 18, 19; nearest mode moves every dtype,
// linear and cubic compute in float64 for every numeric dtype).
//
//   - Opset 10: inputs X and scales; mode nearest or linear with asymmetric coordinates, and
//     nearest rounding down (up when an axis shrinks), as ONNX Runtime does.
//   - Opset 11 and 13: inputs X, roi, scales, sizes (exactly one of scales and sizes; roi only
//     for tf_crop_and_resize); mode nearest, linear or cubic (cubic_coeff_a, exclude_outside);
//     coordinate_transformation_mode half_pixel (default), pytorch_half_pixel, align_corners,
//     asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize (extrapolation_value); nearest_mode
//     round_prefer_floor (default), round_prefer_ceil, floor, ceil.
//   - Opset 18: antialias (linear and cubic filters widen when downsampling), axes (scales,
//     sizes and roi cover only these axes), keep_aspect_ratio_policy (stretch, not_larger,
//     not_smaller: one scale for all axes, sizes rounded half up); tf_half_pixel_for_nn is gone.
//   - Opset 19: half_pixel_symmetric.
//
// An output size from scales is floor(scale*size). See resample.go for the arithmetic.
type resize struct {
	rs         resampler
	legacy     bool    // opset 10: inputs X, scales
	axes       []int64 // nil: all
	keepAspect string

	// Plan-time values of the roi, scales and sizes inputs; known is false when one of them
	// is computed at run time.
	known              bool
	roi, scales, sizes *tensor.Tensor
}

func newResize(n *Node) (Op, error) {
	op := resize{legacy: n.Opset < 11, rs: resampler{cubicA: -0.75}}
	a := n.Attrs
	if op.legacy {
		if err := n.CheckArity(2, 2, 1, 1); err != nil {
			return nil, err
		}
		if err := checkInputsPresent(n, 2); err != nil {
			return nil, err
		}
		op.rs.coord, op.rs.nearest = coordAsymmetric, nearestSimple
		op.known, op.scales = n.Consts[1] != nil, n.Consts[1]
		switch m := a.String("mode", "nearest"); m {
		case "nearest":
			op.rs.mode = interpNearest
		case "linear":
			op.rs.mode = interpLinear
		default:
			a.Errorf("mode", "want nearest or linear, got %q", m)
		}
		return op, nil
	}
	if err := n.CheckArity(1, 4, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	op.known = true
	for i := 1; i < n.NumInputs(); i++ {
		if n.Proto.GetInput()[i] != "" && n.Consts[i] == nil {
			op.known = false
		}
	}
	if op.known {
		op.roi, op.scales, op.sizes = nonEmptyInput(n.Consts, 1), nonEmptyInput(n.Consts, 2), nonEmptyInput(n.Consts, 3)
	}
	m := a.String("mode", "nearest")
	mode, ok := interpModes[m]
	if !ok {
		a.Errorf("mode", "want nearest, linear or cubic, got %q", m)
	}
	op.rs.mode = mode
	c := a.String("coordinate_transformation_mode", "half_pixel")
	coord, ok := coordModes[c]
	switch {
	case !ok:
		a.Errorf("coordinate_transformation_mode", "unknown mode %q", c)
	case coord == coordTFHalfPixelForNN && n.Opset >= 18:
		a.Errorf("coordinate_transformation_mode", "%q was removed in opset 18, the model imports opset %d", c, n.Opset)
	case coord == coordHalfPixelSymmetric && n.Opset < 19:
		a.Errorf("coordinate_transformation_mode", "%q needs opset 19 or later, the model imports opset %d", c, n.Opset)
	}
	op.rs.coord = coord
	nm := a.String("nearest_mode", "round_prefer_floor")
	if op.rs.nearest, ok = nearestModes[nm]; !ok {
		a.Errorf("nearest_mode", "want round_prefer_floor, round_prefer_ceil, floor or ceil, got %q", nm)
	}
	op.rs.cubicA = float64(a.Float("cubic_coeff_a", -0.75))
	op.rs.excludeOutside = n.Attrs.Flag("exclude_outside", false)
	op.rs.extrapolation = float64(a.Float("extrapolation_value", 0))
	if n.Opset < 18 {
		for _, name := range []string{"antialias", "axes", "keep_aspect_ratio_policy"} {
			if a.Has(name) {
				a.Errorf(name, "needs opset 18 or later, the model imports opset %d", n.Opset)
			}
		}
		return op, nil
	}
	op.rs.antialias = n.Attrs.Flag("antialias", false)
	op.axes = a.Ints("axes", nil)
	op.keepAspect = a.String("keep_aspect_ratio_policy", "stretch")
	switch op.keepAspect {
	case "stretch", "not_larger", "not_smaller":
	default:
		a.Errorf("keep_aspect_ratio_policy", "want stretch, not_larger or not_smaller, got %q", op.keepAspect)
	}
	return op, nil
}

func (op resize) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	var roi, scales, sizes *tensor.Tensor
	if op.legacy {
		scales = in[1]
	} else {
		roi, scales, sizes = nonEmptyInput(in, 1), nonEmptyInput(in, 2), nonEmptyInput(in, 3)
	}
	geo, err := op.geometry(x.Shape, roi, scales, sizes)
	if err != nil {
		return err
	}
	return op.rs.run(x, out[0], geo)
}

// geometry works out the resampling of every axis of an input of shape in.
func (op resize) geometry(in []int, roi, scales, sizes *tensor.Tensor) ([]resampleAxis, error) {
	r := len(in)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if op.axes != nil {
		var err error
		if axes, err = resolveAxes(op.axes, r); err != nil {
			return nil, fmt.Errorf("attribute \"axes\": %w", err)
		}
	}
	geo := make([]resampleAxis, r)
	for k, d := range in {
		geo[k] = resampleAxis{in: d, out: d, scale: 1, roiStart: 0, roiEnd: 1}
	}
	for _, ax := range axes {
		geo[ax].resized = true
	}
	switch {
	case scales != nil && sizes != nil:
		return nil, fmt.Errorf("inputs \"scales\" and \"sizes\": give only one of them")
	case scales != nil:
		if err := resizeFromScales(geo, axes, scales); err != nil {
			return nil, err
		}
	case sizes != nil:
		if err := op.resizeFromSizes(geo, axes, sizes); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("inputs \"scales\" and \"sizes\": one of them is required")
	}
	if op.rs.coord == coordTFCropAndResize {
		if roi == nil || roi.Len() != 2*len(axes) || (roi.DType != tensor.Float32 && roi.DType != tensor.Float64) {
			return nil, fmt.Errorf("input \"roi\": tf_crop_and_resize needs %d float values (starts then ends of the resized axes), got %v", 2*len(axes), roi)
		}
		for i, ax := range axes {
			geo[ax].roiStart, geo[ax].roiEnd = roi.Float64At(i), roi.Float64At(len(axes)+i)
		}
	}
	return geo, nil
}

// nonEmptyInput returns input i, or nil when it is absent or has no elements (Resize marks
// unused inputs either way).
func nonEmptyInput(in []*tensor.Tensor, i int) *tensor.Tensor {
	if len(in) <= i || in[i] == nil || in[i].Len() == 0 {
		return nil
	}
	return in[i]
}

// resizeFromScales sets the scale and output size of each of axes from the scales input.
func resizeFromScales(geo []resampleAxis, axes []int, scales *tensor.Tensor) error {
	if scales.Rank() != 1 || scales.Len() != len(axes) || (scales.DType != tensor.Float32 && scales.DType != tensor.Float64) {
		return fmt.Errorf("input \"scales\": want %d float values (one per resized axis), got %v", len(axes), scales)
	}
	for i, ax := range axes {
		s := scales.Float64At(i)
		out := s * float64(geo[ax].in)
		if !(s > 0) || math.IsInf(s, 0) || out > float64(tensor.MaxElements) {
			return fmt.Errorf("input \"scales\": scale %g for axis %d of size %d is not valid", s, ax, geo[ax].in)
		}
		geo[ax].scale, geo[ax].out = s, int(out)
	}
	return nil
}

// resizeFromSizes sets the output size and scale of each of axes from the sizes input and
// the keep_aspect_ratio_policy.
func (op resize) resizeFromSizes(geo []resampleAxis, axes []int, sizes *tensor.Tensor) error {
	if sizes.Rank() != 1 || sizes.Len() != len(axes) {
		return fmt.Errorf("input \"sizes\": want %d values (one per resized axis), got %v", len(axes), sizes)
	}
	v, err := sizes.Int64s()
	if err != nil {
		return fmt.Errorf("input \"sizes\": %w", err)
	}
	for i, ax := range axes {
		if v[i] < 0 || v[i] > int64(tensor.MaxElements) {
			return fmt.Errorf("input \"sizes\": size %d for axis %d is not valid", v[i], ax)
		}
		if geo[ax].in == 0 && v[i] > 0 {
			return fmt.Errorf("input \"sizes\": cannot resize the empty axis %d to %d elements", ax, v[i])
		}
		geo[ax].out = int(v[i])
		geo[ax].scale = float64(v[i]) / float64(geo[ax].in)
	}
	if op.keepAspect == "" || op.keepAspect == "stretch" {
		return nil
	}
	scale := geo[axes[0]].scale
	for _, ax := range axes[1:] {
		if op.keepAspect == "not_larger" {
			scale = min(scale, geo[ax].scale)
		} else {
			scale = max(scale, geo[ax].scale)
		}
	}
	for _, ax := range axes {
		geo[ax].scale = scale
		geo[ax].out = int(scale*float64(geo[ax].in) + 0.5) // round half up
	}
	return nil
}

// Infer gives the exact output shape when the input shape and the roi, scales and sizes
// inputs are known at plan time; otherwise the rank, and the axes that are not resized.
func (op resize) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		return []Type{unrankedType(x.DType)}, nil
	}
	if op.known && x.Known() {
		geo, err := op.geometry(x.Shape, op.roi, op.scales, op.sizes)
		if err != nil {
			return nil, err
		}
		shape := make([]int, len(geo))
		for k := range geo {
			shape[k] = geo[k].out
		}
		return []Type{rankedType(x.DType, shape)}, nil
	}
	shape := unknownDims(len(x.Shape))
	if op.axes != nil {
		axes, err := resolveAxes(op.axes, len(x.Shape))
		if err != nil {
			return nil, fmt.Errorf("attribute \"axes\": %w", err)
		}
		copy(shape, x.Shape)
		for _, ax := range axes {
			shape[ax] = -1
		}
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
