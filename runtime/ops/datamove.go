package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Data movement shared by the shape ops (Transpose, Slice, Concat, Pad, Resize, Upsample...).
// The kernels are generic over every element type a tensor.Tensor holds; the untyped entry
// points dispatch once on the dynamic type of the data slice, so an op handles all dtypes with
// one call. Offsets and strides count elements, not bytes.

// anyElem is every element type a tensor.Tensor holds.
type anyElem interface {
	float32 | float64 | int64 | int32 | int8 | uint8 | bool
}

// copyStrided copies a strided view of src into a strided view of dst: for every index
// (i_0, ..., i_{r-1}) of shape,
//
//	dst[dOff + Σ i_k*dStr[k]] = src[sOff + Σ i_k*sStr[k]].
//
// Strides may be negative (Slice with negative steps). dst and src must hold the same element
// type, and every addressed element must exist (the caller has checked the bounds).
func copyStrided(dst any, dOff int, dStr []int, src any, sOff int, sStr []int, shape []int) error {
	switch d := dst.(type) {
	case []float32:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []float64:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []int64:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []int32:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []int8:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []uint8:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	case []bool:
		return copyStridedAs(d, dOff, dStr, src, sOff, sStr, shape)
	}
	return fmt.Errorf("unsupported data type %T", dst)
}

func copyStridedAs[T anyElem](dst []T, dOff int, dStr []int, src any, sOff int, sStr []int, shape []int) error {
	s, ok := src.([]T)
	if !ok {
		return fmt.Errorf("element types differ: %T and %T", dst, src)
	}
	copyStridedT(dst, dOff, dStr, s, sOff, sStr, shape)
	return nil
}

// copyStridedT is copyStrided for one element type.
func copyStridedT[T anyElem](dst []T, dOff int, dStr []int, src []T, sOff int, sStr []int, shape []int) {
	if tensor.Numel(shape) == 0 {
		return
	}
	shape, dStr, sStr = collapseDims(shape, dStr, sStr)
	r := len(shape)
	if r == 0 {
		dst[dOff] = src[sOff]
		return
	}
	// The last dimension is the inner loop; an odometer walks the others.
	inner, di, si := shape[r-1], dStr[r-1], sStr[r-1]
	idx := make([]int, r-1)
	d, s := dOff, sOff
	for {
		if di == 1 && si == 1 {
			copy(dst[d:d+inner], src[s:s+inner])
		} else {
			for k := range inner {
				dst[d+k*di] = src[s+k*si]
			}
		}
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			d += dStr[k]
			s += sStr[k]
			if idx[k] < shape[k] {
				break
			}
			d -= dStr[k] * shape[k]
			s -= sStr[k] * shape[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// collapseDims simplifies a strided copy without changing what it copies: dimensions of size 1
// are dropped, and a dimension is merged into the next one when both views step through them
// as one (stride[k] == stride[k+1]*shape[k+1] on both sides). A contiguous copy becomes one
// dimension. The inputs are not modified.
func collapseDims(shape, dStr, sStr []int) ([]int, []int, []int) {
	var sh, ds, ss []int
	for k, n := range shape {
		if n == 1 {
			continue
		}
		if last := len(sh) - 1; last >= 0 && ds[last] == dStr[k]*n && ss[last] == sStr[k]*n {
			sh[last] *= n
			ds[last] = dStr[k]
			ss[last] = sStr[k]
			continue
		}
		sh = append(sh, n)
		ds = append(ds, dStr[k])
		ss = append(ss, sStr[k])
	}
	return sh, ds, ss
}

// copyTables fills the contiguous dst of the given shape from src through one lookup table per
// dimension: the element at (o_0, ..., o_{r-1}) is src[Σ tab[k][o_k]], or fill when any
// tab[k][o_k] is negative. tab[k] has shape[k] entries that are source offsets (index times
// stride). fill must be a scalar of the element type (float32 for []float32 data...), or nil
// for zero. Pad (every mode) and nearest-neighbour resizing are such lookups.
func copyTables(dst, src any, shape []int, tab [][]int, fill any) error {
	switch d := dst.(type) {
	case []float32:
		return copyTablesAs(d, src, shape, tab, fill)
	case []float64:
		return copyTablesAs(d, src, shape, tab, fill)
	case []int64:
		return copyTablesAs(d, src, shape, tab, fill)
	case []int32:
		return copyTablesAs(d, src, shape, tab, fill)
	case []int8:
		return copyTablesAs(d, src, shape, tab, fill)
	case []uint8:
		return copyTablesAs(d, src, shape, tab, fill)
	case []bool:
		return copyTablesAs(d, src, shape, tab, fill)
	}
	return fmt.Errorf("unsupported data type %T", dst)
}

func copyTablesAs[T anyElem](dst []T, src any, shape []int, tab [][]int, fill any) error {
	s, ok := src.([]T)
	if !ok {
		return fmt.Errorf("element types differ: %T and %T", dst, src)
	}
	var f T
	if fill != nil {
		if f, ok = fill.(T); !ok {
			return fmt.Errorf("fill value %T does not match the data type %T", fill, dst)
		}
	}
	copyTablesT(dst, s, shape, tab, f)
	return nil
}

// copyTablesT is copyTables for one element type.
func copyTablesT[T anyElem](dst, src []T, shape []int, tab [][]int, fill T) {
	if len(dst) == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	// base is the source offset of the outer index (o_0, ..., o_{r-2}); holes counts the outer
	// coordinates that map outside the source, for which the whole row is fill.
	idx := make([]int, r-1)
	base, holes := 0, 0
	for k := range r - 1 {
		if t := tab[k][0]; t < 0 {
			holes++
		} else {
			base += t
		}
	}
	last := tab[r-1]
	for o := 0; o < len(dst); o += len(last) {
		row := dst[o : o+len(last)]
		if holes > 0 {
			for i := range row {
				row[i] = fill
			}
		} else {
			for i, t := range last {
				if t < 0 {
					row[i] = fill
				} else {
					row[i] = src[base+t]
				}
			}
		}
		for k := r - 2; k >= 0; k-- {
			if t := tab[k][idx[k]]; t < 0 {
				holes--
			} else {
				base -= t
			}
			idx[k]++
			if idx[k] == shape[k] {
				idx[k] = 0
			}
			if t := tab[k][idx[k]]; t < 0 {
				holes++
			} else {
				base += t
			}
			if idx[k] != 0 {
				break
			}
		}
	}
}

// fillScalar sets every element of t to v, a scalar of t's element type (see scalarAt).
func fillScalar(t *tensor.Tensor, v any) error {
	switch d := t.Data.(type) {
	case []float32:
		return fillAs(d, v)
	case []float64:
		return fillAs(d, v)
	case []int64:
		return fillAs(d, v)
	case []int32:
		return fillAs(d, v)
	case []int8:
		return fillAs(d, v)
	case []uint8:
		return fillAs(d, v)
	case []bool:
		return fillAs(d, v)
	}
	return fmt.Errorf("unsupported data type %T", t.Data)
}

func fillAs[T anyElem](dst []T, v any) error {
	x, ok := v.(T)
	if !ok {
		return fmt.Errorf("fill value %T does not match the data type %T", v, dst)
	}
	for i := range dst {
		dst[i] = x
	}
	return nil
}

// scalarAt returns element i of t as a scalar of its element type (float32, int64, bool...).
func scalarAt(t *tensor.Tensor, i int) any {
	switch d := t.Data.(type) {
	case []float32:
		return d[i]
	case []float64:
		return d[i]
	case []int64:
		return d[i]
	case []int32:
		return d[i]
	case []int8:
		return d[i]
	case []uint8:
		return d[i]
	case []bool:
		return d[i]
	}
	return nil
}

// scalarFromFloat converts v to a scalar of element type dt, the way a C cast (or NumPy's
// astype) does: integers truncate toward zero, bool is v != 0.
func scalarFromFloat(dt tensor.DType, v float64) (any, error) {
	switch dt {
	case tensor.Float32:
		return float32(v), nil
	case tensor.Float64:
		return v, nil
	case tensor.Int64:
		return int64(v), nil
	case tensor.Int32:
		return int32(v), nil
	case tensor.Int8:
		return int8(v), nil
	case tensor.Uint8:
		return uint8(v), nil
	case tensor.Bool:
		return v != 0, nil
	}
	return nil, fmt.Errorf("unsupported dtype %v", dt)
}

// copyReshaped makes dst a copy of src's elements with the given shape (same element count).
// Reshape, Flatten, Squeeze and Unsqueeze only change the shape.
func copyReshaped(dst, src *tensor.Tensor, shape []int) {
	dst.CopyFrom(src)
	dst.Shape = append(dst.Shape[:0], shape...)
}
