package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Numpy-style multidirectional broadcasting for the element-wise ops (Add, Sub, Mul, Div, Pow,
// Less, Max, Where, and the bias of Gemm), as the ONNX spec defines it in
// docs/Broadcasting.md: shapes are aligned on their trailing dimensions, and each pair of
// dimensions must be equal or one of them 1.
//
// A bcastPlan turns the broadcast into a short list of "runs": contiguous stretches of the
// output along which every input either advances one element at a time or stays on one
// element. Dimensions are collapsed first, so same-shape inputs are one run over the whole
// tensor, a scalar operand is one run with a one-element input, and a suffix operand (a bias of
// shape [C] added to [N, C]) is N runs of C elements. Kernels are written for one run at a time
// and never see shapes.

// numericElem is the set of element types the arithmetic ops compute in.
type numericElem interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~int8 | ~uint8
}

// floatElem is the set of floating-point element types.
type floatElem interface {
	~float32 | ~float64
}

// dataOf returns t's elements as []T. The caller has checked t.DType; a mismatch is a
// programming error and panics.
func dataOf[T any](t *tensor.Tensor) []T { return t.Data.([]T) }

// broadcastShape returns the shape that shapes broadcast to. names are the inputs' names in
// the op's spec, used in the error.
func broadcastShape(names []string, shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for j, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("input %q %s does not broadcast with the other inputs (%s): dimension %d is %d, others have %d",
					names[j], tensor.ShapeString(s), shapesString(names, shapes), i, d, o)
			}
		}
	}
	return out, nil
}

func shapesString(names []string, shapes [][]int) string {
	s := ""
	for j, sh := range shapes {
		if j > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %s", names[j], tensor.ShapeString(sh))
	}
	return s
}

// bcastPlan iterates over an output shape with inputs broadcast to it.
type bcastPlan struct {
	// dims are the collapsed output dimensions, outermost first; empty when the output has
	// one element. Their product is the output's element count.
	dims []int
	// strides[j][d] is input j's element stride along dims[d]: 0 where it is broadcast. Along
	// the innermost dimension it is 0 or 1.
	strides [][]int
}

// newBcastPlan plans the iteration over out (a shape the inputs broadcast to, for example from
// broadcastShape) for inputs of the given shapes.
func newBcastPlan(out []int, ins ...[]int) *bcastPlan {
	p := &bcastPlan{strides: make([][]int, len(ins))}
	full := make([][]int, len(ins)) // row-major strides of each input, aligned to out
	for j, s := range ins {
		st := make([]int, len(out))
		acc := 1
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] != 1 {
				st[len(out)-len(s)+i] = acc
			}
			acc *= s[i]
		}
		full[j] = st
	}
	for d, n := range out {
		if n == 1 {
			continue // contributes nothing to the iteration
		}
		if k := len(p.dims) - 1; k >= 0 && p.mergeable(full, k, d, n) {
			p.dims[k] *= n
			for j := range ins {
				p.strides[j][k] = full[j][d]
			}
			continue
		}
		p.dims = append(p.dims, n)
		for j := range ins {
			p.strides[j] = append(p.strides[j], full[j][d])
		}
	}
	return p
}

// mergeable reports whether output dimension d (of size n) can be folded into the collapsed
// dimension k that precedes it: every input must step through both as through one dimension.
func (p *bcastPlan) mergeable(full [][]int, k, d, n int) bool {
	for j := range full {
		if p.strides[j][k] != full[j][d]*n {
			return false
		}
	}
	return true
}

// inner returns the length of one run, and per input how many elements of that input a run
// reads (the run length, or 1 when the input is broadcast along it).
func (p *bcastPlan) inner(j int) (run, in int) {
	if len(p.dims) == 0 {
		return 1, 1
	}
	last := len(p.dims) - 1
	if p.strides[j][last] == 0 {
		return p.dims[last], 1
	}
	return p.dims[last], p.dims[last]
}

// forRuns calls f for each run of an output of size total, in order, with the offset of the
// run in the output and the offset of each input's first element (offs is reused between
// calls).
func (p *bcastPlan) forRuns(total int, f func(o int, offs []int)) {
	if total == 0 {
		return
	}
	offs := make([]int, len(p.strides))
	if len(p.dims) == 0 {
		f(0, offs)
		return
	}
	last := len(p.dims) - 1
	run := p.dims[last]
	idx := make([]int, last)
	for o := 0; o < total; o += run {
		f(o, offs)
		// Advance the odometer over the outer dimensions.
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < p.dims[d] {
				for j, st := range p.strides {
					offs[j] += st[d]
				}
				break
			}
			for j, st := range p.strides {
				offs[j] -= st[d] * (p.dims[d] - 1)
			}
			idx[d] = 0
		}
	}
}

// bcast1 copies-or-converts a into dst broadcast to the plan's shape: k is called per run with
// a of length len(dst) or 1.
func bcast1[A, D any](p *bcastPlan, dst []D, a []A, k func(dst []D, a []A)) {
	n, na := p.inner(0)
	p.forRuns(len(dst), func(o int, offs []int) {
		k(dst[o:o+n], a[offs[0]:offs[0]+na])
	})
}

// bcast2 computes dst from a and b broadcast to the plan's shape: k is called per run with a
// and b each of length len(dst) or 1.
func bcast2[A, B, D any](p *bcastPlan, dst []D, a []A, b []B, k func(dst []D, a []A, b []B)) {
	n, na := p.inner(0)
	_, nb := p.inner(1)
	p.forRuns(len(dst), func(o int, offs []int) {
		k(dst[o:o+n], a[offs[0]:offs[0]+na], b[offs[1]:offs[1]+nb])
	})
}

// bcast3 is bcast2 for three inputs.
func bcast3[A, B, C, D any](p *bcastPlan, dst []D, a []A, b []B, c []C, k func(dst []D, a []A, b []B, c []C)) {
	n, na := p.inner(0)
	_, nb := p.inner(1)
	_, nc := p.inner(2)
	p.forRuns(len(dst), func(o int, offs []int) {
		k(dst[o:o+n], a[offs[0]:offs[0]+na], b[offs[1]:offs[1]+nb], c[offs[2]:offs[2]+nc])
	})
}

// copyRun is the bcast1 kernel that copies (or repeats a one-element) a into dst.
func copyRun[T any](dst, a []T) {
	if len(a) == len(dst) {
		copy(dst, a)
		return
	}
	v := a[0]
	for i := range dst {
		dst[i] = v
	}
}

// binaryKernels holds one instantiation of a same-type binary kernel per numeric dtype; a nil
// entry means the op does not support that dtype. Kernels get runs from bcast2.
type binaryKernels struct {
	f32 func(dst, a, b []float32)
	f64 func(dst, a, b []float64)
	i64 func(dst, a, b []int64)
	i32 func(dst, a, b []int32)
	i8  func(dst, a, b []int8)
	u8  func(dst, a, b []uint8)
}

// runBinary computes out = k(A, B) with broadcasting, for inputs of one numeric dtype; names
// are the spec's input names.
func runBinary(names [2]string, a, b, out *tensor.Tensor, k *binaryKernels) error {
	if a.DType != b.DType {
		return fmt.Errorf("input %q is %v but input %q is %v: want the same dtype", names[0], a.DType, names[1], b.DType)
	}
	shape, err := broadcastShape(names[:], a.Shape, b.Shape)
	if err != nil {
		return err
	}
	var ok bool
	switch a.DType {
	case tensor.Float32:
		ok = binaryAs(k.f32, shape, a, b, out)
	case tensor.Float64:
		ok = binaryAs(k.f64, shape, a, b, out)
	case tensor.Int64:
		ok = binaryAs(k.i64, shape, a, b, out)
	case tensor.Int32:
		ok = binaryAs(k.i32, shape, a, b, out)
	case tensor.Int8:
		ok = binaryAs(k.i8, shape, a, b, out)
	case tensor.Uint8:
		ok = binaryAs(k.u8, shape, a, b, out)
	}
	if !ok {
		return fmt.Errorf("input %q: dtype %v is not supported", names[0], a.DType)
	}
	return nil
}

// binaryAs runs kernel k (nil: unsupported, returns false) over a and b of element type T.
func binaryAs[T any](k func(dst, a, b []T), shape []int, a, b, out *tensor.Tensor) bool {
	if k == nil {
		return false
	}
	out.Reset(a.DType, shape)
	p := newBcastPlan(shape, a.Shape, b.Shape)
	bcast2(p, dataOf[T](out), dataOf[T](a), dataOf[T](b), k)
	return true
}

// inferBroadcast is broadcastShape at plan time, where dimensions may be unknown (-1) and
// ranks unknown (the result is then unranked). A dimension is known in the result when some
// input has it known and not 1 (the others must then be 1 or unknown), or when every input has
// it known.
func inferBroadcast(names []string, in ...Type) (shape []int, ranked bool, err error) {
	rank := 0
	for _, t := range in {
		if !t.Ranked {
			return nil, false, nil
		}
		rank = max(rank, len(t.Shape))
	}
	shape = make([]int, rank)
	for i := range shape {
		shape[i] = 1
	}
	unknown := make([]bool, rank) // some input has this dimension unknown
	for j, t := range in {
		off := rank - len(t.Shape)
		for i, d := range t.Shape {
			switch o := shape[off+i]; {
			case d < 0:
				unknown[off+i] = true
			case d == o || d == 1:
			case o == 1:
				shape[off+i] = d
			default:
				return nil, false, fmt.Errorf("input %q %s does not broadcast with the other inputs: dimension %d is %d, another input has %d",
					names[j], dimsString(t.Shape), i, d, o)
			}
		}
	}
	for i, u := range unknown {
		if u && shape[i] == 1 {
			shape[i] = -1
		}
	}
	return shape, true, nil
}

// dimsString formats a plan-time shape as [3 ?] (unknown dimensions as ?).
func dimsString(shape []int) string {
	s := "["
	for i, d := range shape {
		if i > 0 {
			s += " "
		}
		if d < 0 {
			s += "?"
		} else {
			s += fmt.Sprint(d)
		}
	}
	return s + "]"
}

// dtypes lists the dtypes that have a kernel.
func (k *binaryKernels) dtypes() []tensor.DType {
	return kernelDTypes(k.f32 != nil, k.f64 != nil, k.i64 != nil, k.i32 != nil, k.i8 != nil, k.u8 != nil)
}

// numericDTypes are the dtypes of numericElem, in the order of the kernel tables' fields.
var numericDTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8}

// kernelDTypes lists the dtypes of a kernel table whose entries are set; has follows the order
// of numericDTypes.
func kernelDTypes(has ...bool) []tensor.DType {
	var out []tensor.DType
	for i, h := range has {
		if h {
			out = append(out, numericDTypes[i])
		}
	}
	return out
}

// sameDType returns the dtype shared by the inputs (Undefined when none is known), or an error
// when two known dtypes differ.
func sameDType(names []string, in ...Type) (tensor.DType, error) {
	dt, first := tensor.Undefined, ""
	for j, t := range in {
		if t.DType == tensor.Undefined {
			continue
		}
		if dt == tensor.Undefined {
			dt, first = t.DType, names[j]
			continue
		}
		if t.DType != dt {
			return 0, fmt.Errorf("input %q is %v but input %q is %v: want the same dtype", names[j], t.DType, first, dt)
		}
	}
	return dt, nil
}

// inferBinary is the plan-time counterpart of runBinary.
func inferBinary(names [2]string, in []Type, k *binaryKernels) ([]Type, error) {
	dt, err := sameDType(names[:], in[0], in[1])
	if err != nil {
		return nil, err
	}
	if err := CheckDType(names[0], Type{DType: dt}, k.dtypes()...); err != nil {
		return nil, err
	}
	shape, ranked, err := inferBroadcast(names[:], in[0], in[1])
	if err != nil {
		return nil, err
	}
	return []Type{{DType: dt, Shape: shape, Ranked: ranked}}, nil
}
