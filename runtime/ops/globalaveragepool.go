package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// GlobalAveragePool is the ONNX global average pooling (opset 1, 22; float32, float64): the
// mean over all spatial dimensions, X [N, C, D1..Dk] -> Y [N, C, 1..1] (same rank). Sums are
// accumulated in float64.
type globalAveragePool struct{}

func newGlobalAveragePool(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return globalAveragePool{}, nil
}

func (globalAveragePool) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	var shp [8]int
	shape, err := globalPoolShape(shp[:0], x.Shape)
	if err != nil {
		return err
	}
	planes := x.Shape[0] * x.Shape[1]
	y := out[0]
	switch x.DType {
	case tensor.Float32:
		y.Reset(x.DType, shape)
		globalMeanPlanes(x.F32(), y.F32(), planes)
	case tensor.Float64:
		y.Reset(x.DType, shape)
		globalMeanPlanes(x.F64(), y.F64(), planes)
	default:
		return fmt.Errorf("input \"X\": unsupported dtype %v (want float32 or float64)", x.DType)
	}
	return nil
}

// globalPoolShape appends the output shape for input shape x, [N, C, 1...], to dst.
// Dimensions of -1 are unknown (plan time).
func globalPoolShape(dst, x []int) ([]int, error) {
	if err := checkNC(x); err != nil {
		return nil, err
	}
	dst = append(dst, x[:2]...)
	for range len(x) - 2 {
		dst = append(dst, 1)
	}
	return dst, nil
}

// Infer gives Y the dtype of X and the shape of globalPoolShape; an unranked X gives an
// unranked Y.
func (globalAveragePool) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if err := CheckDType("X", x, tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	if !x.Ranked {
		return []Type{{DType: x.DType}}, nil
	}
	shape, err := globalPoolShape(nil, x.Shape)
	if err != nil {
		return nil, err
	}
	return []Type{{Ranked: true, DType: x.DType, Shape: shape}}, nil
}

// globalMeanPlanes writes the mean of each of the planes equal parts of x into y. An empty
// part averages to NaN.
func globalMeanPlanes[T float32 | float64](x, y []T, planes int) {
	if planes == 0 {
		return
	}
	size := len(x) / planes
	for p := range planes {
		var sum float64
		for _, v := range x[p*size : (p+1)*size] {
			sum += float64(v)
		}
		y[p] = T(sum / float64(size))
	}
}
