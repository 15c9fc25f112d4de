package tensor

import (
	"fmt"
	"math"
	"strings"
)

// DType is an element type. The values are those of onnx.TensorProto_DataType so that a
// conversion between the two is a cast.
type DType int32

// Element types the runtime computes with. Float16 is only read (converted to Float32 on load).
const (
	Undefined DType = 0
	Float32   DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Int32     DType = 6
	Int64     DType = 7
	Bool      DType = 9
	Float16   DType = 10
	Float64   DType = 11
)

var dtypeNames = map[DType]string{
	Undefined: "undefined", Float32: "float32", Uint8: "uint8", Int8: "int8", Int32: "int32",
	Int64: "int64", Bool: "bool", Float16: "float16", Float64: "float64",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Supported reports whether tensors of this type can be held in a Tensor.
func (d DType) Supported() bool {
	switch d {
	case Float32, Float64, Int64, Int32, Int8, Uint8, Bool:
		return true
	}
	return false
}

// Size is the number of bytes of one element (Bool: 1).
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Float64, Int64:
		return 8
	case Int8, Uint8, Bool:
		return 1
	case Float16:
		return 2
	}
	return 0
}

// Tensor is a dense, row-major n-dimensional array. Data holds a slice whose element type
// matches DType: []float32, []float64, []int64, []int32, []int8, []uint8 or []bool, of length
// exactly Len(). A scalar has an empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	Data  any
}

// Numel returns the number of elements of a shape (1 for a scalar).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// New allocates a zeroed tensor.
func New(dt DType, shape ...int) *Tensor {
	t := &Tensor{}
	t.Reset(dt, shape)
	return t
}

// FromFloat32 wraps data (not copied) with the given shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	return &Tensor{DType: Float32, Shape: append([]int{}, shape...), Data: data}
}

// FromInt64 wraps data (not copied) with the given shape.
func FromInt64(data []int64, shape ...int) *Tensor {
	return &Tensor{DType: Int64, Shape: append([]int{}, shape...), Data: data}
}

// MaxElements caps the element count of any tensor Reset or New allocates. Shapes computed at
// run time from untrusted models (ConstantOfShape, Resize, Pad, Reshape...) pass through here,
// so a hostile model cannot make the process allocate more than this; the engine turns the
// resulting *SizeError panic into an error naming the node.
var MaxElements = 1 << 30

// SizeError is the panic value of Reset for a shape that is negative or over MaxElements.
type SizeError struct{ Shape []int }

func (e *SizeError) Error() string {
	return fmt.Sprintf("tensor: shape %v is negative or has more than %d elements (tensor.MaxElements)", e.Shape, MaxElements)
}

// checkedNumel returns the element count of shape, or panics with a *SizeError.
func checkedNumel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > MaxElements/d) {
			panic(&SizeError{Shape: append([]int{}, shape...)})
		}
		n *= d
	}
	if n > MaxElements {
		panic(&SizeError{Shape: append([]int{}, shape...)})
	}
	return n
}

// Reset gives t the type dt and the shape shape, reusing its backing array when it is large
// enough. Element values are unspecified afterwards (not zeroed) when the array is reused;
// callers that need zeros use Zero. A negative shape or one over MaxElements panics with a
// *SizeError (the engine recovers it as an error).
func (t *Tensor) Reset(dt DType, shape []int) {
	n := checkedNumel(shape)
	t.Shape = append(t.Shape[:0], shape...)
	if t.DType == dt && t.Data != nil && capOf(t.Data) >= n {
		if lenOf(t.Data) != n { // re-boxing a slice in the interface allocates: only when needed
			t.Data = sliceTo(t.Data, n)
		}
		return
	}
	t.DType = dt
	t.Data = makeSlice(dt, n)
}

// Zero sets every element to zero.
func (t *Tensor) Zero() {
	switch d := t.Data.(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	case []int64:
		clear(d)
	case []int32:
		clear(d)
	case []int8:
		clear(d)
	case []uint8:
		clear(d)
	case []bool:
		clear(d)
	}
}

func makeSlice(dt DType, n int) any {
	switch dt {
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	case Int64:
		return make([]int64, n)
	case Int32:
		return make([]int32, n)
	case Int8:
		return make([]int8, n)
	case Uint8:
		return make([]uint8, n)
	case Bool:
		return make([]bool, n)
	}
	panic(fmt.Sprintf("tensor: unsupported dtype %v", dt))
}

func capOf(data any) int {
	switch d := data.(type) {
	case []float32:
		return cap(d)
	case []float64:
		return cap(d)
	case []int64:
		return cap(d)
	case []int32:
		return cap(d)
	case []int8:
		return cap(d)
	case []uint8:
		return cap(d)
	case []bool:
		return cap(d)
	}
	return 0
}

func lenOf(data any) int {
	switch d := data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int64:
		return len(d)
	case []int32:
		return len(d)
	case []int8:
		return len(d)
	case []uint8:
		return len(d)
	case []bool:
		return len(d)
	}
	return -1
}

func sliceTo(data any, n int) any {
	switch d := data.(type) {
	case []float32:
		return d[:n]
	case []float64:
		return d[:n]
	case []int64:
		return d[:n]
	case []int32:
		return d[:n]
	case []int8:
		return d[:n]
	case []uint8:
		return d[:n]
	case []bool:
		return d[:n]
	}
	return data
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...)}
	c.Data = makeSlice(t.DType, t.Len())
	copyData(c.Data, t.Data)
	return c
}

// CopyFrom makes t an exact copy of src, reusing t's storage when possible.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.Reset(src.DType, src.Shape)
	copyData(t.Data, src.Data)
}

func copyData(dst, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d, src.([]float32))
	case []float64:
		copy(d, src.([]float64))
	case []int64:
		copy(d, src.([]int64))
	case []int32:
		copy(d, src.([]int32))
	case []int8:
		copy(d, src.([]int8))
	case []uint8:
		copy(d, src.([]uint8))
	case []bool:
		copy(d, src.([]bool))
	}
}

// F32 returns the data as []float32; it panics if the type is not Float32 (a programming error:
// ops check dtypes before calling it).
func (t *Tensor) F32() []float32 { return t.Data.([]float32) }

// F64 returns the data as []float64.
func (t *Tensor) F64() []float64 { return t.Data.([]float64) }

// I64 returns the data as []int64.
func (t *Tensor) I64() []int64 { return t.Data.([]int64) }

// I32 returns the data as []int32.
func (t *Tensor) I32() []int32 { return t.Data.([]int32) }

// Bools returns the data as []bool.
func (t *Tensor) Bools() []bool { return t.Data.([]bool) }

// Float64At returns element i converted to float64, for any supported dtype.
func (t *Tensor) Float64At(i int) float64 {
	switch d := t.Data.(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []int64:
		return float64(d[i])
	case []int32:
		return float64(d[i])
	case []int8:
		return float64(d[i])
	case []uint8:
		return float64(d[i])
	case []bool:
		if d[i] {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// Int64s returns the elements of an integer tensor as int64 (a copy), for shape-like inputs.
func (t *Tensor) Int64s() ([]int64, error) {
	switch d := t.Data.(type) {
	case []int64:
		return append([]int64{}, d...), nil
	case []int32:
		out := make([]int64, len(d))
		for i, v := range d {
			out[i] = int64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor: want an int64 or int32 tensor, got %v", t.DType)
}

// Strides returns row-major strides for shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// ShapeString formats a shape as [2 3 4].
func ShapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}

func (t *Tensor) String() string {
	return fmt.Sprintf("%v%s", t.DType, ShapeString(t.Shape))
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
