package ops

import "github.com/gendl/gendl/runtime/tensor"

// Shape returns the shape of its input as a 1-D int64 tensor (opset 1, 13, 15, 19, 21; any
// dtype). From opset 15, the optional start and end attributes select dimensions
// [start, end) of it, Python-slice style: negative values count from the back and
// out-of-range values are clamped.
type shape struct {
	start, end int64
	hasEnd     bool
}

func newShape(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	op := shape{start: n.Attrs.Int("start", 0), hasEnd: n.Attrs.Has("end")}
	op.end = n.Attrs.Int("end", 0)
	if n.Opset < 15 && (n.Attrs.Has("start") || op.hasEnd) {
		n.Attrs.Errorf("start", "start and end need opset 15 or later, the model imports opset %d", n.Opset)
	}
	return op, nil
}

func (op shape) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	dims := in[0].Shape
	lo, hi := op.bounds(len(dims))
	y := out[0]
	y.Reset(tensor.Int64, []int{hi - lo})
	v := y.I64()
	for i, d := range dims[lo:hi] {
		v[i] = int64(d)
	}
	return nil
}

// bounds resolves start and end for an input of the given rank: 0 <= lo <= hi <= rank.
func (op shape) bounds(rank int) (lo, hi int) {
	r := int64(rank)
	clamp := func(v int64) int {
		if v < 0 {
			v += r
		}
		return int(min(max(v, 0), r))
	}
	lo, hi = clamp(op.start), rank
	if op.hasEnd {
		hi = clamp(op.end)
	}
	return lo, max(hi, lo)
}

// Infer: a 1-D int64 tensor, of known length when the input's rank is known.
func (op shape) Infer(in []Type) ([]Type, error) {
	if !in[0].Ranked {
		return []Type{rankedType(tensor.Int64, []int{-1})}, nil
	}
	lo, hi := op.bounds(len(in[0].Shape))
	return []Type{rankedType(tensor.Int64, []int{hi - lo})}, nil
}
