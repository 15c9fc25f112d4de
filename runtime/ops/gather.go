package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Gather picks entries of data along axis at the given indices (opset 1, 11, 13; every dtype
// of data, int32 or int64 indices). The output shape is data.shape[:axis] + indices.shape +
// data.shape[axis+1:]. Negative indices count from the back (spec'd from opset 11; accepted
// at every opset); an index outside [-dim, dim) is an error.
type gather struct {
	axis int64
}

func newGather(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 2); err != nil {
		return nil, err
	}
	return gather{axis: n.Attrs.Int("axis", 0)}, nil
}

func (op gather) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x, indices := in[0], in[1]
	if x.Rank() == 0 {
		return fmt.Errorf("input \"data\": want rank >= 1, got a scalar")
	}
	axis, err := resolveAxis(op.axis, x.Rank())
	if err != nil {
		return fmt.Errorf("attribute \"axis\": %w", err)
	}
	idx, err := indices.Int64s()
	if err != nil {
		return fmt.Errorf("input \"indices\": %w", err)
	}
	dim := int64(x.Shape[axis])
	for i, v := range idx {
		if v < -dim || v >= dim {
			return fmt.Errorf("input \"indices\": index %d (element %d) is out of range for axis %d of size %d", v, i, axis, dim)
		}
		if v < 0 {
			idx[i] = v + dim
		}
	}
	shape := make([]int, 0, x.Rank()-1+indices.Rank())
	shape = append(shape, x.Shape[:axis]...)
	shape = append(shape, indices.Shape...)
	shape = append(shape, x.Shape[axis+1:]...)
	y := out[0]
	y.Reset(x.DType, shape)
	outer := tensor.Numel(x.Shape[:axis])
	inner := tensor.Numel(x.Shape[axis+1:])
	switch d := y.Data.(type) {
	case []float32:
		gatherBlocks(d, x.F32(), idx, outer, int(dim), inner)
	case []float64:
		gatherBlocks(d, x.F64(), idx, outer, int(dim), inner)
	case []int64:
		gatherBlocks(d, x.I64(), idx, outer, int(dim), inner)
	case []int32:
		gatherBlocks(d, x.I32(), idx, outer, int(dim), inner)
	case []int8:
		gatherBlocks(d, x.Data.([]int8), idx, outer, int(dim), inner)
	case []uint8:
		gatherBlocks(d, x.Data.([]uint8), idx, outer, int(dim), inner)
	case []bool:
		gatherBlocks(d, x.Bools(), idx, outer, int(dim), inner)
	default:
		return fmt.Errorf("input \"data\": unsupported dtype %v", x.DType)
	}
	return nil
}

// gatherBlocks copies, for each of the outer blocks of src (each dim*inner elements) and each
// index, the inner elements at that index: dst[o][j][:] = src[o][idx[j]][:].
func gatherBlocks[T anyElem](dst, src []T, idx []int64, outer, dim, inner int) {
	o := 0
	for b := range outer {
		base := b * dim * inner
		for _, i := range idx {
			s := base + int(i)*inner
			copy(dst[o:o+inner], src[s:s+inner])
			o += inner
		}
	}
}

// Infer: data.shape[:axis] + indices.shape + data.shape[axis+1:].
func (op gather) Infer(in []Type) ([]Type, error) {
	x, idx := in[0], in[1]
	if err := CheckDType("indices", idx, tensor.Int64, tensor.Int32); err != nil {
		return nil, err
	}
	if !x.Ranked || !idx.Ranked {
		return []Type{unrankedType(x.DType)}, nil
	}
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("input \"data\": want rank >= 1, got a scalar")
	}
	axis, err := resolveAxis(op.axis, len(x.Shape))
	if err != nil {
		return nil, fmt.Errorf("attribute \"axis\": %w", err)
	}
	shape := append(append(append([]int{}, x.Shape[:axis]...), idx.Shape...), x.Shape[axis+1:]...)
	return []Type{rankedType(x.DType, shape)}, nil
}
