package ops

import "github.com/gendl/gendl/runtime/tensor"

// Helpers for the plan-time type inference (Inferer) of the shape ops. Shape-like inputs
// (Reshape's shape, Slice's starts, Squeeze's axes...) are usually initializers or Constant
// outputs, so a constructor captures them from Node.Consts and Infer can give exact shapes.

// constInput is what the planner knows about an optional integer input: absent, a constant
// with known values, or computed at run time (unknown).
type constInput struct {
	known  bool    // absent or constant
	absent bool    // the slot is empty or missing
	vals   []int64 // the values of a constant
}

// constInputOf reads input slot i of n.
func constInputOf(n *Node, i int) constInput {
	in := n.Proto.GetInput()
	if i >= len(in) || in[i] == "" {
		return constInput{known: true, absent: true}
	}
	if i >= len(n.Consts) || n.Consts[i] == nil {
		return constInput{}
	}
	v, err := n.Consts[i].Int64s()
	if err != nil {
		return constInput{} // the op reports the dtype at run time
	}
	return constInput{known: true, vals: v}
}

// unknownDims returns rank unknown (-1) dimensions.
func unknownDims(rank int) []int {
	s := make([]int, rank)
	for i := range s {
		s[i] = -1
	}
	return s
}

// rankedType returns a ranked type of dtype dt and shape s.
func rankedType(dt tensor.DType, s []int) Type { return Type{DType: dt, Shape: s, Ranked: true} }

// unrankedType returns a type of dtype dt and unknown rank.
func unrankedType(dt tensor.DType) Type { return Type{DType: dt} }

// knownProduct returns the product of dims, or -1 if one of them is unknown.
func knownProduct(dims []int) int {
	p := 1
	for _, d := range dims {
		if d < 0 {
			return -1
		}
		p *= d
	}
	return p
}
