package testset

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestCompareRule pins ONNX's assert_allclose rule: |got-want| <= atol + rtol*|want|, NaNs in
// the same places, exact shape and dtype.
func TestCompareRule(t *testing.T) {
	nan := float32(math.NaN())
	want := tensor.FromFloat32([]float32{1000, 0, nan, 1}, 4)
	cases := []struct {
		got    []float32
		ok     bool
		reason string
	}{
		{[]float32{1000.9, 1e-8, nan, 1}, true, "within 1e-3*1000 and atol 1e-7"},
		{[]float32{1001.1, 0, nan, 1}, false, "1.1 > 1e-7 + 1e-3*1000"},
		{[]float32{1000, 2e-7, nan, 1}, false, "2e-7 > atol at want 0"},
		{[]float32{1000, 0, 0, 1}, false, "NaN expected"},
		{[]float32{1000, 0, nan, nan}, false, "NaN not expected"},
	}
	for _, c := range cases {
		r := Compare("y", tensor.FromFloat32(c.got, 4), want, DefaultRTol, DefaultATol)
		if (r.Err == nil) != c.ok {
			t.Errorf("%v (%s): err = %v, want ok=%v", c.got, c.reason, r.Err, c.ok)
		}
	}
	if r := Compare("y", tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2), want, 1, 1); r.Err == nil || !strings.Contains(r.Err.Error(), "shape") {
		t.Errorf("shape mismatch: got %v", r.Err)
	}
	if r := Compare("y", tensor.FromInt64([]int64{1000, 0, 0, 1}, 4), want, 1, 1); r.Err == nil || !strings.Contains(r.Err.Error(), "dtype") {
		t.Errorf("dtype mismatch: got %v", r.Err)
	}
}

func TestReadDirGaps(t *testing.T) {
	dir := t.TempDir()
	x := tensor.FromFloat32([]float32{1}, 1)
	for _, name := range []string{"input_0.pb", "input_2.pb"} {
		if err := onnx.EncodeTensorFile(filepath.Join(dir, name), onnx.FromTensor("x", x)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := ReadDir(dir, "input"); err == nil || !strings.Contains(err.Error(), "input_1.pb is missing") {
		t.Fatalf("want an error naming input_1.pb, got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "input_1.pb"), []byte{0xff, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadDir(dir, "input"); err == nil || !strings.Contains(err.Error(), "input_1.pb") {
		t.Fatalf("want an error naming the corrupt file, got %v", err)
	}
}
