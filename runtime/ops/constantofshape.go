package ops

import (
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// ConstantOfShape makes a tensor of the shape given by its int64 input, every element equal to
// the one-element value attribute (opset 9, 20, 21; every dtype a tensor.Tensor holds). Without
// value the tensor is float32 zeros. The shape's element count is bounded by Node.Limits.
type constantOfShape struct {
	dtype  tensor.DType
	value  any // scalar of dtype
	limits onnx.Limits
	shape  constInput // plan-time knowledge of the shape input
}

func newConstantOfShape(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	op := constantOfShape{dtype: tensor.Float32, value: float32(0), limits: n.Limits, shape: constInputOf(n, 0)}
	if op.limits.MaxElements == 0 {
		op.limits = onnx.DefaultLimits
	}
	if tp := n.Attrs.Tensor("value"); tp != nil {
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{Limits: n.Limits})
		if err != nil {
			return nil, n.Errorf("attribute \"value\": %v", err)
		}
		if t.Len() != 1 {
			n.Attrs.Errorf("value", "want one element, got shape %v", tensor.ShapeString(t.Shape))
			return op, nil
		}
		op.dtype, op.value = t.DType, scalarAt(t, 0)
	}
	return op, nil
}

func (op constantOfShape) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	s := in[0]
	if s.Rank() != 1 {
		return fmt.Errorf("input \"input\": want rank 1, got rank %d", s.Rank())
	}
	dims, err := s.Int64s()
	if err != nil {
		return fmt.Errorf("input \"input\": %w", err)
	}
	shape, err := op.limits.CheckShape(dims, op.dtype.Size())
	if err != nil {
		return fmt.Errorf("input \"input\": %w", err)
	}
	y := out[0]
	y.Reset(op.dtype, shape)
	return fillScalar(y, op.value)
}

// Infer gives the exact shape when the shape input is a plan-time constant.
func (op constantOfShape) Infer(in []Type) ([]Type, error) {
	if op.shape.known && !op.shape.absent {
		shape, err := op.limits.CheckShape(op.shape.vals, op.dtype.Size())
		if err != nil {
			return nil, fmt.Errorf("input \"input\": %w", err)
		}
		return []Type{rankedType(op.dtype, shape)}, nil
	}
	if s := in[0]; s.Ranked && len(s.Shape) == 1 && s.Shape[0] >= 0 {
		return []Type{rankedType(op.dtype, unknownDims(s.Shape[0]))}, nil
	}
	return []Type{unrankedType(op.dtype)}, nil
}
