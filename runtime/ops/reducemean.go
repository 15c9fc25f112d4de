package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// ReduceMean averages the input over some axes (opset 1, 11, 13, 18; float32, float64, int64,
// int32). Axes are an attribute before opset 18 and an optional input from 18, which also
// added noop_with_empty_axes; see reduce.go. The mean of an empty set is NaN for floats (0/0,
// as numpy) and an error for integers. Integer means truncate toward zero.
type reduceMean struct {
	c reduceConfig
}

func newReduceMean(n *Node) (Op, error) {
	c, err := newReduceConfig(n, 18)
	if err != nil {
		return nil, err
	}
	return reduceMean{c: c}, nil
}

func (op reduceMean) Run(_ *Ctx, in, out []*tensor.Tensor) error {
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
		reduceSumAs[float32](l, x, out[0])
		scaleBy(out[0].F32(), 1/float64(l.count))
	case tensor.Float64:
		reduceSumAs[float64](l, x, out[0])
		scaleBy(out[0].F64(), 1/float64(l.count))
	case tensor.Int64:
		if l.count == 0 {
			return fmt.Errorf("input \"data\": the mean of an empty set of integers is undefined")
		}
		reduceSumAs[int64](l, x, out[0])
		divideBy(out[0].I64(), int64(l.count))
	case tensor.Int32:
		if l.count == 0 {
			return fmt.Errorf("input \"data\": the mean of an empty set of integers is undefined")
		}
		reduceSumAs[int32](l, x, out[0])
		divideBy(out[0].I32(), int32(l.count))
	default:
		return fmt.Errorf("input \"data\": dtype %v is not supported", x.DType)
	}
	return nil
}

// scaleBy multiplies every element by s (in float64: 1/count may not be exact in float32).
func scaleBy[T floatElem](d []T, s float64) {
	for i, v := range d {
		d[i] = T(float64(v) * s)
	}
}

func divideBy[T int64 | int32](d []T, n T) {
	for i, v := range d {
		d[i] = v / n
	}
}

func (op reduceMean) Infer(in []Type) ([]Type, error) {
	return op.c.infer(in[0], tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32)
}
