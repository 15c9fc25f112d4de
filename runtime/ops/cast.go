package ops

import (
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Cast converts the input to the element type of attribute "to" (opset 6, 9, 13, 19, 21, 23,
// 24, 25; between float32, float64, int64, int32, int8, uint8 and bool). Conversions follow
// numpy's astype, which the spec's reference uses: float to integer truncates toward zero
// (values outside the integer range are undefined in the spec; here they go through int64 and
// wrap), anything to bool is x != 0 (NaN is true), bool to a number is 0 or 1. The float8
// options of opset 19 and later (saturate, round_mode) have no effect on these types. Strings,
// float16, bfloat16 and the float8/4-bit types are not supported ("to" naming one is an error
// at plan time); float16 inputs never reach Cast, as the runtime widens them to float32 on
// load, which is exact.
type castOp struct {
	to tensor.DType
}

func newCast(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	to := n.Attrs.Int("to", 0)
	if !n.Attrs.Has("to") {
		n.Attrs.Errorf("to", "is required")
	} else if dt := tensor.DType(to); int64(dt) != to || !dt.Supported() {
		n.Attrs.Errorf("to", "casting to %v is not supported", onnx.TensorProto_DataType(to))
	}
	n.Attrs.Int("saturate", 1)
	n.Attrs.String("round_mode", "up")
	return castOp{to: tensor.DType(to)}, nil
}

func (op castOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return castTensor(in[0], out[0], op.to)
}

// castTensor writes x converted to dtype to into y.
func castTensor(x, y *tensor.Tensor, to tensor.DType) error {
	if !to.Supported() {
		return fmt.Errorf("casting to %v is not supported", to)
	}
	if x.DType == to {
		y.CopyFrom(x)
		return nil
	}
	y.Reset(to, x.Shape)
	switch x.DType {
	case tensor.Float32:
		castFrom(y, x.F32())
	case tensor.Float64:
		castFrom(y, x.F64())
	case tensor.Int64:
		castFrom(y, x.I64())
	case tensor.Int32:
		castFrom(y, x.I32())
	case tensor.Int8:
		castFrom(y, dataOf[int8](x))
	case tensor.Uint8:
		castFrom(y, dataOf[uint8](x))
	case tensor.Bool:
		src := x.Bools()
		switch to {
		case tensor.Float32:
			fromBool(y.F32(), src)
		case tensor.Float64:
			fromBool(y.F64(), src)
		case tensor.Int64:
			fromBool(y.I64(), src)
		case tensor.Int32:
			fromBool(y.I32(), src)
		case tensor.Int8:
			fromBool(dataOf[int8](y), src)
		case tensor.Uint8:
			fromBool(dataOf[uint8](y), src)
		}
	default:
		return fmt.Errorf("input \"input\": dtype %v is not supported", x.DType)
	}
	return nil
}

// castFrom converts src into y, which has been reset to the target dtype.
func castFrom[S numericElem](y *tensor.Tensor, src []S) {
	switch y.DType {
	case tensor.Float32:
		convertNumbers(y.F32(), src)
	case tensor.Float64:
		convertNumbers(y.F64(), src)
	case tensor.Int64:
		convertToInt(y.I64(), src)
	case tensor.Int32:
		convertToInt(y.I32(), src)
	case tensor.Int8:
		convertToInt(dataOf[int8](y), src)
	case tensor.Uint8:
		convertToInt(dataOf[uint8](y), src)
	case tensor.Bool:
		dst := y.Bools()
		for i, v := range src {
			dst[i] = v != 0
		}
	}
}

// convertNumbers converts to a float type (rounding to nearest).
func convertNumbers[D floatElem, S numericElem](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}

// convertToInt converts to an integer type through int64: floats truncate toward zero, and
// integers (and floats within int64's range) wrap to the narrower type as in C and numpy.
func convertToInt[D int64 | int32 | int8 | uint8, S numericElem](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(int64(v))
	}
}

func fromBool[D numericElem](dst []D, src []bool) {
	for i, v := range src {
		if v {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
	}
}

func (op castOp) Infer(in []Type) ([]Type, error) {
	return []Type{{DType: op.to, Shape: in[0].Shape, Ranked: in[0].Ranked}}, nil
}
