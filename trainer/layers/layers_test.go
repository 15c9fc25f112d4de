package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
)

// net is a small graph over float inputs: build maps the input nodes to an output node; the
// test's loss is Σ out ⊙ R for a fixed random R (or out itself when it is a scalar), so every
// output element carries a different weight into the gradient.
type net struct {
	g      *G.ExprGraph
	vm     G.VM
	inputs []*G.Node
	out    *G.Node
	loss   *G.Node
	grads  []*G.Node
}

type buildFn func(in []*G.Node) (*G.Node, error)

// newNet builds the graph over tensors vals (float32 or float64); grad selects the inputs
// whose gradients are taken.
func newNet(t *testing.T, vals []*tensor.Dense, grad []bool, build buildFn, seed uint64) *net {
	t.Helper()
	n := &net{g: G.NewGraph()}
	for i, v := range vals {
		n.inputs = append(n.inputs, G.NewTensor(n.g, v.Dtype(), v.Dims(), G.WithShape(v.Shape().Clone()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(v)))
	}
	out, err := build(n.inputs)
	if err != nil {
		t.Fatal(err)
	}
	n.out = out
	if out.Shape().IsScalar() {
		n.loss = out
	} else {
		rng := rand.New(rand.NewPCG(seed, 99))
		r := tensor.New(tensor.Of(out.Dtype()), tensor.WithShape(out.Shape().Clone()...))
		fillRandom(r, rng, 1)
		size := out.Shape().TotalSize()
		if err := r.Reshape(size); err != nil {
			t.Fatal(err)
		}
		rn := G.NewVector(n.g, out.Dtype(), G.WithShape(size), G.WithName("R"), G.WithValue(r))
		// a dot product of the flattened output with R: unlike an element-wise product,
		// Gorgonia never computes it in place, so out keeps its value
		flat, err := G.Reshape(out, tensor.Shape{size})
		if err != nil {
			t.Fatal(err)
		}
		if n.loss, err = G.Mul(flat, rn); err != nil {
			t.Fatal(err)
		}
	}
	var wrt []*G.Node
	for i, in := range n.inputs {
		if grad[i] {
			wrt = append(wrt, in)
		}
	}
	if len(wrt) > 0 {
		if n.grads, err = G.Grad(n.loss, wrt...); err != nil {
			t.Fatal(err)
		}
	}
	n.vm = G.NewTapeMachine(n.g)
	t.Cleanup(func() { n.vm.Close() })
	return n
}

func (n *net) run(t *testing.T) float64 {
	t.Helper()
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	v, err := scalarValue(n.loss.Op(), n.loss.Value())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func toF64(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return slices.Clone(d)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	panic(fmt.Sprintf("toF64: %T", v.Data()))
}

func fillRandom(d *tensor.Dense, rng *rand.Rand, scale float64) {
	switch x := d.Data().(type) {
	case []float32:
		for i := range x {
			x[i] = float32(rng.NormFloat64() * scale)
		}
	case []float64:
		for i := range x {
			x[i] = rng.NormFloat64() * scale
		}
	}
}

func randomDense(dt tensor.Dtype, shape []int, rng *rand.Rand, scale float64) *tensor.Dense {
	d := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	fillRandom(d, rng, scale)
	return d
}

// convert returns a copy of d with dtype dt.
func convert(d *tensor.Dense, dt tensor.Dtype) *tensor.Dense {
	src := toF64(d)
	if dt == tensor.Float32 {
		out := make([]float32, len(src))
		for i, v := range src {
			out[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(d.Shape().Clone()...), tensor.WithBacking(out))
	}
	return tensor.New(tensor.WithShape(d.Shape().Clone()...), tensor.WithBacking(src))
}

// Finite differences: central, step fdStep, in float64. The losses here are linear in every
// input for the convolutions (so the difference quotient is exact up to rounding, ~1e-10
// relative) and smooth for the BCE; LeakyReLU inputs are kept away from its kink.
const (
	fdStep = 1e-6
	fdAtol = 1e-6
	fdRtol = 1e-5
)

// checkGradients compares the analytic gradients of n (float64) with central differences on
// every element of every input whose gradient was taken (at most maxElems per input,
// chosen at random).
func checkGradients(t *testing.T, n *net, vals []*tensor.Dense, grad []bool, maxElems int) {
	t.Helper()
	n.run(t)
	analytic := make([][]float64, len(n.grads))
	for k, g := range n.grads {
		analytic[k] = toF64(g.Value())
	}
	rng := rand.New(rand.NewPCG(7, 7))
	k := 0
	for i, v := range vals {
		if !grad[i] {
			continue
		}
		data := v.Data().([]float64)
		idx := rng.Perm(len(data))
		if len(idx) > maxElems {
			idx = idx[:maxElems]
		}
		for _, j := range idx {
			old := data[j]
			data[j] = old + fdStep
			lp := n.run(t)
			data[j] = old - fdStep
			lm := n.run(t)
			data[j] = old
			fd := (lp - lm) / (2 * fdStep)
			if got := analytic[k][j]; math.Abs(got-fd) > fdAtol+fdRtol*math.Abs(fd) {
				t.Errorf("input %d element %d: analytic gradient %.10g, finite difference %.10g", i, j, got, fd)
			}
		}
		k++
	}
}

type convCase struct {
	transpose  bool
	n, c, h, w int
	m, kh, kw  int
	spec       ConvSpec
}

func (c convCase) String() string {
	kind := "conv"
	if c.transpose {
		kind = "convT"
	}
	return fmt.Sprintf("%s_n%d_c%d_%dx%d_m%d_k%dx%d_s%v_p%v_op%v", kind, c.n, c.c, c.h, c.w, c.m, c.kh, c.kw, c.spec.Stride, c.spec.Pads, c.spec.OutputPadding)
}

func (c convCase) shapes() (x, w, b []int) {
	if c.transpose {
		return []int{c.n, c.c, c.h, c.w}, []int{c.c, c.m, c.kh, c.kw}, []int{c.m}
	}
	return []int{c.n, c.c, c.h, c.w}, []int{c.m, c.c, c.kh, c.kw}, []int{c.m}
}

func (c convCase) build(in []*G.Node) (*G.Node, error) {
	if c.transpose {
		return ConvTranspose2d(in[0], in[1], in[2], c.spec)
	}
	return Conv2d(in[0], in[1], in[2], c.spec)
}

func (c convCase) values(dt tensor.Dtype, seed uint64) []*tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	xs, ws, bs := c.shapes()
	return []*tensor.Dense{randomDense(dt, xs, rng, 1), randomDense(dt, ws, rng, 0.5), randomDense(dt, bs, rng, 1)}
}

// convCases covers strides 1-3, square and non-square kernels and images, asymmetric and
// zero pads, output padding, a single image and batches across the filter-gradient chunk
// (filterChunk = 8), and the VAE's own layers (Keras "same", stride 2, 3x3).
func convCases() []convCase {
	same := func(h, w, k, s int) ConvSpec {
		return ConvSpec{Stride: [2]int{s, s}, Pads: SamePads([2]int{h, w}, [2]int{k, k}, [2]int{s, s})}
	}
	return []convCase{
		{false, 2, 3, 7, 6, 4, 3, 3, ConvSpec{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}}},
		{false, 1, 2, 8, 8, 3, 3, 3, same(8, 8, 3, 2)},
		{false, 9, 2, 5, 7, 2, 2, 3, ConvSpec{Stride: [2]int{2, 1}, Pads: [4]int{0, 2, 1, 0}}},
		{false, 3, 1, 9, 9, 2, 4, 4, ConvSpec{Stride: [2]int{3, 3}}},
		{true, 2, 3, 4, 4, 2, 3, 3, SameTransposeSpec([2]int{3, 3}, [2]int{2, 2})},
		{true, 9, 2, 3, 5, 3, 3, 2, ConvSpec{Stride: [2]int{2, 3}, Pads: [4]int{1, 0, 0, 1}}},
		{true, 1, 2, 3, 3, 2, 2, 2, ConvSpec{Stride: [2]int{3, 3}, OutputPadding: [2]int{1, 2}}},
		{true, 2, 2, 5, 5, 1, 3, 3, SameTransposeSpec([2]int{3, 3}, [2]int{1, 1})},
		{true, 2, 2, 3, 4, 2, 1, 1, SameTransposeSpec([2]int{1, 1}, [2]int{2, 2})},
	}
}

func TestConvGradientsFiniteDifferences(t *testing.T) {
	for i, c := range convCases() {
		t.Run(c.String(), func(t *testing.T) {
			vals := c.values(tensor.Float64, uint64(i))
			grad := []bool{true, true, true}
			n := newNet(t, vals, grad, c.build, uint64(i))
			checkGradients(t, n, vals, grad, 60)
		})
	}
}

// maxRelDiff returns max |a-b| / (1 + |b|).
func maxRelDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i])/(1+math.Abs(b[i])))
	}
	return d
}

// The float32 ops run on package kernels, the float64 ones on this package's reference loops:
// outputs and gradients must agree to float32 rounding (sums of up to a few hundred products
// of O(1) values: 1e-4 relative to 1+|value| leaves two orders of magnitude of margin).
func TestConvFloat32MatchesFloat64(t *testing.T) {
	const tol = 1e-4
	for i, c := range convCases() {
		t.Run(c.String(), func(t *testing.T) {
			v64 := c.values(tensor.Float64, uint64(i))
			var v32 []*tensor.Dense
			for _, v := range v64 {
				v32 = append(v32, convert(v, tensor.Float32))
			}
			grad := []bool{true, true, true}
			n64 := newNet(t, v64, grad, c.build, uint64(i))
			n32 := newNet(t, v32, grad, c.build, uint64(i))
			n64.run(t)
			n32.run(t)
			if d := maxRelDiff(toF64(n32.out.Value()), toF64(n64.out.Value())); d > tol {
				t.Errorf("output: float32 and float64 differ by %g (relative), want <= %g", d, tol)
			}
			for k := range n64.grads {
				if d := maxRelDiff(toF64(n32.grads[k].Value()), toF64(n64.grads[k].Value())); d > tol {
					t.Errorf("gradient %d: float32 and float64 differ by %g, want <= %g", k, d, tol)
				}
			}
		})
	}
}

// The filter gradient sums fixed chunks of images in order, so the results are bitwise the
// same whatever GOMAXPROCS is (exact resume of training depends on it).
func TestConvDeterministicAcrossThreads(t *testing.T) {
	c := convCase{false, 19, 3, 9, 9, 5, 3, 3, ConvSpec{Stride: [2]int{2, 2}, Pads: [4]int{0, 0, 1, 1}}}
	ct := c
	ct.transpose = true
	for _, c := range []convCase{c, ct} {
		var ref [][]float64
		for _, procs := range []int{1, 2, 3} {
			old := runtime.GOMAXPROCS(procs)
			vals := c.values(tensor.Float32, 3)
			n := newNet(t, vals, []bool{true, true, true}, c.build, 3)
			n.run(t)
			got := [][]float64{toF64(n.out.Value())}
			for _, g := range n.grads {
				got = append(got, toF64(g.Value()))
			}
			runtime.GOMAXPROCS(old)
			if ref == nil {
				ref = got
				continue
			}
			for k := range got {
				if !slices.Equal(got[k], ref[k]) {
					t.Errorf("%v: GOMAXPROCS %d: value %d differs from GOMAXPROCS 1", c, procs, k)
				}
			}
		}
	}
}

// onnxConv runs the case's op as a one-node ONNX model in gendl's runtime: an implementation
// of ONNX's Conv and ConvTranspose written independently of this package (and checked against
// ONNX Runtime in runtime/ortcheck).
func onnxConv(t *testing.T, c convCase, vals []*tensor.Dense) []float32 {
	t.Helper()
	op := "Conv"
	if c.transpose {
		op = "ConvTranspose"
	}
	xs, ws, bs := c.shapes()
	sh, sw := c.spec.strides()
	attrs := []*onnx.AttributeProto{
		onnx.AttrInts("strides", int64(sh), int64(sw)),
		onnx.AttrInts("pads", int64(c.spec.Pads[0]), int64(c.spec.Pads[1]), int64(c.spec.Pads[2]), int64(c.spec.Pads[3])),
		onnx.AttrInts("kernel_shape", int64(c.kh), int64(c.kw)),
	}
	if c.transpose {
		attrs = append(attrs, onnx.AttrInts("output_padding", int64(c.spec.OutputPadding[0]), int64(c.spec.OutputPadding[1])))
	}
	b := onnx.NewBuilder("conv", 17)
	b.Input("x", rt.Float32, int64s(xs)...)
	b.Initializer("w", rt.FromFloat32(vals[1].Data().([]float32), ws...))
	b.Initializer("b", rt.FromFloat32(vals[2].Data().([]float32), bs...))
	b.Node(op, []string{"x", "w", "b"}, []string{"y"}, attrs...)
	b.OutputAnyShape("y", rt.Float32)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.NewSession(engine.SessionOptions{Threads: 1}).Run(map[string]*rt.Tensor{"x": rt.FromFloat32(vals[0].Data().([]float32), xs...)})
	if err != nil {
		t.Fatal(err)
	}
	return out["y"].F32()
}

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// Conv2d and ConvTranspose2d compute ONNX's Conv and ConvTranspose with the same attributes
// (the VAE and DCGAN export them as such): |layers - gendl runtime| <= 1e-5 + 1e-5|want|
// (float32 sums of under 100 O(1) products in a different order).
func TestConvMatchesONNX(t *testing.T) {
	for i, c := range convCases() {
		t.Run(c.String(), func(t *testing.T) {
			vals := c.values(tensor.Float32, uint64(i))
			n := newNet(t, vals, []bool{false, false, false}, c.build, uint64(i))
			n.run(t)
			got := n.out.Value().Data().([]float32)
			want := onnxConv(t, c, vals)
			if !slices.Equal([]int(n.out.Shape()), yShape(c)) || len(got) != len(want) {
				t.Fatalf("output shape %v (%d values), ONNX gives %d values", n.out.Shape(), len(got), len(want))
			}
			for j := range got {
				if d := math.Abs(float64(got[j] - want[j])); d > 1e-5+1e-5*math.Abs(float64(want[j])) {
					t.Fatalf("element %d: layers %g, ONNX %g", j, got[j], want[j])
				}
			}
		})
	}
}

func yShape(c convCase) []int {
	_, ws, _ := c.shapes()
	if c.transpose {
		oh, ow, _ := ConvTransposeOutput(c.h, c.w, c.kh, c.kw, c.spec)
		return []int{c.n, ws[1], oh, ow}
	}
	oh, ow, _ := ConvOutput(c.h, c.w, c.kh, c.kw, c.spec)
	return []int{c.n, ws[0], oh, ow}
}

// The reference loops (float64's path) also run in float32 and must agree with the kernels.
func TestConvKernelsMatchReference(t *testing.T) {
	for i, c := range convCases() {
		vals := c.values(tensor.Float32, uint64(i))
		grad := []bool{true, true, true}
		fast := newNet(t, vals, grad, c.build, uint64(i))
		fast.run(t)
		forceReference = true
		ref := newNet(t, vals, grad, c.build, uint64(i))
		ref.run(t)
		forceReference = false
		if d := maxRelDiff(toF64(fast.out.Value()), toF64(ref.out.Value())); d > 1e-5 {
			t.Errorf("%v: output differs by %g", c, d)
		}
		for k := range fast.grads {
			if d := maxRelDiff(toF64(fast.grads[k].Value()), toF64(ref.grads[k].Value())); d > 1e-5 {
				t.Errorf("%v: gradient %d differs by %g", c, k, d)
			}
		}
	}
}

func TestConvBadShapes(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 5, 5), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(4, 2, 3, 3), G.WithName("w"))
	b := G.NewTensor(g, tensor.Float32, 1, G.WithShape(4), G.WithName("b"))
	if _, err := Conv2d(x, w, b, ConvSpec{}); err == nil {
		t.Error("Conv2d with 3 input channels and weights for 2: no error")
	}
	w2 := G.NewTensor(g, tensor.Float32, 4, G.WithShape(4, 3, 7, 7), G.WithName("w2"))
	if _, err := Conv2d(x, w2, b, ConvSpec{}); err == nil {
		t.Error("Conv2d with a kernel larger than the image: no error")
	}
	b5 := G.NewTensor(g, tensor.Float32, 1, G.WithShape(5), G.WithName("b5"))
	w3 := G.NewTensor(g, tensor.Float32, 4, G.WithShape(4, 3, 3, 3), G.WithName("w3"))
	if _, err := Conv2d(x, w3, b5, ConvSpec{}); err == nil {
		t.Error("Conv2d with 5 biases for 4 filters: no error")
	}
	wt := G.NewTensor(g, tensor.Float32, 4, G.WithShape(3, 4, 3, 3), G.WithName("wt"))
	if _, err := ConvTranspose2d(x, wt, b, ConvSpec{Stride: [2]int{2, 2}, OutputPadding: [2]int{2, 0}}); err == nil {
		t.Error("ConvTranspose2d with output padding >= stride: no error")
	}
	if _, err := ConvTranspose2d(x, wt, b, ConvSpec{Pads: [4]int{-1, 0, 0, 0}}); err == nil {
		t.Error("negative pad: no error")
	}
}

func TestSamePads(t *testing.T) {
	// TensorFlow's "same": 28 -> 14 with k 3 s 2 needs 1 pixel of padding, at the end.
	if got := SamePads([2]int{28, 28}, [2]int{3, 3}, [2]int{2, 2}); got != [4]int{0, 0, 1, 1} {
		t.Errorf("SamePads(28, k3, s2) = %v, want [0 0 1 1]", got)
	}
	if got := SamePads([2]int{7, 7}, [2]int{3, 3}, [2]int{1, 1}); got != [4]int{1, 1, 1, 1} {
		t.Errorf("SamePads(7, k3, s1) = %v, want [1 1 1 1]", got)
	}
	for _, c := range []struct{ in, k, s int }{{7, 3, 2}, {14, 3, 2}, {5, 4, 2}, {9, 1, 3}, {28, 3, 1}, {3, 5, 2}} {
		sp := SameTransposeSpec([2]int{c.k, c.k}, [2]int{c.s, c.s})
		oh, _, err := ConvTransposeOutput(c.in, c.in, c.k, c.k, sp)
		if err != nil || oh != c.in*c.s {
			t.Errorf("SameTransposeSpec(k%d s%d) on %d: output %d (%v), want %d", c.k, c.s, c.in, oh, err, c.in*c.s)
		}
		p := SamePads([2]int{c.in * c.s, c.in * c.s}, [2]int{c.k, c.k}, [2]int{c.s, c.s})
		if c.k >= c.s && p != sp.Pads {
			t.Errorf("k%d s%d: transpose pads %v, the convolution's %v", c.k, c.s, sp.Pads, p)
		}
	}
}
