package ops

import "github.com/gendl/gendl/runtime/tensor"

// Upsample scales every axis of its input up (opset 7, 9; deprecated in 10; nearest mode moves
// every dtype, linear computes in float64 for numeric dtypes). Opset 7 reads the scales from
// an attribute, opset 9 from a float input; one scale per axis, output size floor(scale*size).
// Coordinates are asymmetric (x_ori = x/scale); nearest rounds down and linear is n-linear
// with edge clamping, as in ONNX Runtime.
type upsample struct {
	rs     resampler
	scales []float32 // opset < 9

	constScales *tensor.Tensor // the scales, when known at plan time
}

func newUpsample(n *Node) (Op, error) {
	op := upsample{rs: resampler{coord: coordAsymmetric, nearest: nearestSimple}}
	if n.Opset < 9 {
		if err := n.CheckArity(1, 1, 1, 1); err != nil {
			return nil, err
		}
		if !n.Attrs.Has("scales") {
			return nil, n.Errorf("attribute \"scales\" is required")
		}
		op.scales = n.Attrs.Floats("scales", nil)
	} else {
		if err := n.CheckArity(2, 2, 1, 1); err != nil {
			return nil, err
		}
	}
	if err := checkInputsPresent(n, n.NumInputs()); err != nil {
		return nil, err
	}
	if op.scales != nil {
		op.constScales = tensor.FromFloat32(op.scales, len(op.scales))
	} else {
		op.constScales = n.Consts[1]
	}
	switch m := n.Attrs.String("mode", "nearest"); m {
	case "nearest":
		op.rs.mode = interpNearest
	case "linear":
		op.rs.mode = interpLinear
	default:
		n.Attrs.Errorf("mode", "want nearest or linear, got %q", m)
	}
	return op, nil
}

func (op upsample) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	scales := op.constScales
	if op.scales == nil {
		scales = in[1]
	}
	geo, err := upsampleGeometry(x.Shape, scales)
	if err != nil {
		return err
	}
	return op.rs.run(x, out[0], geo)
}

// upsampleGeometry scales every axis of an input of shape in.
func upsampleGeometry(in []int, scales *tensor.Tensor) ([]resampleAxis, error) {
	geo := make([]resampleAxis, len(in))
	axes := make([]int, len(in))
	for k, d := range in {
		geo[k] = resampleAxis{in: d, resized: true}
		axes[k] = k
	}
	return geo, resizeFromScales(geo, axes, scales)
}

// Infer gives the exact output shape when the input shape and the scales are known.
func (op upsample) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		return []Type{unrankedType(x.DType)}, nil
	}
	if op.constScales == nil || !x.Known() {
		return []Type{rankedType(x.DType, unknownDims(len(x.Shape)))}, nil
	}
	geo, err := upsampleGeometry(x.Shape, op.constScales)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(geo))
	for k := range geo {
		shape[k] = geo[k].out
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
