package ops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Test helpers shared by the NN-family tests (conv, pools, normalisation). Their names start
// with nn to stay clear of other families' helpers in this package.

// nnNode builds a Node for opType at the given opset with nIn inputs and nOut outputs.
func nnNode(opType string, opset int64, nIn, nOut int, attrs ...*onnx.AttributeProto) *Node {
	name, op := "test_"+strings.ToLower(opType), opType
	p := &onnx.NodeProto{Name: &name, OpType: &op, Attribute: attrs}
	for i := range nIn {
		p.Input = append(p.Input, fmt.Sprintf("in%d", i))
	}
	for i := range nOut {
		p.Output = append(p.Output, fmt.Sprintf("out%d", i))
	}
	return &Node{Proto: p, Attrs: onnx.NewAttrs(p), Opset: opset, Consts: make([]*tensor.Tensor, nIn)}
}

// nnBuild constructs the op as the engine does: constructor, then the sticky attribute error.
func nnBuild(c Constructor, n *Node) (Op, error) {
	op, err := c(n)
	if err != nil {
		return nil, err
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// nnMustBuild is nnBuild for nodes that must be valid.
func nnMustBuild(t *testing.T, c Constructor, n *Node) Op {
	t.Helper()
	op, err := nnBuild(c, n)
	if err != nil {
		t.Fatalf("constructor: %v", err)
	}
	return op
}

// nnRun runs op on in with nOut fresh outputs.
func nnRun(op Op, in []*tensor.Tensor, nOut int) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, nOut)
	for i := range out {
		out[i] = &tensor.Tensor{}
	}
	err := op.Run(&Ctx{Threads: 1}, in, out)
	return out, err
}

// nnRandom returns a float32 tensor of standard normal values.
func nnRandom(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(rng.NormFloat64())
	}
	return t
}

func nnInts(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// nnWantErr checks that err is an error whose text contains want.
func nnWantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not contain %q", what, err, want)
	}
}

// TestWindowForward checks output sizes and pads against the ONNX formulas on hand-worked
// cases, including the ceil_mode rule that drops a last window starting in the end padding.
func TestWindowForward(t *testing.T) {
	cases := []struct {
		name                string
		attrs               []*onnx.AttributeProto
		in, kernel          int
		wantOut, wantPB, pe int
	}{
		{"default", nil, 32, 2, 31, 0, 0},
		{"pads", []*onnx.AttributeProto{onnx.AttrInts("pads", 2, 1)}, 5, 3, 6, 2, 1},
		{"strides floor", []*onnx.AttributeProto{onnx.AttrInts("strides", 3)}, 32, 5, 10, 0, 0},
		// ceil((4-3)/2 + 1) = 2.
		{"ceil", []*onnx.AttributeProto{onnx.AttrInts("strides", 2), onnx.AttrInt("ceil_mode", 1)}, 4, 3, 2, 0, 0},
		// ceil((2-1)/2 + 1) = 2, but window 1 would start at 2 >= in + pad_begin: dropped.
		{"ceil reduce", []*onnx.AttributeProto{onnx.AttrInts("strides", 2), onnx.AttrInt("ceil_mode", 1)}, 2, 1, 1, 0, 0},
		// Dilation 2 makes the kernel's extent 3.
		{"dilations", []*onnx.AttributeProto{onnx.AttrInts("dilations", 2)}, 4, 2, 2, 0, 0},
		// SAME: out = ceil(5/2) = 3, total pad (3-1)*2 + 3 - 5 = 2.
		{"same upper even", []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_UPPER"), onnx.AttrInts("strides", 2)}, 5, 3, 3, 1, 1},
		// SAME: out = 32, total pad 1: at the end for UPPER, at the beginning for LOWER.
		{"same upper odd", []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_UPPER")}, 32, 2, 32, 0, 1},
		{"same lower odd", []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_LOWER")}, 32, 2, 32, 1, 0},
		// SAME with a stride larger than the kernel: no negative padding.
		{"same no pad", []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_UPPER"), onnx.AttrInts("strides", 4)}, 8, 1, 2, 0, 0},
		// An empty auto_pad is NOTSET.
		{"empty auto_pad", []*onnx.AttributeProto{onnx.AttrString("auto_pad", ""), onnx.AttrInts("pads", 1, 0)}, 4, 2, 4, 1, 0},
		// VALID ignores pads.
		{"valid", []*onnx.AttributeProto{onnx.AttrString("auto_pad", "VALID"), onnx.AttrInts("pads", 3, 3)}, 7, 3, 5, 0, 0},
	}
	for _, c := range cases {
		n := nnNode("MaxPool", 22, 1, 1, append(c.attrs, onnx.AttrInts("kernel_shape", int64(c.kernel)))...)
		w := readWindowAttrs(n, true, true)
		if err := n.Attrs.Err(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		win, err := w.forward([]int{c.in}, []int{c.kernel})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		j := spatialSlot(1, 0)
		if win.Out[j] != c.wantOut || win.Pad[j] != c.wantPB || win.PadEnd[j] != c.pe {
			t.Errorf("%s: out %d pads %d+%d, want %d pads %d+%d", c.name, win.Out[j], win.Pad[j], win.PadEnd[j], c.wantOut, c.wantPB, c.pe)
		}
	}
}

func TestWindowForwardTooSmall(t *testing.T) {
	n := nnNode("MaxPool", 22, 1, 1, onnx.AttrInts("kernel_shape", 3, 3))
	w := readWindowAttrs(n, true, true)
	_, err := w.forward([]int{2, 5}, []int{3, 3})
	nnWantErr(t, "input smaller than kernel", err, "smaller than the kernel's extent 3")
}

// TestWindowAttrErrors checks that bad window attributes are reported at plan time, naming
// the attribute.
func TestWindowAttrErrors(t *testing.T) {
	k2 := onnx.AttrInts("kernel_shape", 2, 2)
	cases := []struct {
		attrs []*onnx.AttributeProto
		want  string
	}{
		{[]*onnx.AttributeProto{k2, onnx.AttrString("auto_pad", "SAME")}, `"auto_pad": want NOTSET`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInts("pads", 1, 1, 1)}, `"pads": want an even number`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInts("pads", 1, -1, 1, 1)}, `"pads": want values in [0, 2^20]`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInts("strides", 1, 0)}, `"strides": want values in [1, 2^20]`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInts("dilations", 1)}, `"dilations": has 1 spatial dimensions, other attributes have 2`},
		{[]*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 1, 1, 1, 1)}, `"kernel_shape": want 1 to 3 spatial dimensions`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInt("ceil_mode", 2)}, `"ceil_mode": want 0 or 1`},
		{[]*onnx.AttributeProto{onnx.AttrInts("strides", 1, 1)}, `"kernel_shape": required`},
		{[]*onnx.AttributeProto{k2, onnx.AttrInt("strides", 1)}, `"strides": want type INTS`},
	}
	for _, c := range cases {
		n := nnNode("MaxPool", 22, 1, 1, c.attrs...)
		_, err := nnBuild(newMaxPool, n)
		nnWantErr(t, fmt.Sprint(c.attrs), err, c.want)
	}
}

func TestFloorHalf(t *testing.T) {
	// Python: [t // 2 for t in range(-4, 5)].
	want := []int{-2, -2, -1, -1, 0, 0, 1, 1, 2}
	for i, w := range want {
		if got := floorHalf(i - 4); got != w {
			t.Errorf("floorHalf(%d) = %d, want %d", i-4, got, w)
		}
	}
}
