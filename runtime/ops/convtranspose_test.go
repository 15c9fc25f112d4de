package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// ctCase is one random transposed convolution.
type ctCase struct {
	n, group, cg, mg int // cg input channels and mg output channels per group
	in, kernel       []int
	strides, dil     []int
	outPad           []int
	autoPad          string
	pads             []int // explicit pads (NOTSET); nil otherwise
	outShape         []int // output_shape attribute as written (maybe with N and C); nil if absent
	bias             bool
}

func randomCTCase(rng *rand.Rand, nd int) ctCase {
	c := ctCase{n: 1 + rng.IntN(2), group: 1 + rng.IntN(3), cg: 1 + rng.IntN(3), mg: 1 + rng.IntN(3), bias: rng.IntN(2) == 0}
	mode := rng.IntN(6) // 0-2 explicit pads, 3 output_shape, 4 SAME_UPPER/LOWER, 5 VALID
	c.autoPad = "NOTSET"
	switch mode {
	case 4:
		c.autoPad = []string{"SAME_UPPER", "SAME_LOWER"}[rng.IntN(2)]
	case 5:
		c.autoPad = "VALID"
	}
	if mode < 3 {
		c.pads = make([]int, 2*nd)
	}
	for i := range nd {
		in, k, s, d := 1+rng.IntN(4), 1+rng.IntN(3), 1+rng.IntN(3), 1+rng.IntN(2)
		op := rng.IntN(s)
		full := s*(in-1) + op + (k-1)*d + 1
		if c.pads != nil {
			pb, pe := rng.IntN(3), rng.IntN(3)
			if full-pb-pe >= 1 {
				c.pads[i], c.pads[nd+i] = pb, pe
			}
		}
		if mode == 3 {
			// total padding in {-1, 0, 1}: negative totals pad the output with zeros.
			c.outShape = append(c.outShape, max(1, full+rng.IntN(3)-1))
		}
		c.in, c.kernel, c.strides, c.dil, c.outPad = append(c.in, in), append(c.kernel, k), append(c.strides, s), append(c.dil, d), append(c.outPad, op)
	}
	if mode == 3 && rng.IntN(2) == 0 { // the form that includes N and C
		c.outShape = append([]int{c.n, c.group * c.mg}, c.outShape...)
	}
	return c
}

// resolve returns the begin pad and output size of dimension i from the ONNX formulas.
func (c *ctCase) resolve(i int) (pb, size int) {
	nd := len(c.in)
	s := c.strides[i]
	full := s*(c.in[i]-1) + c.outPad[i] + (c.kernel[i]-1)*c.dil[i] + 1
	switch {
	case c.outShape != nil || c.autoPad == "SAME_UPPER" || c.autoPad == "SAME_LOWER":
		size = c.in[i] * s
		if c.outShape != nil {
			size = c.outShape[len(c.outShape)-nd+i]
		}
		total := full - size
		half := int(math.Floor(float64(total) / 2)) // Python's total // 2
		if c.autoPad == "SAME_UPPER" {
			return half, size
		}
		return total - half, size
	case c.pads != nil:
		return c.pads[i], full - c.pads[i] - c.pads[nd+i]
	}
	return 0, full
}

func (c *ctCase) node() *Node {
	attrs := []*onnx.AttributeProto{
		onnx.AttrInts("strides", nnInts(c.strides)...),
		onnx.AttrInts("dilations", nnInts(c.dil)...),
		onnx.AttrInts("output_padding", nnInts(c.outPad)...),
		onnx.AttrInt("group", int64(c.group)),
		onnx.AttrString("auto_pad", c.autoPad),
	}
	if c.pads != nil {
		attrs = append(attrs, onnx.AttrInts("pads", nnInts(c.pads)...))
	}
	if c.outShape != nil {
		attrs = append(attrs, onnx.AttrInts("output_shape", nnInts(c.outShape)...))
	}
	nIn := 2
	if c.bias {
		nIn = 3
	}
	return nnNode("ConvTranspose", 22, nIn, 1, attrs...)
}

// naiveConvTranspose scatters every input element through the kernel, in float64.
func naiveConvTranspose(c *ctCase, x, w, b *tensor.Tensor) (shape []int, want, mag []float64) {
	nd := len(c.in)
	pb, size := make([]int, nd), make([]int, nd)
	for i := range nd {
		pb[i], size[i] = c.resolve(i)
	}
	m := c.group * c.mg
	shape = append([]int{c.n, m}, size...)
	want = make([]float64, tensor.Numel(shape))
	mag = make([]float64, len(want))
	if b != nil {
		forEachIndex(shape, func(o []int) {
			k := rowMajorOffset(shape, o)
			want[k] = float64(b.F32()[o[1]])
			mag[k] = math.Abs(want[k])
		})
	}
	pos := make([]int, nd)
	forEachIndex(x.Shape, func(xi []int) {
		xv := float64(x.F32()[rowMajorOffset(x.Shape, xi)])
		g := xi[1] / c.cg
		for om := range c.mg {
			forEachIndex(c.kernel, func(tap []int) {
				for i := range nd {
					pos[i] = xi[2+i]*c.strides[i] - pb[i] + tap[i]*c.dil[i]
					if pos[i] < 0 || pos[i] >= size[i] {
						return
					}
				}
				wv := float64(w.F32()[rowMajorOffset(w.Shape, append([]int{xi[1], om}, tap...))])
				k := rowMajorOffset(shape, append([]int{xi[0], g*c.mg + om}, pos...))
				want[k] += xv * wv
				mag[k] += math.Abs(xv * wv)
			})
		}
	})
	return shape, want, mag
}

// TestConvTransposeMatchesScatter compares ConvTranspose (Sgemm + col2im) with
// naiveConvTranspose on random 1-D, 2-D and 3-D cases covering groups, strides, dilations,
// explicit pads, output_padding, output_shape (with and without N, C) and auto_pad. Sums have
// at most C/group*prod(kernel) terms, as in Conv: the tolerance is convATol + convRTol*sum|terms|.
func TestConvTransposeMatchesScatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	ctx := &Ctx{Threads: 1}
	y := &tensor.Tensor{}
	for trial := range 300 {
		c := randomCTCase(rng, 1+trial%3)
		op := nnMustBuild(t, newConvTranspose, c.node())
		x := nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...)
		w := nnRandom(rng, append([]int{c.group * c.cg, c.mg}, c.kernel...)...)
		in := []*tensor.Tensor{x, w}
		var b *tensor.Tensor
		if c.bias {
			b = nnRandom(rng, c.group*c.mg)
			in = append(in, b)
		}
		if err := op.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
			t.Fatalf("trial %d %+v: %v", trial, c, err)
		}
		shape, want, mag := naiveConvTranspose(&c, x, w, b)
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

// TestConvTransposeIsConvAdjoint checks <Conv(x), y> == <x, ConvTranspose(y)> with the same
// weights, groups, strides, dilations and pads, output_padding chosen so that ConvTranspose
// gives back x's size. This ties ConvTranspose's weight layout [C, M/group, k...] to Conv's
// independently of the scatter reference. Both sides are float32 results summed in float64;
// their difference is bounded by convRTol times the sum of |terms| of the two inner products.
func TestConvTransposeIsConvAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for trial := range 100 {
		nd := 1 + trial%3
		c := randomConvCase(rng, nd)
		c.autoPad, c.pads = "NOTSET", make([]int, 2*nd)
		outPad := make([]int, nd)
		for i := range nd {
			c.pads[i], c.pads[nd+i] = rng.IntN(2), rng.IntN(2)
			ext := (c.kernel[i]-1)*c.dil[i] + 1
			c.in[i] = max(c.in[i], ext)
			outPad[i] = (c.in[i] + c.pads[i] + c.pads[nd+i] - ext) % c.strides[i]
		}
		c.bias = false
		conv := nnMustBuild(t, newConv, c.node())
		ct := nnMustBuild(t, newConvTranspose, nnNode("ConvTranspose", 22, 2, 1,
			onnx.AttrInts("strides", nnInts(c.strides)...), onnx.AttrInts("dilations", nnInts(c.dil)...),
			onnx.AttrInts("pads", nnInts(c.pads)...), onnx.AttrInts("output_padding", nnInts(outPad)...),
			onnx.AttrInt("group", int64(c.group))))
		x := nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...)
		w := nnRandom(rng, append([]int{c.group * c.mg, c.cg}, c.kernel...)...)
		cx, err := nnRun(conv, []*tensor.Tensor{x, w}, 1)
		if err != nil {
			t.Fatal(err)
		}
		y := nnRandom(rng, cx[0].Shape...)
		ty, err := nnRun(ct, []*tensor.Tensor{y, w}, 1)
		if err != nil {
			t.Fatalf("trial %d %+v: %v", trial, c, err)
		}
		if !tensor.SameShape(ty[0].Shape, x.Shape) {
			t.Fatalf("trial %d %+v: ConvTranspose shape %v, want X's %v", trial, c, ty[0].Shape, x.Shape)
		}
		var lhs, rhs, scale float64
		for i, v := range cx[0].F32() {
			lhs += float64(v) * float64(y.F32()[i])
			scale += math.Abs(float64(v) * float64(y.F32()[i]))
		}
		for i, v := range ty[0].F32() {
			rhs += float64(x.F32()[i]) * float64(v)
			scale += math.Abs(float64(x.F32()[i]) * float64(v))
		}
		if math.Abs(lhs-rhs) > convATol+convRTol*scale {
			t.Fatalf("trial %d %+v: <Conv(x), y> = %v, <x, ConvTranspose(y)> = %v", trial, c, lhs, rhs)
		}
	}
}

// TestConvTransposeOutputShape pins the ONNX convtranspose_output_shape example: X 3x3,
// strides 3x2, kernel 3x3 gives a 9x7 full output; output_shape 10x8 makes the total padding
// -1 per axis, which (NOTSET: the odd pad at the beginning, Python floor division) is begin 0,
// end -1: one extra row and column of zeros (plus bias) at the end.
func TestConvTransposeOutputShape(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 1, 3, 3)
	fillConst(x.F32(), 1)
	w := tensor.New(tensor.Float32, 1, 1, 3, 3)
	fillConst(w.F32(), 1)
	b := tensor.FromFloat32([]float32{0.5}, 1)
	op := nnMustBuild(t, newConvTranspose, nnNode("ConvTranspose", 22, 3, 1,
		onnx.AttrInts("strides", 3, 2), onnx.AttrInts("output_shape", 10, 8)))
	out, err := nnRun(op, []*tensor.Tensor{x, w, b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	y := out[0]
	if !tensor.SameShape(y.Shape, []int{1, 1, 10, 8}) {
		t.Fatalf("shape %v, want [1 1 10 8]", y.Shape)
	}
	// Rows: stride 3 with kernel 3 covers rows 0..8 once each. Columns: stride 2 with kernel 3
	// covers columns 0..6, with 2 and 4 covered twice. Row 9 and column 7 are bias only.
	for r := range 10 {
		for col := range 8 {
			want := float32(0.5)
			if r < 9 && col < 7 {
				want = 1.5
				if col == 2 || col == 4 {
					want = 2.5
				}
			}
			if got := y.F32()[r*8+col]; got != want {
				t.Fatalf("y[%d, %d] = %v, want %v", r, col, got, want)
			}
		}
	}
}

func TestConvTransposeErrors(t *testing.T) {
	f32 := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	cases := []struct {
		name  string
		attrs []*onnx.AttributeProto
		in    []*tensor.Tensor
		want  string
	}{
		{"int64 W", nil, []*tensor.Tensor{f32(1, 1, 3, 3), tensor.New(tensor.Int64, 1, 1, 2, 2)}, `input "W": unsupported dtype int64`},
		{"W channels", nil, []*tensor.Tensor{f32(1, 2, 3, 3), f32(3, 1, 2, 2)}, `input "W": want shape [C = 2`},
		{"group", []*onnx.AttributeProto{onnx.AttrInt("group", 2)}, []*tensor.Tensor{f32(1, 3, 3, 3), f32(3, 1, 2, 2)}, `3 channels are not divisible by group 2`},
		{"bias", nil, []*tensor.Tensor{f32(1, 2, 3, 3), f32(2, 3, 2, 2), f32(2)}, `input "B": want shape [3]`},
		{"pads too large", []*onnx.AttributeProto{onnx.AttrInts("pads", 3, 0, 3, 0)}, []*tensor.Tensor{f32(1, 1, 2, 2), f32(1, 1, 2, 2)}, `pads 3+3 exceed the full output size 3`},
		{"output_shape rank", []*onnx.AttributeProto{onnx.AttrInts("output_shape", 4, 4, 4)}, []*tensor.Tensor{f32(1, 1, 2, 2), f32(1, 1, 2, 2)}, `output_shape [4 4 4]: want 2 spatial sizes`},
	}
	for _, c := range cases {
		op := nnMustBuild(t, newConvTranspose, nnNode("ConvTranspose", 22, len(c.in), 1, c.attrs...))
		_, err := nnRun(op, c.in, 1)
		nnWantErr(t, c.name, err, c.want)
	}
	_, err := nnBuild(newConvTranspose, nnNode("ConvTranspose", 22, 2, 1, onnx.AttrInts("output_padding", 1, -1)))
	nnWantErr(t, "negative output_padding", err, `"output_padding": want values in [0, 2^20]`)
	_, err = nnBuild(newConvTranspose, nnNode("ConvTranspose", 22, 2, 1, onnx.AttrInts("strides", 1, 1), onnx.AttrInts("output_padding", 1)))
	nnWantErr(t, "output_padding length", err, `"output_padding": has 1 spatial dimensions, other attributes have 2`)
	_, err = nnBuild(newConvTranspose, nnNode("ConvTranspose", 22, 2, 1, onnx.AttrInts("strides", 1, 1), onnx.AttrInts("output_shape", 5, 5, 5)))
	nnWantErr(t, "output_shape length", err, `"output_shape": want one value per spatial dimension`)
}

// TestConvTransposeSubConvolutions checks the sub-convolution path (stride^nd phase
// convolutions on kernels.Conv) against the scatter reference on random cases without
// dilation (strides up to 3, so phases with no tap when the stride exceeds the kernel,
// output_padding, output_shape and SAME padding that pad the output with zeros), with the
// phase filters packed at plan time (W a constant of the node) and per run (W fed), at 1 and
// 3 threads; and that the Col2im path (convTransposeSub false) agrees with it.
func TestConvTransposeSubConvolutions(t *testing.T) {
	old := convTransposeSubMin
	convTransposeSubMin = 1 // the random cases have 1 to 3 output channels per group
	defer func() { convTransposeSubMin = old }()
	rng := rand.New(rand.NewPCG(25, 26))
	for trial := range 300 {
		var c ctCase
		for undilated := false; !undilated; { // draw until no dimension is dilated
			c = randomCTCase(rng, 1+trial%2)
			undilated = true
			for _, d := range c.dil {
				undilated = undilated && d == 1
			}
		}
		x := nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...)
		w := nnRandom(rng, append([]int{c.group * c.cg, c.mg}, c.kernel...)...)
		in := []*tensor.Tensor{x, w}
		var b *tensor.Tensor
		if c.bias {
			b = nnRandom(rng, c.group*c.mg)
			in = append(in, b)
		}
		shape, want, mag := naiveConvTranspose(&c, x, w, b)
		constW := trial%2 == 0
		node := c.node()
		if constW {
			node.Consts[1] = w
		}
		op := nnMustBuild(t, newConvTranspose, node)
		if ct := op.(*convTranspose); (ct.phaseW != nil) != constW {
			t.Fatalf("trial %d: phase filters packed at plan time: %v, want %v", trial, ct.phaseW != nil, constW)
		}
		for _, sub := range []bool{true, false} {
			for _, threads := range []int{1, 3} {
				convTransposeSub = sub
				y := &tensor.Tensor{Data: []float32{}}
				err := op.Run(&Ctx{Threads: threads}, in, []*tensor.Tensor{y})
				convTransposeSub = true
				if err != nil {
					t.Fatalf("trial %d %+v: %v", trial, c, err)
				}
				if !tensor.SameShape(y.Shape, shape) {
					t.Fatalf("trial %d %+v: shape %v, want %v", trial, c, y.Shape, shape)
				}
				for i, g := range y.F32() {
					if math.Abs(float64(g)-want[i]) > convATol+convRTol*mag[i] {
						t.Fatalf("trial %d %+v (sub %v, const W %v, threads %d): y[%d] = %v, want %v", trial, c, sub, constW, threads, i, g, want[i])
					}
				}
			}
		}
	}
}

// BenchmarkConvTransposeAB is the A/B of ConvTranspose's sub-convolution path (mode=sub)
// and the Col2im path (mode=col2im) on the layers of the DCGAN generators of
// runtime/ortcheck (kernel 4, stride 2, pads 1, W a plan constant), batch 1 and 16, one
// thread; cpu-ns/op is the benchmark thread's CPU time:
//
//	go test ./runtime/ops -run '^$' -bench ConvTransposeAB -count 6 | benchstat -col /mode -
func BenchmarkConvTransposeAB(b *testing.B) {
	layers := []struct{ cin, cout, side int }{{128, 64, 7}, {64, 1, 14}, {256, 128, 8}, {128, 64, 16}, {64, 3, 32}}
	for _, l := range layers {
		for _, batch := range []int{1, 16} {
			rng := rand.New(rand.NewPCG(1, 2))
			x := nnRandom(rng, batch, l.cin, l.side, l.side)
			w := nnRandom(rng, l.cin, l.cout, 4, 4)
			bias := nnRandom(rng, l.cout)
			node := nnNode("ConvTranspose", 17, 3, 1, onnx.AttrInts("kernel_shape", 4, 4), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1))
			node.Consts[1], node.Consts[2] = w, bias
			op, err := nnBuild(newConvTranspose, node)
			if err != nil {
				b.Fatal(err)
			}
			for _, mode := range []string{"sub", "col2im"} {
				b.Run(fmt.Sprintf("%dx%dx%d-%d/batch=%d/mode=%s", l.cin, l.side, l.side, l.cout, batch, mode), func(b *testing.B) {
					convTransposeSub, convTransposeSubMin = mode == "sub", 1
					defer func() { convTransposeSub, convTransposeSubMin = true, 16 }()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					ctx, y := &Ctx{Threads: 1}, &tensor.Tensor{}
					run := func() {
						if err := op.Run(ctx, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{y}); err != nil {
							b.Fatal(err)
						}
					}
					run()
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := threadCPU(b)
					for b.Loop() {
						run()
					}
					b.ReportMetric(float64((threadCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}

// threadCPU is the CPU time (user + system) of the calling OS thread.
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
