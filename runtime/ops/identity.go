package ops

import "github.com/gendl/gendl/runtime/tensor"

// Identity copies its input (opset 1, 13, 14, 16, 19, 21; tensor inputs only).
type identity struct{}

func newIdentity(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	return identity{}, nil
}

func (identity) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	out[0].CopyFrom(in[0])
	return nil
}

func (identity) Infer(in []Type) ([]Type, error) { return []Type{in[0]}, nil }
