package ops

import (
	"fmt"
	"strings"

	"github.com/gendl/gendl/runtime/tensor"
)

// Type is what the planner knows about a value before anything runs: its element type and
// shape. DType is tensor.Undefined when unknown. Shape is nil with Ranked false when even the
// rank is unknown; a dimension of -1 is unknown.
type Type struct {
	DType  tensor.DType
	Shape  []int
	Ranked bool
}

// Unknown is a value the planner knows nothing about.
var Unknown = Type{}

// TypeOf returns the exact type of a tensor.
func TypeOf(t *tensor.Tensor) Type {
	return Type{DType: t.DType, Shape: append([]int{}, t.Shape...), Ranked: true}
}

// Known reports whether the rank and every dimension are known.
func (t Type) Known() bool {
	if !t.Ranked {
		return false
	}
	for _, d := range t.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

func (t Type) String() string {
	dt := "?"
	if t.DType != tensor.Undefined {
		dt = t.DType.String()
	}
	if !t.Ranked {
		return dt + "[...]"
	}
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return dt + "[" + strings.Join(parts, " ") + "]"
}

// Compatible reports whether a concrete tensor can be a value of type t.
func (t Type) Compatible(x *tensor.Tensor) bool {
	if t.DType != tensor.Undefined && t.DType != x.DType {
		return false
	}
	if !t.Ranked {
		return true
	}
	if len(t.Shape) != len(x.Shape) {
		return false
	}
	for i, d := range t.Shape {
		if d >= 0 && d != x.Shape[i] {
			return false
		}
	}
	return true
}

// Inferer is implemented by ops that check their inputs and infer their outputs at plan time.
// in has one Type per input slot (Unknown for absent optional inputs; Node.Consts has the values
// known at plan time). Infer returns one Type per output slot, as precise as it can (Unknown
// parts where the output depends on values not known before running), or an error naming the
// input that cannot be right ("input "W": want rank 4, got 3"). Infer must accept Unknown and
// partially known inputs without error.
//
// Ops without Infer produce Unknown outputs; the session checks everything at run time anyway.
type Inferer interface {
	Infer(in []Type) ([]Type, error)
}

// CheckDType returns an error unless t's dtype is unknown or one of allowed; name is the
// input's name in the op's spec ("X").
func CheckDType(name string, t Type, allowed ...tensor.DType) error {
	if t.DType == tensor.Undefined {
		return nil
	}
	for _, a := range allowed {
		if t.DType == a {
			return nil
		}
	}
	return fmt.Errorf("input %q: dtype %v is not supported (want one of %v)", name, t.DType, allowed)
}

// CheckRank returns an error unless t's rank is unknown or equal to rank.
func CheckRank(name string, t Type, rank int) error {
	if t.Ranked && len(t.Shape) != rank {
		return fmt.Errorf("input %q: want rank %d, got rank %d (%v)", name, rank, len(t.Shape), t)
	}
	return nil
}
