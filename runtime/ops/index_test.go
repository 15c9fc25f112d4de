package ops

import "github.com/gendl/gendl/runtime/tensor"

// Index helpers shared by the naive reference loops of the op tests.

// forEachIndex calls f with every index of shape in row-major order (once with an empty index
// for a scalar shape, never when a dimension is 0). f must not keep idx.
func forEachIndex(shape []int, f func(idx []int)) {
	if tensor.Numel(shape) == 0 {
		return
	}
	idx := make([]int, len(shape))
	for {
		f(idx)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// rowMajorOffset is the flat row-major offset of idx in shape.
func rowMajorOffset(shape, idx []int) int {
	off := 0
	for k, i := range idx {
		off = off*shape[k] + i
	}
	return off
}
