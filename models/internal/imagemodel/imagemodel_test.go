package imagemodel

import (
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Keras "same": out = ceil(in/s), total padding (out-1)s + k - in, the odd pixel at the end.
// 28 with k=5, s=2: out 14, total 13·2+5-28 = 3 -> (1, 2); 8 with k=4, s=2: total 2 -> (1, 1);
// k=1, s=2 on 7: total 0.
func TestSamePads(t *testing.T) {
	for _, c := range []struct{ in, k, s, b, e int }{{28, 5, 2, 1, 2}, {8, 4, 2, 1, 1}, {7, 1, 2, 0, 0}, {5, 3, 1, 1, 1}} {
		if b, e := SamePads(c.in, c.k, c.s); b != c.b || e != c.e {
			t.Errorf("SamePads(%d, %d, %d) = %d, %d, want %d, %d", c.in, c.k, c.s, b, e, c.b, c.e)
		}
	}
	m := HalvedMaps(28, 27, 3) // 28 -> 14 -> 7 -> 4; 27 -> 14 -> 7 -> 4
	if want := [][2]int{{14, 14}, {7, 7}, {4, 4}}; len(m) != 3 || m[0] != want[0] || m[1] != want[1] || m[2] != want[2] {
		t.Errorf("HalvedMaps(28, 27, 3) = %v, want %v", m, want)
	}
	if got := Flat(28, 27, 3, 5); got != 5*4*4 {
		t.Errorf("Flat = %d, want 80", got)
	}
}

func TestParams(t *testing.T) {
	shapes := append(Pair("a", KindDense, []int{2, 3}, []int{3}), Pair("b", KindConv, []int{1, 2, 3, 3}, []int{1})...)
	if n := Count(shapes); n != 6+3+18+1 {
		t.Errorf("Count = %d, want 28", n)
	}
	ts := Zeros(shapes)
	if err := CheckParams("x", ts, shapes); err != nil {
		t.Fatal(err)
	}
	ts[0].F32()[4] = 7
	if c := Clone(ts); c[0].F32()[4] != 7 || &c[0].F32()[0] == &ts[0].F32()[0] {
		t.Error("Clone does not copy")
	}
	if s := Slices(ts); &s[0][0] != &ts[0].F32()[0] {
		t.Error("Slices does not alias")
	}
	for _, c := range []struct {
		ts   []*tensor.Tensor
		want string
	}{
		{ts[:3], "x: 3 parameter tensors, want 4"},
		{[]*tensor.Tensor{ts[0], nil, ts[2], ts[3]}, "x: parameter a.B is missing"},
		{[]*tensor.Tensor{ts[0], tensor.New(tensor.Float32, 4), ts[2], ts[3]}, "x: parameter a.B has shape [4], want [3]"},
		{[]*tensor.Tensor{ts[0], tensor.New(tensor.Int64, 3), ts[2], ts[3]}, "x: parameter a.B is int64, want float32"},
	} {
		if err := CheckParams("x", c.ts, shapes); err == nil || err.Error() != c.want {
			t.Errorf("CheckParams: %v, want %q", err, c.want)
		}
	}
	b := onnx.NewBuilder("t", 17)
	b.InputDims("in", tensor.Float32, onnx.Fixed(1))
	for i, s := range shapes[:3] {
		b.Initializer(s.Name, ts[i])
	}
	b.NamedNode("id", "Identity", []string{"in"}, []string{"out"})
	b.OutputDims("out", tensor.Float32, onnx.Fixed(1))
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadParams("x", shapes[:3], m)
	if err != nil || len(back) != 3 || back[0].F32()[4] != 7 {
		t.Fatalf("ReadParams: %v, %v", back, err)
	}
	if _, err := ReadParams("x", shapes, m); err == nil || !strings.Contains(err.Error(), `x: initializer "b.B" is missing`) {
		t.Errorf("ReadParams with a missing initializer: %v", err)
	}
}
