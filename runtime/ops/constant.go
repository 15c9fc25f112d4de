package ops

import (
	"fmt"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Constant produces the tensor held in one of its attributes (opset 1, 9, 11, 12, 13, 19, 21;
// every dtype a tensor.Tensor holds). value is a TensorProto (inline data only, bounded by
// Node.Limits); from opset 12 value_float, value_floats, value_int and value_ints give a
// float32 or int64 scalar or 1-D tensor. sparse_value and the string forms (value_string,
// value_strings) are not supported: gendl has no sparse or string tensors.
type constant struct {
	value *tensor.Tensor
}

// constantAttrs are the attributes of which a Constant node sets exactly one.
var constantAttrs = []string{
	"value", "value_float", "value_floats", "value_int", "value_ints",
	"sparse_value", "value_string", "value_strings",
}

func newConstant(n *Node) (Op, error) {
	if err := n.CheckArity(0, 0, 1, 1); err != nil {
		return nil, err
	}
	var set []string
	for _, name := range constantAttrs {
		if n.Attrs.Has(name) {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		return nil, n.Errorf("want exactly one of the attributes %s, got %d (%s)", strings.Join(constantAttrs, ", "), len(set), strings.Join(set, ", "))
	}
	name := set[0]
	if name != "value" && n.Opset < 12 {
		n.Attrs.Errorf(name, "needs opset 12 or later, the model imports opset %d", n.Opset)
		return constant{}, nil
	}
	var t *tensor.Tensor
	switch name {
	case "value":
		tp := n.Attrs.Tensor("value")
		if tp == nil {
			return constant{}, nil // the type mismatch is recorded in n.Attrs
		}
		var err error
		if t, err = onnx.ToTensor(tp, onnx.TensorOptions{Limits: n.Limits}); err != nil {
			return nil, n.Errorf("attribute \"value\": %v", err)
		}
	case "value_float":
		t = tensor.FromFloat32([]float32{n.Attrs.Float(name, 0)})
	case "value_floats":
		v := n.Attrs.Floats(name, nil)
		t = tensor.FromFloat32(v, len(v))
	case "value_int":
		t = tensor.FromInt64([]int64{n.Attrs.Int(name, 0)})
	case "value_ints":
		v := n.Attrs.Ints(name, nil)
		t = tensor.FromInt64(v, len(v))
	default:
		return nil, n.Errorf("attribute %q: not supported (gendl has no sparse or string tensors)", name)
	}
	return constant{value: t}, nil
}

func (op constant) Run(_ *Ctx, _, out []*tensor.Tensor) error {
	if op.value == nil {
		return fmt.Errorf("no value") // unreachable: the constructor recorded an attribute error
	}
	out[0].CopyFrom(op.value)
	return nil
}

// Infer is the type of the value.
func (op constant) Infer([]Type) ([]Type, error) {
	if op.value == nil {
		return []Type{Unknown}, nil
	}
	return []Type{TypeOf(op.value)}, nil
}
