package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Conv results are float32 sums of at most C/group*prod(kernel) <= 3*27 = 81 products,
// compared with a float64 reference. Each float32 addition rounds by at most 2^-24 of the
// running magnitude, so |got-want| <= 81 * 2^-24 * sum|terms| ~ 4.8e-6 * sum|terms|; the test
// allows convRTol * sum|terms| + convATol, where sum|terms| includes |bias|.
const (
	convRTol = 1e-5
	convATol = 1e-6
)

// convCase is one random convolution: shapes and the attributes in spec form.
type convCase struct {
	n, group, cg, mg int
	in, kernel       []int
	strides, dil     []int
	autoPad          string
	pads             []int // explicit pads (NOTSET); nil otherwise
	bias             bool
	kernelAttr       bool // give kernel_shape (it is optional)
}

// randomConvCase draws a convolution with nd spatial dimensions whose sizes differ per
// dimension, with random groups (sometimes depthwise), strides, dilations and padding.
func randomConvCase(rng *rand.Rand, nd int) convCase {
	c := convCase{n: 1 + rng.IntN(2), group: 1 + rng.IntN(3), cg: 1 + rng.IntN(3), mg: 1 + rng.IntN(3),
		bias: rng.IntN(2) == 0, kernelAttr: rng.IntN(2) == 0}
	if rng.IntN(4) == 0 { // depthwise: one input channel per group
		c.cg = 1
		c.group = 2 + rng.IntN(3)
	}
	c.autoPad = []string{"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}[rng.IntN(6)]
	if c.autoPad == "NOTSET" {
		c.pads = make([]int, 2*nd)
	}
	for i := range nd {
		k, s, d := 1+rng.IntN(3), 1+rng.IntN(3), 1+rng.IntN(2)
		ext := (k-1)*d + 1
		var pb, pe int
		if c.pads != nil {
			pb, pe = rng.IntN(3), rng.IntN(3)
			c.pads[i], c.pads[nd+i] = pb, pe
		}
		c.in = append(c.in, max(1, ext-pb-pe)+rng.IntN(5))
		c.kernel = append(c.kernel, k)
		c.strides = append(c.strides, s)
		c.dil = append(c.dil, d)
	}
	return c
}

// resolvePads returns the begin and end pads and the output size of dimension i, from the
// ONNX formulas written out independently of pool_geometry.go.
func (c *convCase) resolvePads(i int) (pb, pe, out int) {
	nd := len(c.in)
	in, s := c.in[i], c.strides[i]
	ext := (c.kernel[i]-1)*c.dil[i] + 1
	switch c.autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		out = int(math.Ceil(float64(in) / float64(s)))
		total := max(0, (out-1)*s+ext-in)
		pb = total / 2
		if c.autoPad == "SAME_LOWER" {
			pb = (total + 1) / 2
		}
		return pb, total - pb, out
	case "VALID":
		return 0, 0, (in-ext)/s + 1
	}
	pb, pe = c.pads[i], c.pads[nd+i]
	return pb, pe, (in+pb+pe-ext)/s + 1
}

func (c *convCase) node() *Node {
	attrs := []*onnx.AttributeProto{
		onnx.AttrInts("strides", nnInts(c.strides)...),
		onnx.AttrInts("dilations", nnInts(c.dil)...),
		onnx.AttrInt("group", int64(c.group)),
		onnx.AttrString("auto_pad", c.autoPad),
	}
	if c.pads != nil {
		attrs = append(attrs, onnx.AttrInts("pads", nnInts(c.pads)...))
	}
	if c.kernelAttr {
		attrs = append(attrs, onnx.AttrInts("kernel_shape", nnInts(c.kernel)...))
	}
	nIn := 2
	if c.bias {
		nIn = 3
	}
	return nnNode("Conv", 22, nIn, 1, attrs...)
}

// naiveConv is the definition of Conv as direct loops in float64. It returns the output, and
// per element the sum of the magnitudes of its terms (for the tolerance).
func naiveConv(c *convCase, x, w, b *tensor.Tensor) (shape []int, want, mag []float64) {
	nd := len(c.in)
	m := c.group * c.mg
	pb := make([]int, nd)
	outSp := make([]int, nd)
	for i := range nd {
		pb[i], _, outSp[i] = c.resolvePads(i)
	}
	shape = append([]int{c.n, m}, outSp...)
	want = make([]float64, tensor.Numel(shape))
	mag = make([]float64, len(want))
	xs, ws := x.F32(), w.F32()
	pos := make([]int, nd)
	forEachIndex(shape, func(o []int) {
		n, oc := o[0], o[1]
		g := oc / c.mg
		var sum, abs float64
		if b != nil {
			sum, abs = float64(b.F32()[oc]), math.Abs(float64(b.F32()[oc]))
		}
		for ic := range c.cg {
			forEachIndex(c.kernel, func(tap []int) {
				for i := range nd {
					pos[i] = o[2+i]*c.strides[i] - pb[i] + tap[i]*c.dil[i]
					if pos[i] < 0 || pos[i] >= c.in[i] {
						return
					}
				}
				xv := float64(xs[rowMajorOffset(x.Shape, append([]int{n, g*c.cg + ic}, pos...))])
				wv := float64(ws[rowMajorOffset(w.Shape, append([]int{oc, ic}, tap...))])
				sum += xv * wv
				abs += math.Abs(xv * wv)
			})
		}
		k := rowMajorOffset(shape, o)
		want[k], mag[k] = sum, abs
	})
	return shape, want, mag
}

// TestConvMatchesDirectLoops compares Conv (im2col + Sgemm) with naiveConv on random 1-D, 2-D
// and 3-D cases. One Ctx and one output tensor serve every case, so scratch and output
// buffers are reused with stale contents and other shapes.
func TestConvMatchesDirectLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ctx := &Ctx{Threads: 1}
	y := &tensor.Tensor{}
	for trial := range 300 {
		c := randomConvCase(rng, 1+trial%3)
		op := nnMustBuild(t, newConv, c.node())
		x := nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...)
		w := nnRandom(rng, append([]int{c.group * c.mg, c.cg}, c.kernel...)...)
		in := []*tensor.Tensor{x, w}
		var b *tensor.Tensor
		if c.bias {
			b = nnRandom(rng, c.group*c.mg)
			in = append(in, b)
		}
		if err := op.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
			t.Fatalf("trial %d %+v: %v", trial, c, err)
		}
		shape, want, mag := naiveConv(&c, x, w, b)
		if !tensor.SameShape(y.Shape, shape) {
			t.Fatalf("trial %d %+v: shape %v, want %v", trial, c, y.Shape, shape)
		}
		for i, g := range y.F32() {
			if math.Abs(float64(g)-want[i]) > convATol+convRTol*mag[i] {
				t.Fatalf("trial %d %+v: y[%d] = %v, want %v", trial, c, i, g, want[i])
			}
		}
	}
}

// TestConvPointwise pins the 1x1 fast path (X used as the column matrix without im2col)
// against the reference, with groups and a batch.
func TestConvPointwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	c := convCase{n: 2, group: 2, cg: 3, mg: 2, in: []int{3, 5}, kernel: []int{1, 1},
		strides: []int{1, 1}, dil: []int{1, 1}, autoPad: "NOTSET", pads: []int{0, 0, 0, 0}, bias: true}
	op := nnMustBuild(t, newConv, c.node())
	x := nnRandom(rng, 2, 6, 3, 5)
	w := nnRandom(rng, 4, 3, 1, 1)
	b := nnRandom(rng, 4)
	out, err := nnRun(op, []*tensor.Tensor{x, w, b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, want, mag := naiveConv(&c, x, w, b)
	for i, g := range out[0].F32() {
		if math.Abs(float64(g)-want[i]) > convATol+convRTol*mag[i] {
			t.Fatalf("y[%d] = %v, want %v", i, g, want[i])
		}
	}
}

// TestConvKnownValues is the ONNX basic_conv_with_padding example worked by hand: a 5x5 ramp
// convolved with a 3x3 kernel of ones, pads 1. Every value is a small integer, exact in float32.
func TestConvKnownValues(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 1, 5, 5)
	for i := range x.F32() {
		x.F32()[i] = float32(i)
	}
	w := tensor.New(tensor.Float32, 1, 1, 3, 3)
	fillConst(w.F32(), 1)
	op := nnMustBuild(t, newConv, nnNode("Conv", 11, 2, 1, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1)))
	out, err := nnRun(op, []*tensor.Tensor{x, w}, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{
		12, 21, 27, 33, 24,
		33, 54, 63, 72, 51,
		63, 99, 108, 117, 81,
		93, 144, 153, 162, 111,
		72, 111, 117, 123, 84,
	}
	for i, g := range out[0].F32() {
		if g != want[i] {
			t.Fatalf("y = %v\nwant %v", out[0].F32(), want)
		}
	}
}

// TestConvErrors checks that bad inputs give errors naming the input, never a panic.
func TestConvErrors(t *testing.T) {
	f32 := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	cases := []struct {
		name  string
		attrs []*onnx.AttributeProto
		in    []*tensor.Tensor
		want  string
	}{
		{"float64 X", nil, []*tensor.Tensor{tensor.New(tensor.Float64, 1, 1, 3, 3), f32(1, 1, 2, 2)}, `input "X": unsupported dtype float64`},
		{"rank 2", nil, []*tensor.Tensor{f32(1, 3), f32(1, 3)}, `input "X": want rank 3 to 5`},
		{"rank 6", nil, []*tensor.Tensor{f32(1, 1, 2, 2, 2, 2), f32(1, 1, 1, 1, 1, 1)}, `input "X": want rank 3 to 5`},
		{"W rank", nil, []*tensor.Tensor{f32(1, 1, 3, 3), f32(1, 1, 3)}, `input "W": want rank 4 like X`},
		{"channels", nil, []*tensor.Tensor{f32(1, 3, 3, 3), f32(2, 2, 1, 1)}, `input "W": want shape [M, C/group = 3`},
		{"group channels", []*onnx.AttributeProto{onnx.AttrInt("group", 2)}, []*tensor.Tensor{f32(1, 4, 3, 3), f32(3, 2, 1, 1)}, `not divisible by group 2`},
		{"bias shape", nil, []*tensor.Tensor{f32(1, 1, 3, 3), f32(2, 1, 1, 1), f32(3)}, `input "B": want shape [2]`},
		{"kernel_shape", []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 3, 3)}, []*tensor.Tensor{f32(1, 1, 3, 3), f32(1, 1, 2, 2)}, `kernel_shape [3 3] does not match`},
		{"too small", nil, []*tensor.Tensor{f32(1, 1, 2, 5), f32(1, 1, 3, 3)}, `smaller than the kernel's extent 3`},
		{"attr rank", []*onnx.AttributeProto{onnx.AttrInts("strides", 1)}, []*tensor.Tensor{f32(1, 1, 3, 3), f32(1, 1, 1, 1)}, `the attributes describe 1 spatial dimensions, the input has 2`},
	}
	for _, c := range cases {
		op := nnMustBuild(t, newConv, nnNode("Conv", 22, len(c.in), 1, c.attrs...))
		_, err := nnRun(op, c.in, 1)
		nnWantErr(t, c.name, err, c.want)
	}
	_, err := nnBuild(newConv, nnNode("Conv", 22, 2, 1, onnx.AttrInt("group", 0)))
	nnWantErr(t, "group 0", err, `"group": want a positive value`)
	_, err = nnBuild(newConv, nnNode("Conv", 22, 1, 1))
	nnWantErr(t, "one input", err, "want 2 to 3 inputs")
}

// TestConvScratchCap checks that an im2col buffer is bounded by tensor.MaxElements like any
// tensor, with an error instead of a huge allocation. A 2-D Conv packs from the image and
// needs none: its 8*8 = 64 outputs are computed under a cap of 100 that the column matrix
// [3*3, 64] (576) would exceed. A 3-D Conv takes the explicit path: output 4*4*4 = 64, column
// matrix [3*3*3, 64] = 1728 > 100.
func TestConvScratchCap(t *testing.T) {
	saved := tensor.MaxElements
	tensor.MaxElements = 100
	defer func() { tensor.MaxElements = saved }()
	op := nnMustBuild(t, newConv, nnNode("Conv", 22, 2, 1, onnx.AttrInts("pads", 1, 1, 1, 1)))
	if _, err := nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 8, 8), tensor.New(tensor.Float32, 1, 1, 3, 3)}, 1); err != nil {
		t.Errorf("2-D Conv under the cap: %v", err)
	}
	op3 := nnMustBuild(t, newConv, nnNode("Conv", 22, 2, 1, onnx.AttrInts("pads", 1, 1, 1, 1, 1, 1)))
	_, err := nnRun(op3, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 4, 4, 4), tensor.New(tensor.Float32, 1, 1, 3, 3, 3)}, 1)
	nnWantErr(t, "Conv 3-D", err, "the column matrix [27, 64] needs more than tensor.MaxElements (100)")
	ct := nnMustBuild(t, newConvTranspose, nnNode("ConvTranspose", 22, 2, 1))
	_, err = nnRun(ct, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 6, 6), tensor.New(tensor.Float32, 1, 1, 2, 2)}, 1)
	nnWantErr(t, "ConvTranspose", err, "the column matrix [4, 36] needs more than tensor.MaxElements (100)")
}

func BenchmarkConv(b *testing.B) {
	// VGG19 block 2, first conv: 64 -> 128 channels at 112x112, 3x3, pad 1 (1.85 GFLOP).
	rng := rand.New(rand.NewPCG(15, 16))
	x := nnRandom(rng, 1, 64, 112, 112)
	w := nnRandom(rng, 128, 64, 3, 3)
	bias := nnRandom(rng, 128)
	n := nnNode("Conv", 22, 3, 1, onnx.AttrInts("pads", 1, 1, 1, 1))
	op, err := nnBuild(newConv, n)
	if err != nil {
		b.Fatal(err)
	}
	ctx := &Ctx{Threads: 1}
	out := []*tensor.Tensor{{}}
	in := []*tensor.Tensor{x, w, bias}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := op.Run(ctx, in, out); err != nil {
			b.Fatal(err)
		}
	}
}
