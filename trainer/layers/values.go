package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers the trainers' graphs share to move data in and out of a Gorgonia machine. Their
// errors carry no package prefix: the caller adds its own and names the value, e.g.
// fmt.Errorf("gan: targets: %w", err).

// Fill copies src into dst's backing array. src must be a slice of dst's element type
// ([]float32 or []float64) and of dst's length.
func Fill(dst *tensor.Dense, src any) error {
	switch d := dst.Data().(type) {
	case []float32:
		s, ok := src.([]float32)
		if !ok || len(s) != len(d) {
			return fmt.Errorf("want %d float32 values, got %T of length %d", len(d), src, lenOf(src))
		}
		copy(d, s)
	case []float64:
		s, ok := src.([]float64)
		if !ok || len(s) != len(d) {
			return fmt.Errorf("want %d float64 values, got %T of length %d", len(d), src, lenOf(src))
		}
		copy(d, s)
	default:
		return fmt.Errorf("destination holds %T, want float32 or float64", dst.Data())
	}
	return nil
}

// lenOf is the length of a float slice, -1 for anything else.
func lenOf(v any) int {
	switch s := v.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	}
	return -1
}

// Scalar returns the value of a scalar node value (a Gorgonia F32/F64, or a float tensor
// holding one element) as float64.
func Scalar(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s), nil
	case *G.F64:
		return float64(*s), nil
	}
	if d, ok := v.(tensor.Tensor); ok && d.Shape().TotalSize() == 1 {
		switch x := d.Data().(type) {
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		case []float32:
			return float64(x[0]), nil
		case []float64:
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("%T is not a scalar", v)
}

// NodeData returns the data of a node's value after a run ([]float32 or []float64, row-major),
// valid until the machine runs again.
func NodeData(n *G.Node) (any, error) {
	d, ok := n.Value().(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("value is %T, not a tensor", n.Value())
	}
	return d.Data(), nil
}
