package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Clip limits every element to [min, max] (opset 6, 11, 12, 13).
//
// Before opset 11 the bounds are the float attributes min and max (defaults ∓3.4028234e38, the
// float32 range) and the input is float32 or float64. From opset 11 they are optional scalar
// inputs of the input's dtype; from 12 the input may also be int64, int32, int8 or uint8. An
// absent bound does not clip (the spec's function body is the identity there). When min >
// max every element becomes max, as the spec says (numpy.clip's behaviour). NaN stays NaN.
type clipOp struct {
	fromAttrs bool // opset < 11
	lo, hi    float32
}

func newClip(n *Node) (Op, error) {
	if n.Opset < 11 {
		if err := n.CheckArity(1, 1, 1, 1); err != nil {
			return nil, err
		}
		return clipOp{
			fromAttrs: true,
			lo:        n.Attrs.Float("min", -math.MaxFloat32),
			hi:        n.Attrs.Float("max", math.MaxFloat32),
		}, nil
	}
	if err := n.CheckArity(1, 3, 1, 1); err != nil {
		return nil, err
	}
	return clipOp{}, nil
}

func (op clipOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	switch x.DType {
	case tensor.Float32:
		return clipAs[float32](op, in, out[0])
	case tensor.Float64:
		return clipAs[float64](op, in, out[0])
	}
	if !op.fromAttrs {
		switch x.DType {
		case tensor.Int64:
			return clipAs[int64](op, in, out[0])
		case tensor.Int32:
			return clipAs[int32](op, in, out[0])
		case tensor.Int8:
			return clipAs[int8](op, in, out[0])
		case tensor.Uint8:
			return clipAs[uint8](op, in, out[0])
		}
	}
	return fmt.Errorf("input \"input\": dtype %v is not supported", x.DType)
}

func clipAs[T numericElem](op clipOp, in []*tensor.Tensor, y *tensor.Tensor) error {
	x := in[0]
	lo, hi := fullRange[T]()
	if op.fromAttrs {
		lo, hi = T(op.lo), T(op.hi)
	} else {
		for i, name := range []string{"min", "max"} {
			if i+1 >= len(in) || in[i+1] == nil {
				continue
			}
			b := in[i+1]
			if b.DType != x.DType {
				return fmt.Errorf("input %q is %v but input \"input\" is %v: want the same dtype", name, b.DType, x.DType)
			}
			if b.Len() != 1 {
				return fmt.Errorf("input %q: want a scalar, got shape %s", name, tensor.ShapeString(b.Shape))
			}
			if i == 0 {
				lo = dataOf[T](b)[0]
			} else {
				hi = dataOf[T](b)[0]
			}
		}
	}
	y.Reset(x.DType, x.Shape)
	clipRun(dataOf[T](y), dataOf[T](x), lo, hi)
	return nil
}

func clipRun[T numericElem](dst, src []T, lo, hi T) {
	for i, v := range src {
		dst[i] = min(max(v, lo), hi)
	}
}

// fullRange returns bounds that clip nothing: ±Inf for floats, the type's range for integers.
func fullRange[T numericElem]() (lo, hi T) {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return T(math.Inf(-1)), T(math.Inf(1))
	case int64:
		return any(int64(math.MinInt64)).(T), any(int64(math.MaxInt64)).(T)
	case int32:
		return any(int32(math.MinInt32)).(T), any(int32(math.MaxInt32)).(T)
	case int8:
		return any(int8(math.MinInt8)).(T), any(int8(math.MaxInt8)).(T)
	case uint8:
		return 0, any(uint8(math.MaxUint8)).(T)
	}
	panic("unreachable")
}

func (op clipOp) Infer(in []Type) ([]Type, error) {
	x := in[0]
	allowed := []tensor.DType{tensor.Float32, tensor.Float64}
	if !op.fromAttrs {
		allowed = numericDTypes
	}
	if err := CheckDType("input", x, allowed...); err != nil {
		return nil, err
	}
	for i, name := range []string{"min", "max"} {
		if i+1 >= len(in) {
			break
		}
		b := in[i+1]
		if _, err := sameDType([]string{"input", name}, x, b); err != nil {
			return nil, err
		}
		if b.Known() && tensor.Numel(b.Shape) != 1 {
			return nil, fmt.Errorf("input %q: want a scalar, got %v", name, b)
		}
	}
	return []Type{x}, nil
}
