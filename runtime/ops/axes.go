package ops

import "fmt"

// Axis helpers shared by the ops that take an axis or a list of axes (Concat, Flatten, Gather,
// Squeeze, Unsqueeze, Slice, Pad, Resize). ONNX counts a negative axis from the back:
// axis -1 of a rank-r tensor is axis r-1.

// resolveAxis maps axis, which must lie in [-rank, rank), to [0, rank).
func resolveAxis(axis int64, rank int) (int, error) {
	r := int64(rank)
	if axis < -r || axis >= r {
		return 0, fmt.Errorf("axis %d is out of range for rank %d (want %d to %d)", axis, rank, -r, r-1)
	}
	if axis < 0 {
		axis += r
	}
	return int(axis), nil
}

// resolveAxes maps every axis of axes into [0, rank) and rejects repeated axes.
func resolveAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		ax, err := resolveAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, fmt.Errorf("axis %d is given twice (axes %v)", ax, axes)
		}
		seen[ax] = true
		out[i] = ax
	}
	return out, nil
}
