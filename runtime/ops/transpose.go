package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Transpose permutes the dimensions of its input: output dimension i is input dimension
// perm[i] (opset 1, 13, 21; every dtype). Without perm the dimensions are reversed.
type transpose struct {
	perm []int64 // nil: reverse
}

func newTranspose(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	perm := n.Attrs.Ints("perm", nil)
	if perm != nil {
		if _, err := resolvePerm(perm, len(perm)); err != nil {
			n.Attrs.Errorf("perm", "%v", err)
		}
	}
	return transpose{perm: perm}, nil
}

func (op transpose) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	perm, err := resolvePerm(op.perm, r)
	if err != nil {
		return fmt.Errorf("attribute \"perm\": %w", err)
	}
	shape := make([]int, r)
	srcStr := make([]int, r)
	inStr := tensor.Strides(x.Shape)
	for i, p := range perm {
		shape[i] = x.Shape[p]
		srcStr[i] = inStr[p]
	}
	y := out[0]
	y.Reset(x.DType, shape)
	return copyStrided(y.Data, 0, tensor.Strides(shape), x.Data, 0, srcStr, shape)
}

// resolvePerm checks that perm is a permutation of 0..rank-1; nil means the reversal.
func resolvePerm(perm []int64, rank int) ([]int, error) {
	out := make([]int, rank)
	if perm == nil {
		for i := range out {
			out[i] = rank - 1 - i
		}
		return out, nil
	}
	if len(perm) != rank {
		return nil, fmt.Errorf("%v has %d entries for an input of rank %d", perm, len(perm), rank)
	}
	seen := make([]bool, rank)
	for i, p := range perm {
		if p < 0 || p >= int64(rank) || seen[p] {
			return nil, fmt.Errorf("%v is not a permutation of 0..%d", perm, rank-1)
		}
		seen[p] = true
		out[i] = int(p)
	}
	return out, nil
}

// Infer permutes the known dimensions.
func (op transpose) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		if op.perm != nil {
			return []Type{rankedType(x.DType, unknownDims(len(op.perm)))}, nil
		}
		return []Type{unrankedType(x.DType)}, nil
	}
	perm, err := resolvePerm(op.perm, len(x.Shape))
	if err != nil {
		return nil, fmt.Errorf("attribute \"perm\": %w", err)
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
