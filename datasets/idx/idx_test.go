package idx

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// handBuilt is a 2x3 uint8 IDX file written byte by byte from the format description (not by
// Encode), so Read and Encode are each checked against the spec rather than each other.
var handBuilt = []byte{
	0, 0, 0x08, 2, // magic: uint8, 2 dims
	0, 0, 0, 2, // dim 0 = 2
	0, 0, 0, 3, // dim 1 = 3
	1, 2, 3, 4, 5, 255,
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadHandBuilt(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
	}{{"plain", handBuilt}, {"gzip", gz(t, handBuilt)}} {
		a, err := Read(bytes.NewReader(c.b), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if a.Type != Uint8 || !reflect.DeepEqual(a.Dims, []int{2, 3}) {
			t.Errorf("%s: got type %v dims %v, want uint8 [2 3]", c.name, a.Type, a.Dims)
		}
		d, err := a.Uint8()
		if err != nil || !bytes.Equal(d, []byte{1, 2, 3, 4, 5, 255}) {
			t.Errorf("%s: data %v (%v)", c.name, d, err)
		}
	}
	enc, err := Encode(&Array{Type: Uint8, Dims: []int{2, 3}, Data: []uint8{1, 2, 3, 4, 5, 255}})
	if err != nil || !bytes.Equal(enc, handBuilt) {
		t.Errorf("Encode = %v (%v), want %v", enc, err, handBuilt)
	}
}

// TestBigEndianTypes checks every element type against bytes written by hand.
func TestBigEndianTypes(t *testing.T) {
	for _, c := range []struct {
		typ  Type
		body []byte
		want any
	}{
		{Int8, []byte{0xFF, 0x80}, []int8{-1, -128}},
		{Int16, []byte{0x01, 0x02, 0xFF, 0xFE}, []int16{0x0102, -2}},
		{Int32, []byte{0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF}, []int32{256, -1}},
		{Float32, []byte{0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0}, []float32{1, -2}}, // IEEE 754: 1.0, -2.0
		{Float64, []byte{0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}, []float64{1, 3.141592653589793}},
	} {
		b := append([]byte{0, 0, byte(c.typ), 1, 0, 0, 0, 2}, c.body...)
		a, err := Read(bytes.NewReader(b), Options{})
		if err != nil {
			t.Fatalf("%v: %v", c.typ, err)
		}
		if !reflect.DeepEqual(a.Data, c.want) {
			t.Errorf("%v: got %v, want %v", c.typ, a.Data, c.want)
		}
		enc, err := Encode(a)
		if err != nil || !bytes.Equal(enc, b) {
			t.Errorf("%v: re-encoded %v (%v), want %v", c.typ, enc, err, b)
		}
		if _, err := a.Uint8(); err == nil {
			t.Errorf("%v: Uint8() on %v data gave no error", c.typ, c.typ)
		}
	}
}

func TestCorrupt(t *testing.T) {
	trail := append(append([]byte{}, handBuilt...), 9, 9, 9)
	for _, c := range []struct {
		name string
		b    []byte
		opt  Options
		want string
	}{
		{"empty", nil, Options{}, "empty file"},
		{"one byte", []byte{0}, Options{}, "too short"},
		{"short header", []byte{0, 0, 8}, Options{}, "too short for an IDX header (3 bytes"},
		{"bad magic", []byte{0x50, 0x4B, 3, 4, 0, 0, 0, 1, 0}, Options{}, "bad magic 50 4B 03 04"},
		{"bad type", []byte{0, 0, 0x07, 1, 0, 0, 0, 1, 0}, Options{}, "element type 0x07"},
		{"zero dims", []byte{0, 0, 8, 0}, Options{}, "declares 0 dimensions"},
		{"too many dims", []byte{0, 0, 8, 200}, Options{}, "declares 200 dimensions"},
		{"dims truncated", []byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, Options{}, "truncated header: 3 dimensions need 12 bytes of sizes, the file has 6"},
		{"data truncated", handBuilt[:len(handBuilt)-2], Options{}, "truncated: dimensions [2 3] of uint8 need 6 bytes of data, the file has 4"},
		{"trailing bytes", trail, Options{}, "3 bytes after the data"},
		{"over cap", handBuilt, Options{MaxBytes: 5}, "more than the 5-byte cap"},
		// 2^31-1 cubed overflows int64 in bytes: must be caught as over the cap, not wrap around.
		{"overflow", []byte{0, 0, 0x0E, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF}, Options{}, "more than the 1073741824-byte cap"},
		{"dim too large", []byte{0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF}, Options{}, "dimension 0 is 4294967295, too large"},
		// A header that claims 1 GiB over a few bytes: an error, without allocating 1 GiB.
		{"lying header", []byte{0, 0, 8, 2, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 1, 2, 3}, Options{}, "need 1073741824 bytes of data, the file has 3"},
		{"gzip truncated", gz(t, handBuilt)[:20], Options{}, "idx: gzip stream is truncated"},
		{"gzip header only", []byte{0x1f, 0x8b, 8}, Options{}, "idx: gzip"},
		{"gzip corrupt", corruptGzip(t), Options{}, "idx: gzip"},
		{"gzip wrapping garbage", gz(t, []byte("hello world")), Options{}, "bad magic 68 65 6C 6C"},
	} {
		_, err := Read(bytes.NewReader(c.b), c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "idx: ") {
			t.Errorf("%s: want an error starting with \"idx: \" containing %q, got %v", c.name, c.want, err)
		}
	}
}

// corruptGzip flips a byte of the compressed payload so that the CRC (or the deflate stream)
// fails.
func corruptGzip(t *testing.T) []byte {
	b := gz(t, handBuilt)
	b[len(b)-9] ^= 0xFF // inside the deflate data or CRC-32 (the trailer is CRC-32 + size, 8 bytes)
	return b
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x-idx2-ubyte.gz")
	if err := os.WriteFile(p, gz(t, handBuilt), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := ReadFile(p, Options{})
	if err != nil || a.Len() != 6 {
		t.Fatalf("ReadFile: %v, %v", a, err)
	}
	bad := filepath.Join(dir, "bad.idx")
	if err := os.WriteFile(bad, handBuilt[:15], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(bad, Options{}); err == nil || !strings.Contains(err.Error(), "(file bad.idx)") {
		t.Errorf("error should name the file: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), Options{}); err == nil || !strings.HasPrefix(err.Error(), "idx: ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, a := range []*Array{
		{Type: Uint8, Dims: []int{3}, Data: []uint8{1, 2}},
		{Type: Uint8, Dims: []int{2}, Data: []int8{1, 2}},
		{Type: 0x42, Dims: []int{1}, Data: []uint8{1}},
		{Type: Uint8, Dims: nil, Data: []uint8{1}},
	} {
		if _, err := Encode(a); err == nil {
			t.Errorf("Encode(%+v): no error", a)
		}
	}
}

// FuzzRead: any bytes give an array or an error, never a panic; an array re-encodes to the
// same bytes.
func FuzzRead(f *testing.F) {
	f.Add(handBuilt)
	f.Add([]byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b), Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		if b[0] == 0x1f {
			return
		}
		enc, err := Encode(a)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip: %v %v", enc, err)
		}
	})
}
