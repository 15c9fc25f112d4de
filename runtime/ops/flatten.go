package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Flatten reshapes its input to 2-D: the dimensions before axis become the rows, the rest the
// columns (opset 1, 9, 11, 13, 21; every dtype). axis lies in [-r, r] for an input of rank r
// (negative values from opset 11); axis 0 gives shape [1, n].
type flatten struct {
	axis int64
}

func newFlatten(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	axis := n.Attrs.Int("axis", 1)
	if axis < 0 && n.Opset < 11 {
		n.Attrs.Errorf("axis", "negative axis %d needs opset 11 or later, the model imports opset %d", axis, n.Opset)
	}
	return flatten{axis: axis}, nil
}

func (op flatten) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	shape, err := op.outShape(x.Shape)
	if err != nil {
		return err
	}
	copyReshaped(out[0], x, shape)
	return nil
}

// outShape returns the 2-D shape of the flattened input.
func (op flatten) outShape(in []int) ([]int, error) {
	r := int64(len(in))
	axis := op.axis
	if axis < -r || axis > r {
		return nil, fmt.Errorf("attribute \"axis\": %d is out of range for an input of rank %d (want %d to %d)", axis, r, -r, r)
	}
	if axis < 0 {
		axis += r
	}
	return []int{tensor.Numel(in[:axis]), tensor.Numel(in[axis:])}, nil
}

// Infer: the output is always 2-D.
func (op flatten) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		return []Type{rankedType(x.DType, unknownDims(2))}, nil
	}
	r := int64(len(x.Shape))
	axis := op.axis
	if axis < -r || axis > r {
		return nil, fmt.Errorf("attribute \"axis\": %d is out of range for an input of rank %d (want %d to %d)", axis, r, -r, r)
	}
	if axis < 0 {
		axis += r
	}
	return []Type{rankedType(x.DType, []int{knownProduct(x.Shape[:axis]), knownProduct(x.Shape[axis:])})}, nil
}
