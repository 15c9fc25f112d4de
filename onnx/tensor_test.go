package onnx

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/runtime/tensor"
)

// randomTensor returns a tensor of dtype dt and the given shape with random values (fixed
// seed), covering negative values, extremes and, for floats, ±Inf, NaN and -0.
func randomTensor(rng *rand.Rand, dt tensor.DType, shape ...int) *tensor.Tensor {
	t := tensor.New(dt, shape...)
	switch d := t.Data.(type) {
	case []float32:
		special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, math.SmallestNonzeroFloat32}
		for i := range d {
			if i < len(special) {
				d[i] = special[i]
			} else {
				d[i] = float32(rng.NormFloat64() * 100)
			}
		}
	case []float64:
		special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64}
		for i := range d {
			if i < len(special) {
				d[i] = special[i]
			} else {
				d[i] = rng.NormFloat64() * 1e10
			}
		}
	case []int64:
		special := []int64{math.MinInt64, math.MaxInt64, -1, 0}
		for i := range d {
			if i < len(special) {
				d[i] = special[i]
			} else {
				d[i] = rng.Int64() - rng.Int64()
			}
		}
	case []int32:
		special := []int32{math.MinInt32, math.MaxInt32, -1, 0}
		for i := range d {
			if i < len(special) {
				d[i] = special[i]
			} else {
				d[i] = int32(rng.Uint32())
			}
		}
	case []int8:
		for i := range d {
			d[i] = int8(rng.Uint32())
		}
	case []uint8:
		for i := range d {
			d[i] = uint8(rng.Uint32())
		}
	case []bool:
		for i := range d {
			d[i] = rng.IntN(2) == 1
		}
	}
	return t
}

// sameBits reports whether two tensors have the same dtype, shape and bit-identical elements
// (so NaN equals NaN and -0 differs from +0).
func sameBits(a, b *tensor.Tensor) bool {
	if a.DType != b.DType || !tensor.SameShape(a.Shape, b.Shape) {
		return false
	}
	switch x := a.Data.(type) {
	case []float32:
		y := b.F32()
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return len(x) == len(y)
	case []float64:
		y := b.F64()
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return len(x) == len(y)
	}
	return reflect.DeepEqual(a.Data, b.Data)
}

var allDTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool}

// TestRawRoundTrip: FromTensor writes raw_data, ToTensor reads it back bit for bit, for every
// dtype and for scalars, empty tensors and a few ranks; also through the wire format.
func TestRawRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{}, {0}, {1}, {7}, {2, 3}, {2, 0, 4}, {3, 1, 4, 2}}
	for _, dt := range allDTypes {
		for _, shape := range shapes {
			want := randomTensor(rng, dt, shape...)
			tp := FromTensor("x", want)
			if tp.RawData == nil {
				t.Fatalf("%v%v: FromTensor wrote no raw_data", dt, shape)
			}
			if got, w := len(tp.RawData), want.Len()*dt.Size(); got != w {
				t.Fatalf("%v%v: raw_data has %d bytes, want %d", dt, shape, got, w)
			}
			wire, err := proto.Marshal(tp)
			if err != nil {
				t.Fatal(err)
			}
			tp2 := &TensorProto{}
			if err := proto.Unmarshal(wire, tp2); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*TensorProto{tp, tp2} {
				got, err := ToTensor(p, TensorOptions{})
				if err != nil {
					t.Fatalf("%v%v: %v", dt, shape, err)
				}
				if !sameBits(got, want) {
					t.Fatalf("%v%v: round trip changed the tensor:\nwant %v\n got %v", dt, shape, want.Data, got.Data)
				}
			}
		}
	}
}

// TestRawLayout pins the byte layout of raw_data: little-endian IEEE 754 / two's complement,
// one byte per bool (onnx.proto, TensorProto.raw_data).
func TestRawLayout(t *testing.T) {
	cases := []struct {
		t    *tensor.Tensor
		want []byte
	}{
		{tensor.FromFloat32([]float32{1, -2}, 2), []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}},
		{&tensor.Tensor{DType: tensor.Float64, Shape: []int{1}, Data: []float64{1}}, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{tensor.FromInt64([]int64{-2}, 1), []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{&tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, Data: []int32{0x01020304}}, []byte{4, 3, 2, 1}},
		{&tensor.Tensor{DType: tensor.Int8, Shape: []int{2}, Data: []int8{-1, 5}}, []byte{0xff, 5}},
		{&tensor.Tensor{DType: tensor.Bool, Shape: []int{3}, Data: []bool{true, false, true}}, []byte{1, 0, 1}},
	}
	for _, c := range cases {
		tp := FromTensor("x", c.t)
		if !reflect.DeepEqual(tp.RawData, c.want) {
			t.Errorf("%v: raw_data % x, want % x", c.t, tp.RawData, c.want)
		}
		if got := tensor.DType(tp.GetDataType()); got != c.t.DType {
			t.Errorf("%v: data_type %v", c.t, got)
		}
	}
}

// typedProto stores t in the typed field the ONNX spec assigns to its dtype (float_data,
// double_data, int64_data, int32_data for the narrow integer types and bool).
func typedProto(t *tensor.Tensor) *TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	tp := &TensorProto{Name: proto.String("x"), Dims: dims, DataType: proto.Int32(int32(t.DType))}
	switch d := t.Data.(type) {
	case []float32:
		tp.FloatData = append([]float32{}, d...)
	case []float64:
		tp.DoubleData = append([]float64{}, d...)
	case []int64:
		tp.Int64Data = append([]int64{}, d...)
	case []int32:
		tp.Int32Data = append([]int32{}, d...)
	case []int8:
		for _, v := range d {
			tp.Int32Data = append(tp.Int32Data, int32(v))
		}
	case []uint8:
		for _, v := range d {
			tp.Int32Data = append(tp.Int32Data, int32(v))
		}
	case []bool:
		for _, v := range d {
			b := int32(0)
			if v {
				b = 1
			}
			tp.Int32Data = append(tp.Int32Data, b)
		}
	}
	return tp
}

// TestTypedFieldsRoundTrip reads every dtype from its typed field.
func TestTypedFieldsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dt := range allDTypes {
		for _, shape := range [][]int{{}, {0}, {5}, {2, 3}} {
			want := randomTensor(rng, dt, shape...)
			wire, err := proto.Marshal(typedProto(want))
			if err != nil {
				t.Fatal(err)
			}
			tp := &TensorProto{}
			if err := proto.Unmarshal(wire, tp); err != nil {
				t.Fatal(err)
			}
			got, err := ToTensor(tp, TensorOptions{})
			if err != nil {
				t.Fatalf("%v%v: %v", dt, shape, err)
			}
			if !sameBits(got, want) {
				t.Fatalf("%v%v: want %v, got %v", dt, shape, want.Data, got.Data)
			}
		}
	}
}

// float16Ref converts IEEE 754 binary16 bits to float64 from the format's definition, without
// bit manipulation of a wider format: (-1)^s * 2^(e-15) * (1 + m/1024) for normal numbers,
// (-1)^s * 2^-14 * (m/1024) for subnormals, ±Inf and NaN for e = 31.
func float16Ref(h uint16) float64 {
	s := 1.0
	if h&0x8000 != 0 {
		s = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0:
		return s * math.Ldexp(m/1024, -14)
	case 31:
		if m == 0 {
			return math.Inf(int(s))
		}
		return math.NaN()
	}
	return s * math.Ldexp(1+m/1024, e-15)
}

// TestFloat16ToFloat32Exhaustive checks all 65536 half-precision bit patterns against the
// definition. Every binary16 value is exactly representable in binary32, so the comparison is
// exact (zero tolerance), including the sign of zero.
func TestFloat16ToFloat32Exhaustive(t *testing.T) {
	for h := range 1 << 16 {
		got := Float16ToFloat32(uint16(h))
		want := float16Ref(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("0x%04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("0x%04x: got %v (%g), want %g", h, got, got, want)
		}
	}
	// A few values spelled out, so a wrong reference cannot hide a wrong conversion.
	named := map[uint16]float64{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, // largest finite
		0x0001: 5.960464477539063e-08, // smallest subnormal, 2^-24
		0x03ff: 6.097555160522461e-05, // largest subnormal, 1023 * 2^-24
		0x0400: 6.103515625e-05,       // smallest normal, 2^-14
		0x3555: 0.333251953125,        // nearest to 1/3
		0x7c00: math.Inf(1), 0xfc00: math.Inf(-1),
	}
	for h, want := range named {
		if got := float64(Float16ToFloat32(h)); got != want {
			t.Errorf("0x%04x: got %g, want %g", h, got, want)
		}
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("0x8000: got %g, want -0", got)
	}
}

// TestFloat16Tensor reads float16 tensors, from raw_data and from int32_data, as float32.
func TestFloat16Tensor(t *testing.T) {
	bits := []uint16{0x3c00, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x7bff}
	raw := make([]byte, 2*len(bits))
	var i32 []int32
	for i, h := range bits {
		binary.LittleEndian.PutUint16(raw[2*i:], h)
		i32 = append(i32, int32(h))
	}
	f16 := proto.Int32(int32(TensorProto_FLOAT16))
	for _, tp := range []*TensorProto{
		{Dims: []int64{2, 4}, DataType: f16, RawData: raw},
		{Dims: []int64{2, 4}, DataType: f16, Int32Data: i32},
	} {
		got, err := ToTensor(tp, TensorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != tensor.Float32 || !tensor.SameShape(got.Shape, []int{2, 4}) {
			t.Fatalf("got %v, want float32[2 4]", got)
		}
		for i, h := range bits {
			want := float16Ref(h)
			g := float64(got.F32()[i])
			if math.IsNaN(want) != math.IsNaN(g) || (!math.IsNaN(want) && (g != want || math.Signbit(g) != math.Signbit(want))) {
				t.Errorf("element %d (0x%04x): got %g, want %g", i, h, g, want)
			}
		}
	}
}

func wantErr(t *testing.T, err error, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", substrs)
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
}

// TestToTensorErrors: data that does not match the declared shape, unsupported types and
// malformed protos are errors that name the tensor.
func TestToTensorErrors(t *testing.T) {
	f32 := proto.Int32(int32(TensorProto_FLOAT))
	name := proto.String("w")
	cases := []struct {
		what string
		tp   *TensorProto
		want []string
	}{
		{"raw too short", &TensorProto{Name: name, Dims: []int64{2, 3}, DataType: f32, RawData: make([]byte, 23)}, []string{`tensor "w"`, "raw_data has 23 bytes", "needs 24"}},
		{"raw too long", &TensorProto{Name: name, Dims: []int64{2}, DataType: f32, RawData: make([]byte, 9)}, []string{"raw_data has 9 bytes", "needs 8"}},
		{"typed too few", &TensorProto{Name: name, Dims: []int64{3}, DataType: f32, FloatData: []float32{1, 2}}, []string{"has 2 values", "needs 3"}},
		{"typed too many", &TensorProto{Name: name, Dims: []int64{}, DataType: f32, FloatData: []float32{1, 2}}, []string{"has 2 values", "needs 1"}},
		{"no data", &TensorProto{Name: name, Dims: []int64{4}, DataType: f32}, []string{"has 0 values", "needs 4"}},
		{"wrong typed field", &TensorProto{Name: name, Dims: []int64{1}, DataType: proto.Int32(int32(TensorProto_INT64)), Int32Data: []int32{1}}, []string{"has 0 values"}},
		{"negative dim", &TensorProto{Name: name, Dims: []int64{2, -1}, DataType: f32}, []string{"dimension 1 is negative"}},
		{"string", &TensorProto{Name: name, Dims: []int64{1}, DataType: proto.Int32(int32(TensorProto_STRING)), StringData: [][]byte{[]byte("a")}}, []string{"unsupported data type STRING"}},
		{"uint16", &TensorProto{Name: name, Dims: []int64{1}, DataType: proto.Int32(int32(TensorProto_UINT16)), RawData: []byte{1, 0}}, []string{"unsupported data type UINT16"}},
		{"undefined", &TensorProto{Name: name, Dims: []int64{1}}, []string{"unsupported data type UNDEFINED"}},
		{"unknown type", &TensorProto{Name: name, DataType: proto.Int32(99)}, []string{"type 99"}},
		{"segment", &TensorProto{Name: name, DataType: f32, Segment: &TensorProto_Segment{}}, []string{"segmented"}},
	}
	for _, c := range cases {
		_, err := ToTensor(c.tp, TensorOptions{})
		if err == nil {
			t.Errorf("%s: got no error", c.what)
			continue
		}
		for _, s := range c.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not contain %q", c.what, err, s)
			}
		}
	}
	if _, err := ToTensor(nil, TensorOptions{}); err == nil {
		t.Error("nil TensorProto: got no error")
	}
}

// allocated returns the bytes allocated by f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestMemoryCap: a TensorProto that claims a huge shape fails before memory is allocated for
// it, whether the claim is over the limits or within them but unbacked by data.
func TestMemoryCap(t *testing.T) {
	f32 := proto.Int32(int32(TensorProto_FLOAT))
	// 1 MiB is far below every claimed size and far above the bookkeeping of an error.
	const slack = 1 << 20
	cases := []struct {
		what string
		tp   *TensorProto
		lim  Limits
		want string
	}{
		{"1<<40 elements", &TensorProto{Dims: []int64{1 << 40}, DataType: f32}, DefaultLimits, "memory cap"},
		{"product overflows int64", &TensorProto{Dims: []int64{1 << 31, 1 << 31, 1 << 31}, DataType: f32}, DefaultLimits, "memory cap"},
		{"over MaxBytes", &TensorProto{Dims: []int64{1<<29 + 1}, DataType: proto.Int32(int32(TensorProto_DOUBLE))}, DefaultLimits, "bytes, over the cap"},
		{"over a small cap", &TensorProto{Dims: []int64{1025}, DataType: f32, FloatData: make([]float32, 1025)}, Limits{MaxElements: 1024}, "1024"},
		// 1 GiB of float32 is within DefaultLimits, but the proto holds no data: the size check
		// must come before the allocation.
		{"within limits, no data", &TensorProto{Dims: []int64{1 << 28}, DataType: f32}, DefaultLimits, "has 0 values"},
		{"within limits, short raw", &TensorProto{Dims: []int64{1 << 28}, DataType: f32, RawData: []byte{1, 2, 3, 4}}, DefaultLimits, "raw_data has 4 bytes"},
	}
	for _, c := range cases {
		var err error
		n := allocated(func() { _, err = ToTensor(c.tp, TensorOptions{Limits: c.lim}) })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.what, err, c.want)
		}
		if n > slack {
			t.Errorf("%s: allocated %d bytes before failing", c.what, n)
		}
	}
	// MaxBytes 0 means no byte cap beyond MaxElements.
	tp := &TensorProto{Dims: []int64{4}, DataType: f32, FloatData: []float32{1, 2, 3, 4}}
	if _, err := ToTensor(tp, TensorOptions{Limits: Limits{MaxElements: 4}}); err != nil {
		t.Errorf("Limits{MaxElements: 4} on 4 elements: %v", err)
	}
}

func TestCheckShape(t *testing.T) {
	l := Limits{MaxElements: 100, MaxBytes: 200}
	for _, c := range []struct {
		dims []int64
		elem int
		ok   bool
	}{
		{nil, 4, true}, {[]int64{0, 1 << 62}, 4, true}, {[]int64{10, 10}, 2, true}, {[]int64{10, 10}, 4, false},
		{[]int64{101}, 1, false}, {[]int64{-1}, 1, false}, {[]int64{1 << 62, 1 << 62}, 1, false},
	} {
		shape, err := l.CheckShape(c.dims, c.elem)
		if (err == nil) != c.ok {
			t.Errorf("CheckShape(%v, %d): err %v, want ok=%v", c.dims, c.elem, err, c.ok)
		}
		if err == nil && len(shape) != len(c.dims) {
			t.Errorf("CheckShape(%v): shape %v", c.dims, shape)
		}
	}
}

// externalTensor returns a float32 tensor proto of n elements stored in location.
func externalTensor(location string, n int64, kv ...string) *TensorProto {
	tp := &TensorProto{
		Name: proto.String("w"), Dims: []int64{n}, DataType: proto.Int32(int32(TensorProto_FLOAT)),
		DataLocation: TensorProto_EXTERNAL.Enum(),
		ExternalData: []*StringStringEntryProto{{Key: proto.String("location"), Value: proto.String(location)}},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		tp.ExternalData = append(tp.ExternalData, &StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return tp
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// TestExternalData reads external data inside the model's directory (whole file, offset and
// length, a subdirectory) and refuses locations that leave it: "..", absolute paths, and
// symbolic links to files outside.
func TestExternalData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// weights.bin: 8 junk bytes, then 1 2 3, then 4 5.
	write(filepath.Join(dir, "weights.bin"), append([]byte("junkjunk"), f32Bytes(1, 2, 3, 4, 5)...))
	write(filepath.Join(dir, "sub", "w.bin"), f32Bytes(7, 8))
	write(filepath.Join(root, "secret.bin"), f32Bytes(9, 9))
	if err := os.Symlink(filepath.Join(root, "secret.bin"), filepath.Join(dir, "escape.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/w.bin", filepath.Join(dir, "inside.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "updir")); err != nil {
		t.Fatal(err)
	}
	opt := TensorOptions{BaseDir: dir}

	good := []struct {
		tp   *TensorProto
		want []float32
	}{
		{externalTensor("weights.bin", 3, "offset", "8", "length", "12"), []float32{1, 2, 3}},
		{externalTensor("weights.bin", 2, "offset", "20"), []float32{4, 5}},
		{externalTensor("sub/w.bin", 2), []float32{7, 8}},
		{externalTensor("./sub/../sub/w.bin", 2), []float32{7, 8}},
		{externalTensor("inside.bin", 2), []float32{7, 8}},
		{externalTensor("weights.bin", 0, "offset", "28"), []float32{}},
	}
	for _, c := range good {
		got, err := ToTensor(c.tp, opt)
		if err != nil {
			t.Errorf("%v: %v", c.tp.GetExternalData(), err)
			continue
		}
		if !reflect.DeepEqual(got.F32(), c.want) {
			t.Errorf("%v: got %v, want %v", c.tp.GetExternalData(), got.F32(), c.want)
		}
	}

	bad := []struct {
		tp   *TensorProto
		opt  TensorOptions
		want string
	}{
		{externalTensor("../secret.bin", 2), opt, "leaves the model's directory"},
		{externalTensor("sub/../../secret.bin", 2), opt, "leaves the model's directory"},
		{externalTensor(filepath.Join(root, "secret.bin"), 2), opt, "must be a relative path"},
		{externalTensor("/etc/passwd", 2), opt, "must be a relative path"},
		{externalTensor("escape.bin", 2), opt, "symbolic link"},
		{externalTensor("updir/secret.bin", 2), opt, "symbolic link"},
		{externalTensor("weights.bin", 2), TensorOptions{}, "not loaded from a file"},
		{externalTensor("", 2), opt, "no location"},
		{externalTensor("missing.bin", 2), opt, "no such file"},
		{externalTensor("weights.bin", 3, "length", "8"), opt, "length 8, the shape needs 12"},
		{externalTensor("weights.bin", 3, "length", "-1"), opt, "length -1"},
		{externalTensor("weights.bin", 3, "offset", "-4"), opt, "negative offset"},
		{externalTensor("weights.bin", 3, "offset", "x"), opt, `"offset"`},
		{externalTensor("weights.bin", 3, "offset", "20"), opt, "file has 28"},
		{externalTensor("weights.bin", 3, "offset", "9223372036854775800"), opt, "file has 28"},
		{externalTensor("weights.bin", 1<<40), opt, "memory cap"},
	}
	for _, c := range bad {
		_, err := ToTensor(c.tp, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.tp.GetExternalData(), err, c.want)
		}
	}
}

// TestFromTensorName: the name given is the proto's name and dims follow the shape.
func TestFromTensorName(t *testing.T) {
	tp := FromTensor("bias", tensor.New(tensor.Float32, 2, 0, 3))
	if tp.GetName() != "bias" || !reflect.DeepEqual(tp.GetDims(), []int64{2, 0, 3}) || len(tp.GetRawData()) != 0 || tp.RawData == nil {
		t.Errorf("got name %q dims %v raw %v", tp.GetName(), tp.GetDims(), tp.RawData)
	}
}

func TestDataTypeName(t *testing.T) {
	if got := DataTypeName(1); got != "FLOAT" {
		t.Errorf("DataTypeName(1) = %q", got)
	}
	if got := DataTypeName(1234); got != "type 1234" {
		t.Errorf("DataTypeName(1234) = %q", got)
	}
}
