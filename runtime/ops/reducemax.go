package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// ReduceMax takes the maximum over some axes (opset 1, 11, 12, 13, 18; float32, float64,
// int64, int32, and from opset 12 int8 and uint8). Axes are an attribute before opset 18 and an
// optional input from 18, which also added noop_with_empty_axes; see reduce.go. The maximum
// of an empty set is -Inf for floats and the type's minimum for integers (opset 18's rule). A
// NaN in a reduced set gives NaN, as numpy.maximum.reduce.
type reduceMax struct {
	c reduceConfig
}

func newReduceMax(n *Node) (Op, error) {
	c, err := newReduceConfig(n, 18)
	if err != nil {
		return nil, err
	}
	return reduceMax{c: c}, nil
}

func (op reduceMax) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	l, err := op.c.layout(x.Shape, optionalInput(in, 1))
	if err != nil {
		return err
	}
	if l.noop {
		out[0].CopyFrom(x)
		return nil
	}
	switch x.DType {
	case tensor.Float32:
		reduceMaxAs[float32](l, x, out[0])
	case tensor.Float64:
		reduceMaxAs[float64](l, x, out[0])
	case tensor.Int64:
		reduceMaxAs[int64](l, x, out[0])
	case tensor.Int32:
		reduceMaxAs[int32](l, x, out[0])
	case tensor.Int8:
		reduceMaxAs[int8](l, x, out[0])
	case tensor.Uint8:
		reduceMaxAs[uint8](l, x, out[0])
	default:
		return fmt.Errorf("input \"data\": dtype %v is not supported", x.DType)
	}
	return nil
}

func reduceMaxAs[T numericElem](l reduceLayout, x, out *tensor.Tensor) {
	out.Reset(x.DType, l.kept)
	dst := dataOf[T](out)
	lo, _ := fullRange[T]()
	for i := range dst {
		dst[i] = lo
	}
	reduceRuns(dst, dataOf[T](x), x.Shape, l.kept, maxFoldRun[T])
	out.Shape = append(out.Shape[:0], l.out...)
}

// maxFoldRun is the reduceRuns kernel of a maximum.
func maxFoldRun[T numericElem](dst, run []T) {
	if len(dst) == len(run) {
		for i, v := range run {
			dst[i] = max(dst[i], v)
		}
		return
	}
	m := dst[0]
	for _, v := range run {
		m = max(m, v)
	}
	dst[0] = m
}

func (op reduceMax) Infer(in []Type) ([]Type, error) {
	return op.c.infer(in[0], tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8)
}
