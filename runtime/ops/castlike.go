package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// CastLike converts input to the element type of target_type, whose values are ignored (opset
// 15, 19, 21, 23, 24, 25; the dtypes and conversion rules of Cast, see cast.go). The spec's
// function bodies (Elu, LeakyRelu, Selu, ...) use it to bring float constants to the input's
// type.
type castLike struct{}

func newCastLike(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	n.Attrs.Int("saturate", 1)
	n.Attrs.String("round_mode", "up")
	return castLike{}, nil
}

func (castLike) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return castTensor(in[0], out[0], in[1].DType)
}

func (castLike) Infer(in []Type) ([]Type, error) {
	if dt := in[1].DType; dt != tensor.Undefined && !dt.Supported() {
		return nil, fmt.Errorf("input \"target_type\": casting to %v is not supported", dt)
	}
	return []Type{{DType: in[1].DType, Shape: in[0].Shape, Ranked: in[0].Ranked}}, nil
}
