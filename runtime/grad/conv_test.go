package grad

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// convConfig is a random Conv or ConvTranspose: spatial dims, channels, groups and window.
type convConfig struct {
	nd, n, c, m, group int
	kernel, strides    []int
	dilations, pads    []int // pads: begins then ends
	autoPad            string
	bias               bool
	in                 []int // spatial input sizes
}

func (cc convConfig) attrs() []*onnx.AttributeProto {
	a := []*onnx.AttributeProto{
		onnx.AttrInts("kernel_shape", ints(cc.kernel...)...),
		onnx.AttrInts("strides", ints(cc.strides...)...),
		onnx.AttrInts("dilations", ints(cc.dilations...)...),
		onnx.AttrInt("group", int64(cc.group)),
	}
	if cc.autoPad != "" {
		a = append(a, onnx.AttrString("auto_pad", cc.autoPad))
	} else {
		a = append(a, onnx.AttrInts("pads", ints(cc.pads...)...))
	}
	return a
}

// randConv draws a Conv geometry whose output is not empty.
func randConv(rng *rand.Rand, k int) convConfig {
	nd := 1 + k%3
	cc := convConfig{nd: nd, n: 1 + rng.IntN(2), group: 1 + rng.IntN(2)}
	cc.c = cc.group * (1 + rng.IntN(2))
	cc.m = cc.group * (1 + rng.IntN(2))
	cc.bias = rng.IntN(2) == 0
	modes := []string{"", "", "SAME_UPPER", "SAME_LOWER", "VALID"}
	cc.autoPad = modes[rng.IntN(len(modes))]
	for range nd {
		kk := 1 + rng.IntN(3)
		d := 1 + rng.IntN(2)
		cc.kernel = append(cc.kernel, kk)
		cc.strides = append(cc.strides, 1+rng.IntN(2))
		cc.dilations = append(cc.dilations, d)
		ext := (kk-1)*d + 1
		base := map[int]int{1: 6, 2: 4, 3: 2}[nd]
		cc.in = append(cc.in, ext+base+rng.IntN(3))
	}
	for range 2 * nd {
		cc.pads = append(cc.pads, rng.IntN(3))
	}
	return cc
}

func TestConvGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for k := range 18 {
		cc := randConv(rng, k)
		xShape := append([]int{cc.n, cc.c}, cc.in...)
		wShape := append([]int{cc.m, cc.c / cc.group}, cc.kernel...)
		inputs := []fdInput{wrt("x", randn(rng, xShape...)), konst("w", randn(rng, wShape...))}
		names := []string{"x", "w"}
		if cc.bias {
			inputs = append(inputs, konst("b", randn(rng, cc.m)))
			names = append(names, "b")
		}
		c := fdCase{name: caseName("conv%d %+v", k, cc), inputs: inputs, of: []string{"y"},
			nodes: node("Conv", names, []string{"y"}, cc.attrs()...), threads: 1 + k%2}
		total += c.check(t, rng)
	}
	// Pointwise (1×1, unit strides, no padding: the single-product path), and a depthwise
	// 3×3 convolution with group = C.
	pw := fdCase{name: "conv 1x1", inputs: []fdInput{wrt("x", randn(rng, 2, 3, 4, 5)), konst("w", randn(rng, 4, 3, 1, 1))},
		of: []string{"y"}, nodes: node("Conv", []string{"x", "w"}, []string{"y"})}
	total += pw.check(t, rng)
	dw := fdCase{name: "conv depthwise", inputs: []fdInput{wrt("x", randn(rng, 1, 4, 6, 5)), konst("w", randn(rng, 4, 1, 3, 3))},
		of: []string{"y"}, nodes: node("Conv", []string{"x", "w"}, []string{"y"}, onnx.AttrInt("group", 4), onnx.AttrInts("pads", 1, 1, 1, 1))}
	total += dw.check(t, rng)
	t.Logf("%d elements compared", total)
}

func TestConvTransposeGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 15 {
		cc := randConv(rng, k)
		for i := range cc.in {
			cc.in[i] = 2 + rng.IntN(3)
		}
		attrs := cc.attrs()
		switch k % 3 {
		case 1: // output_padding < max(stride, dilation)
			var op []int
			for i := range cc.nd {
				op = append(op, rng.IntN(max(cc.strides[i], cc.dilations[i])))
			}
			attrs = append(attrs, onnx.AttrInts("output_padding", ints(op...)...))
		case 2: // output_shape, slightly off the natural size either way
			var os []int
			for i := range cc.nd {
				full := cc.strides[i]*(cc.in[i]-1) + (cc.kernel[i]-1)*cc.dilations[i] + 1
				os = append(os, max(1, full-1+rng.IntN(3)))
			}
			attrs = append(attrs, onnx.AttrInts("output_shape", ints(os...)...))
		}
		xShape := append([]int{cc.n, cc.c}, cc.in...)
		wShape := append([]int{cc.c, cc.m / cc.group}, cc.kernel...)
		inputs := []fdInput{wrt("x", randn(rng, xShape...)), konst("w", randn(rng, wShape...))}
		names := []string{"x", "w"}
		if cc.bias {
			inputs = append(inputs, konst("b", randn(rng, cc.m)))
			names = append(names, "b")
		}
		c := fdCase{name: caseName("convtranspose%d %+v", k, cc), inputs: inputs, of: []string{"y"},
			nodes: node("ConvTranspose", names, []string{"y"}, attrs...), threads: 1 + k%2}
		c.check(t, rng)
	}
}

// TestConvBands: the banded backward (column matrices cut into bands of output rows) gives
// the gradient of the unbanded one, for Conv and ConvTranspose, 2-D and 3-D, with padding
// and strides; bands of one row are the extreme. ConvTranspose's bands are independent
// columns of one product, so they agree bitwise; Conv's bands add into overlapping parts of
// dX in another order, so they agree to float32 rounding (|d| <= 1e-5*(1+|want|)).
func TestConvBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, op := range []string{"Conv", "ConvTranspose"} {
		for _, in := range [][]int{{1, 3, 9, 7}, {1, 2, 5, 4, 6}} {
			nd := len(in) - 2
			k := make([]int64, nd)
			s := make([]int64, nd)
			p := make([]int64, 2*nd)
			for i := range nd {
				k[i], s[i] = 3, int64(1+i%2)
				p[i], p[nd+i] = 1, 2
			}
			wShape := append([]int{4, in[1]}, 3, 3, 3)[:nd+2]
			if op == "ConvTranspose" {
				wShape = append([]int{in[1], 4}, 3, 3, 3)[:nd+2]
			}
			c := fdCase{name: op, inputs: []fdInput{wrt("x", randn(rng, in...)), konst("w", randn(rng, wShape...))},
				of: []string{"y"}, nodes: node(op, []string{"x", "w"}, []string{"y"},
					onnx.AttrInts("kernel_shape", k...), onnx.AttrInts("strides", s...), onnx.AttrInts("pads", p...))}
			p0 := c.model(t)
			grads := func() []float32 {
				g, err := New(p0, []string{"y"}, []string{"x"})
				if err != nil {
					t.Fatal(err)
				}
				s := g.NewSession(engine.SessionOptions{Threads: 2})
				vals, err := s.Forward(map[string]*tensor.Tensor{"x": c.inputs[0].t})
				if err != nil {
					t.Fatal(err)
				}
				seed := randn(rand.New(rand.NewPCG(7, 8)), vals["y"].Shape...)
				out, err := s.Backward(map[string]*tensor.Tensor{"y": seed})
				if err != nil {
					t.Fatal(err)
				}
				return slices.Clone(out["x"].F32())
			}
			want := grads()
			old := colBudget
			colBudget = 1 // one band per output row (or plane)
			got := grads()
			colBudget = old
			for i := range want {
				d := math.Abs(float64(got[i] - want[i]))
				if (op == "ConvTranspose" && d != 0) || d > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Errorf("%s %v: banded gradient [%d] = %g, unbanded %g", op, in, i, got[i], want[i])
					break
				}
			}
			colBudget = 1
			c.check(t, rng)
			colBudget = old
		}
	}
}

// TestConvImplicitBackward: with unit strides, Conv's input gradient runs as a convolution
// of dY with the flipped, transposed filters (kernels.ConvAdd); it must give the gradient of
// the Col2im path (convImplicit false) on random 1-D to 3-D geometries (pads larger than the
// kernel's extent included, dilations, groups, SAME and VALID padding), with W a plan
// constant (W' cached in the op) and fed (W' built per call), at 1 and 2 threads. The two
// paths sum in different orders: |d| <= 1e-5*(1+|want|). Each case also runs twice on one
// session, with W fed with other values the second time, so a stale W' would show.
func TestConvImplicitBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for k := range 40 {
		cc := randConv(rng, k)
		for i := range cc.strides {
			cc.strides[i] = 1
		}
		if k%4 == 3 { // begin pads beyond the kernel's extent: negative pads in the transposed conv
			cc.autoPad = ""
			for i := range cc.pads {
				cc.pads[i] = 3 + rng.IntN(2)
			}
		}
		xShape := append([]int{cc.n, cc.c}, cc.in...)
		wShape := append([]int{cc.m, cc.c / cc.group}, cc.kernel...)
		x, w, w2 := randn(rng, xShape...), randn(rng, wShape...), randn(rng, wShape...)
		fedW := k%2 == 1
		in := []fdInput{wrt("x", x), konst("w", w)}
		if fedW {
			in[1] = feed("w", w)
		}
		c := fdCase{name: caseName("conv%d %+v", k, cc), inputs: in, of: []string{"y"},
			nodes: node("Conv", []string{"x", "w"}, []string{"y"}, cc.attrs()...)}
		p := c.model(t)
		threads := 1 + k%2
		grads := func(implicit bool) [][]float32 {
			old := convImplicit
			convImplicit = implicit
			defer func() { convImplicit = old }()
			g, err := New(p, []string{"y"}, []string{"x"})
			if err != nil {
				t.Fatal(err)
			}
			s := g.NewSession(engine.SessionOptions{Threads: threads})
			var res [][]float32
			for _, wv := range []*tensor.Tensor{w, w2} {
				feeds := map[string]*tensor.Tensor{"x": x}
				if fedW {
					feeds["w"] = wv
				}
				vals, err := s.Forward(feeds)
				if err != nil {
					t.Fatal(err)
				}
				seed := randn(rand.New(rand.NewPCG(7, uint64(k))), vals["y"].Shape...)
				out, err := s.Backward(map[string]*tensor.Tensor{"y": seed})
				if err != nil {
					t.Fatal(err)
				}
				res = append(res, slices.Clone(out["x"].F32()))
			}
			return res
		}
		want, got := grads(false), grads(true)
		for r := range want {
			for i := range want[r] {
				if d := math.Abs(float64(got[r][i] - want[r][i])); d > 1e-5*(1+math.Abs(float64(want[r][i]))) {
					t.Fatalf("%s (fed W %v, run %d): dX[%d] = %g, Col2im path %g", c.name, fedW, r, i, got[r][i], want[r][i])
				}
			}
		}
	}
}

// BenchmarkConvBackwardAB is the A/B of Conv's unit-stride backward: VGG19 blocks 1-3 at
// 224×224 (benchVGG, backward only, one thread) with the implicit-GEMM path (mode=implicit)
// and the Col2im path (mode=col2im), interleaved:
//
//	go test ./runtime/grad -run '^$' -bench ConvBackwardAB -count 6 | benchstat -col /mode -
func BenchmarkConvBackwardAB(b *testing.B) {
	for _, mode := range []string{"implicit", "col2im"} {
		b.Run("vgg3/224x224/threads=1/mode="+mode, func(b *testing.B) {
			old := convImplicit
			convImplicit = mode == "implicit"
			defer func() { convImplicit = old }()
			benchVGG(b, 3, 224, 224, 1, "backward")
		})
	}
}

// TestConvTransposeImplicitBackward: ConvTranspose's input gradient by kernels.ConvAdd
// agrees with the Im2col path (convImplicit false) on random geometries with strides,
// dilations, groups and output_padding, at 1 and 2 threads; |d| <= 1e-5*(1+|want|).
func TestConvTransposeImplicitBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for k := range 30 {
		cc := randConv(rng, k)
		for i := range cc.in {
			cc.in[i] = 2 + rng.IntN(4)
		}
		var outPad []int
		for i := range cc.nd {
			outPad = append(outPad, rng.IntN(max(cc.strides[i], cc.dilations[i])))
		}
		attrs := append(cc.attrs(), onnx.AttrInts("output_padding", ints(outPad...)...))
		x := randn(rng, append([]int{cc.n, cc.c}, cc.in...)...)
		w := randn(rng, append([]int{cc.c, cc.m / cc.group}, cc.kernel...)...)
		c := fdCase{name: caseName("convtranspose%d %+v", k, cc), inputs: []fdInput{wrt("x", x), konst("w", w)}, of: []string{"y"},
			nodes: node("ConvTranspose", []string{"x", "w"}, []string{"y"}, attrs...)}
		p := c.model(t)
		grads := func(implicit bool) []float32 {
			old := convImplicit
			convImplicit = implicit
			defer func() { convImplicit = old }()
			g, err := New(p, []string{"y"}, []string{"x"})
			if err != nil {
				t.Fatal(err)
			}
			s := g.NewSession(engine.SessionOptions{Threads: 1 + k%2})
			vals, err := s.Forward(map[string]*tensor.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Backward(map[string]*tensor.Tensor{"y": randn(rand.New(rand.NewPCG(3, uint64(k))), vals["y"].Shape...)})
			if err != nil {
				t.Fatal(err)
			}
			return slices.Clone(out["x"].F32())
		}
		want, got := grads(false), grads(true)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: dX[%d] = %g, Im2col path %g", c.name, i, got[i], want[i])
			}
		}
	}
}
