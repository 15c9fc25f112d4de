package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gendl/gendl/runtime/tensor"
)

// Limits bounds what a tensor read from an untrusted file may claim, checked before allocation.
type Limits struct {
	// MaxElements is the largest element count of one tensor.
	MaxElements int64
	// MaxBytes is the largest byte size of one tensor; 0 means no cap beyond MaxElements.
	MaxBytes int64
}

// DefaultLimits allows tensors up to 4 GiB (VGG19's largest weight is 411 MB).
var DefaultLimits = Limits{MaxElements: 1 << 30, MaxBytes: 4 << 30}

// CheckShape validates dims (non-negative, product within the limits for element size elem)
// and returns them as ints.
func (l Limits) CheckShape(dims []int64, elem int) ([]int, error) {
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d > 0 && n > l.MaxElements/d {
			return nil, fmt.Errorf("shape %v has more than %d elements (memory cap)", dims, l.MaxElements)
		}
		n *= d
		shape[i] = int(d)
	}
	if n > l.MaxElements {
		return nil, fmt.Errorf("shape %v has %d elements, over the cap of %d", dims, n, l.MaxElements)
	}
	if elem > 0 && l.MaxBytes > 0 && n > l.MaxBytes/int64(elem) {
		return nil, fmt.Errorf("shape %v needs %d bytes, over the cap of %d", dims, n*int64(elem), l.MaxBytes)
	}
	return shape, nil
}

// TensorOptions tell ToTensor where external data may be read from.
type TensorOptions struct {
	// BaseDir is the model's directory; external data files must resolve inside it. Empty means
	// external data is refused.
	BaseDir string
	Limits  Limits
}

// ToTensor converts a TensorProto to a tensor.Tensor, copying the data. Float16 is widened to
// float32. The name of the tensor is used in errors.
func ToTensor(tp *TensorProto, opt TensorOptions) (*tensor.Tensor, error) {
	if tp == nil {
		return nil, errors.New("onnx: nil tensor")
	}
	t, err := toTensor(tp, opt)
	if err != nil {
		return nil, fmt.Errorf("onnx: tensor %q: %w", tp.GetName(), err)
	}
	return t, nil
}

func toTensor(tp *TensorProto, opt TensorOptions) (*tensor.Tensor, error) {
	if opt.Limits.MaxElements == 0 {
		opt.Limits = DefaultLimits
	}
	if tp.Segment != nil {
		return nil, errors.New("segmented tensors are not supported")
	}
	dt := tensor.DType(tp.GetDataType())
	if !dt.Supported() && dt != tensor.Float16 {
		return nil, fmt.Errorf("unsupported data type %s (%d)", dataTypeName(tp.GetDataType()), tp.GetDataType())
	}
	shape, err := opt.Limits.CheckShape(tp.GetDims(), dt.Size())
	if err != nil {
		return nil, err
	}
	n := tensor.Numel(shape)
	raw := tp.GetRawData()
	hasRaw := tp.RawData != nil
	if tp.GetDataLocation() == TensorProto_EXTERNAL {
		raw, err = readExternal(tp, opt.BaseDir, int64(n)*int64(dt.Size()))
		if err != nil {
			return nil, err
		}
		hasRaw = true
	}
	outDT := dt
	if dt == tensor.Float16 {
		outDT = tensor.Float32
	}
	// The data must match the shape before anything is allocated for it: a file of a few
	// bytes may claim a shape of gigabytes.
	if hasRaw {
		if want := n * dt.Size(); len(raw) != want {
			return nil, fmt.Errorf("raw_data has %d bytes, shape %v of %v needs %d", len(raw), shape, dt, want)
		}
		out := tensor.New(outDT, shape...)
		decodeRaw(out, dt, raw)
		return out, nil
	}
	// Typed fields.
	count := 0
	switch dt {
	case tensor.Float32:
		count = len(tp.GetFloatData())
	case tensor.Float64:
		count = len(tp.GetDoubleData())
	case tensor.Int64:
		count = len(tp.GetInt64Data())
	case tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool, tensor.Float16:
		count = len(tp.GetInt32Data())
	}
	if count != n {
		return nil, fmt.Errorf("has %d values, shape %v needs %d", count, shape, n)
	}
	out := tensor.New(outDT, shape...)
	switch dt {
	case tensor.Float32:
		copy(out.F32(), tp.GetFloatData())
	case tensor.Float64:
		copy(out.F64(), tp.GetDoubleData())
	case tensor.Int64:
		copy(out.I64(), tp.GetInt64Data())
	case tensor.Int32:
		copy(out.I32(), tp.GetInt32Data())
	case tensor.Int8:
		d := out.Data.([]int8)
		for i, v := range tp.GetInt32Data() {
			d[i] = int8(v)
		}
	case tensor.Uint8:
		d := out.Data.([]uint8)
		for i, v := range tp.GetInt32Data() {
			d[i] = uint8(v)
		}
	case tensor.Bool:
		d := out.Bools()
		for i, v := range tp.GetInt32Data() {
			d[i] = v != 0
		}
	case tensor.Float16:
		d := out.F32()
		for i, v := range tp.GetInt32Data() {
			d[i] = Float16ToFloat32(uint16(v))
		}
	}
	return out, nil
}

func decodeRaw(out *tensor.Tensor, dt tensor.DType, raw []byte) {
	le := binary.LittleEndian
	switch dt {
	case tensor.Float32:
		d := out.F32()
		for i := range d {
			d[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case tensor.Float64:
		d := out.F64()
		for i := range d {
			d[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case tensor.Int64:
		d := out.I64()
		for i := range d {
			d[i] = int64(le.Uint64(raw[8*i:]))
		}
	case tensor.Int32:
		d := out.I32()
		for i := range d {
			d[i] = int32(le.Uint32(raw[4*i:]))
		}
	case tensor.Int8:
		d := out.Data.([]int8)
		for i := range d {
			d[i] = int8(raw[i])
		}
	case tensor.Uint8:
		copy(out.Data.([]uint8), raw)
	case tensor.Bool:
		d := out.Bools()
		for i := range d {
			d[i] = raw[i] != 0
		}
	case tensor.Float16:
		d := out.F32()
		for i := range d {
			d[i] = Float16ToFloat32(le.Uint16(raw[2*i:]))
		}
	}
}

// readExternal reads the bytes of an external-data tensor. The location must be a relative path
// that stays inside baseDir after cleaning and after following symbolic links.
func readExternal(tp *TensorProto, baseDir string, want int64) ([]byte, error) {
	var loc string
	var offset, length int64 = 0, want
	for _, kv := range tp.GetExternalData() {
		var err error
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "offset":
			offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("external_data %q: %w", kv.GetKey(), err)
		}
	}
	if loc == "" {
		return nil, errors.New("external data has no location")
	}
	if baseDir == "" {
		return nil, fmt.Errorf("external data %q: the model was not loaded from a file, so external data cannot be resolved", loc)
	}
	path, err := confine(baseDir, loc)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("external data %q: negative offset %d", loc, offset)
	}
	if length != want {
		return nil, fmt.Errorf("external data %q: length %d, the shape needs %d bytes", loc, length, want)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	if offset > st.Size() || length > st.Size()-offset {
		return nil, fmt.Errorf("external data %q: bytes %d..%d requested, file has %d", loc, offset, offset+length, st.Size())
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && length == 0) {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	return buf, nil
}

// confine resolves loc relative to baseDir and fails if the result leaves baseDir.
func confine(baseDir, loc string) (string, error) {
	if filepath.IsAbs(loc) || strings.ContainsRune(loc, 0) {
		return "", fmt.Errorf("external data location %q must be a relative path inside the model's directory", loc)
	}
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return "", fmt.Errorf("external data: %w", err)
	}
	if r, err := filepath.EvalSymlinks(base); err == nil {
		base = r
	}
	p := filepath.Join(base, loc)
	if !within(base, p) {
		return "", fmt.Errorf("external data location %q leaves the model's directory", loc)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		if !within(base, r) {
			return "", fmt.Errorf("external data location %q leaves the model's directory through a symbolic link", loc)
		}
		p = r
	}
	return p, nil
}

func within(base, p string) bool {
	rel, err := filepath.Rel(base, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// FromTensor converts a tensor to a TensorProto with little-endian raw_data.
func FromTensor(name string, t *tensor.Tensor) *TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	tp := &TensorProto{Name: &name, Dims: dims, DataType: proto32(int32(t.DType))}
	n := t.Len()
	raw := make([]byte, n*t.DType.Size())
	le := binary.LittleEndian
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case []float64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case []int64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case []int32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case []int8:
		for i, v := range d {
			raw[i] = byte(v)
		}
	case []uint8:
		copy(raw, d)
	case []bool:
		for i, v := range d {
			if v {
				raw[i] = 1
			}
		}
	}
	tp.RawData = raw
	return tp
}

func proto32(v int32) *int32 { return &v }

// Float16ToFloat32 converts IEEE 754 half-precision bits to float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

func dataTypeName(dt int32) string {
	if s, ok := TensorProto_DataType_name[dt]; ok {
		return s
	}
	return "type " + strconv.Itoa(int(dt))
}

// DataTypeName returns the ONNX name of a TensorProto data type.
func DataTypeName(dt int32) string { return dataTypeName(dt) }
