package grad

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// The finite-difference harness. A case is a graph, the inputs to differentiate and the
// values to differentiate; the loss is L = sum over of of <w, value> with fixed random
// weights w (a random projection of the outputs), accumulated in float64 from the float32
// outputs. Each checked input element i gets the central difference
//
//	fd_i = (L(x + eps*e_i) - L(x - eps*e_i)) / (2*eps)
//
// and must satisfy |fd_i - g_i| <= fdAtol + fdRtol*|fd_i|, g the gradient from Backward.
//
// Where the tolerances come from: the float32 outputs are rounded (unit roundoff u = 2^-24
// ≈ 6e-8, more after the ops' own float32 sums), so L has an absolute error of about
// u*sqrt(#outputs)*|w|*|y| ≈ 6e-8*sqrt(300)*1*3 ≈ 3e-6 for the sizes used here, and fd_i
// an error of about 3e-6/eps = 3e-4 at eps = 1e-2: fdAtol = 2e-3 leaves a margin of 6. The
// truncation error of a central difference is eps²/6*|L”'| ≈ 2e-5*|L”'| for the smooth
// ops (none for piecewise-linear ones), covered by fdRtol = 1e-2. A wrong gradient (a
// missed term, a transposed kernel, a wrong divisor) is off by O(|g|) ≈ 0.1-10, far
// outside. TestHarnessCatchesWrongGradients checks that errors of 5% are caught.
//
// Kinks (Relu at 0, MaxPool ties, Clip bounds) break the difference quotient. Single-op
// cases avoid them by construction (inputs kept at least 0.1 away from 0 and bounds,
// pooled values at least 0.05 apart, eps = 1e-2) and compare every element. Multi-node
// cases cannot place the kinks of inner values; they are piecewise linear (Conv, Relu,
// pools, BatchNormalization, Concat...), so away from kinks the one-sided slopes
// (L(x+eps)-L(x))/eps and (L(x)-L(x-eps))/eps agree up to rounding noise, and a kink at
// distance d < eps makes them differ by D(eps-d)/eps while moving the central difference by
// exactly half that. Such cases set kink: an element whose one-sided slopes differ by more
// than kink is skipped (kink = 2e-3 keeps the error of an undetected kink under fdAtol/2),
// and at most maxSkip of the elements may be skipped.
const (
	fdAtol = 2e-3
	fdRtol = 1e-2
	fdEps  = 1e-2
)

// fdInput is one input of a case: a graph input that is differentiated (wrt), a graph input
// that is fed but not differentiated, or an initializer.
type fdInput struct {
	name  string
	t     *tensor.Tensor
	kind  int // wrtInput, feedInput, constInput
	shape []int64
}

const (
	wrtInput = iota
	feedInput
	constInput
)

func wrt(name string, t *tensor.Tensor) fdInput   { return fdInput{name: name, t: t, kind: wrtInput} }
func feed(name string, t *tensor.Tensor) fdInput  { return fdInput{name: name, t: t, kind: feedInput} }
func konst(name string, t *tensor.Tensor) fdInput { return fdInput{name: name, t: t, kind: constInput} }

// fdCase is a graph to check.
type fdCase struct {
	name    string
	opset   int64
	inputs  []fdInput
	nodes   func(b *onnx.Builder) // adds the nodes
	of      []string
	eps     float64 // 0: fdEps
	kink    float64 // 0: no kink detection (the case has none by construction)
	maxSkip float64 // fraction of elements that may be skipped as kinks
	maxElem int     // check at most this many elements per input (random subset); 0: all
	threads int
	reg     *Registry // nil: Default()
}

// tb is what check needs of a *testing.T (an interface so that the harness's own test can
// record the failures it reports).
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// node is a one-node graph body: op(inputs...) -> outputs.
func node(op string, inputs, outputs []string, attrs ...*onnx.AttributeProto) func(b *onnx.Builder) {
	return func(b *onnx.Builder) { b.NamedNode(op+"_node", op, inputs, outputs, attrs...) }
}

func (c *fdCase) model(t tb) *engine.Plan {
	t.Helper()
	opset := c.opset
	if opset == 0 {
		opset = 17
	}
	b := onnx.NewBuilder(c.name, opset)
	for _, in := range c.inputs {
		switch in.kind {
		case constInput:
			b.Initializer(in.name, in.t)
		default:
			dims := make([]int64, len(in.t.Shape))
			for i, d := range in.t.Shape {
				dims[i] = int64(d)
			}
			b.Input(in.name, in.t.DType, dims...)
		}
	}
	c.nodes(b)
	for _, o := range c.of {
		b.OutputAnyShape(o, tensor.Float32)
	}
	m, err := b.Model()
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	p, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return p
}

// check runs the case and compares Backward with finite differences; it returns the number
// of elements compared.
func (c *fdCase) check(t tb, rng *rand.Rand) int {
	t.Helper()
	p := c.model(t)
	var wrtNames []string
	feeds := map[string]*tensor.Tensor{}
	for _, in := range c.inputs {
		if in.kind != constInput {
			feeds[in.name] = in.t
		}
		if in.kind == wrtInput {
			wrtNames = append(wrtNames, in.name)
		}
	}
	g, err := New(p, c.of, wrtNames, Options{Registry: c.reg})
	if err != nil {
		t.Fatalf("%s: New: %v", c.name, err)
	}
	s := g.NewSession(engine.SessionOptions{Threads: max(c.threads, 1)})
	vals, err := s.Forward(feeds)
	if err != nil {
		t.Fatalf("%s: Forward: %v", c.name, err)
	}
	weights := map[string]*tensor.Tensor{}
	for _, name := range c.of {
		v := vals[name]
		w := tensor.New(tensor.Float32, v.Shape...)
		for i := range w.F32() {
			w.F32()[i] = float32(rng.NormFloat64())
		}
		weights[name] = w
	}
	grads, err := s.Backward(weights)
	if err != nil {
		t.Fatalf("%s: Backward: %v", c.name, err)
	}
	eng := p.NewSession(engine.SessionOptions{Threads: 1})
	loss := func() float64 {
		out, err := eng.Run(feeds, c.of...)
		if err != nil {
			t.Fatalf("%s: Run: %v", c.name, err)
		}
		var l float64
		for _, name := range c.of {
			for i, y := range out[name].F32() {
				l += float64(weights[name].F32()[i]) * float64(y)
			}
		}
		return l
	}
	eps := c.eps
	if eps == 0 {
		eps = fdEps
	}
	l0 := loss()
	compared := 0
	for _, name := range wrtNames {
		x := feeds[name].F32()
		got := grads[name]
		if !tensor.SameShape(got.Shape, feeds[name].Shape) {
			t.Fatalf("%s: gradient of %q has shape %v, want %v", c.name, name, got.Shape, feeds[name].Shape)
		}
		idx := rng.Perm(len(x))
		if c.maxElem > 0 && len(idx) > c.maxElem {
			idx = idx[:c.maxElem]
		}
		skipped, bad := 0, 0
		for _, i := range idx {
			orig := x[i]
			x[i] = orig + float32(eps)
			lp := loss()
			x[i] = orig - float32(eps)
			lm := loss()
			x[i] = orig
			// The perturbation actually applied, after float32 rounding.
			hp, hm := float64(orig+float32(eps))-float64(orig), float64(orig)-float64(orig-float32(eps))
			fd := (lp - lm) / (hp + hm)
			right, left := (lp-l0)/hp, (l0-lm)/hm
			if c.kink > 0 && math.Abs(right-left) > c.kink {
				skipped++
				continue
			}
			gi := float64(got.F32()[i])
			if d := math.Abs(fd - gi); d > fdAtol+fdRtol*math.Abs(fd) || math.IsNaN(gi) {
				bad++
				if bad <= 5 {
					t.Errorf("%s: d/d%s[%d]: backward %.6g, finite difference %.6g (diff %.3g, tolerance %.3g)", c.name, name, i, gi, fd, d, fdAtol+fdRtol*math.Abs(fd))
				}
			}
			compared++
		}
		if c.kink > 0 {
			t.Logf("%s: %q: %d elements compared, %d skipped as kinks", c.name, name, len(idx)-skipped, skipped)
		}
		if float64(skipped) > c.maxSkip*float64(len(idx)) {
			t.Errorf("%s: %d of %d elements of %q lie within eps of a kink (allowed: %.0f%%)", c.name, skipped, len(idx), name, 100*c.maxSkip)
		}
	}
	return compared
}

// Random tensors.

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(rng.NormFloat64())
	}
	return t
}

// randAway is randn with every element at least margin away from 0 (for kinks at 0).
func randAway(rng *rand.Rand, margin float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		v := rng.NormFloat64()
		for math.Abs(v) < margin {
			v = rng.NormFloat64()
		}
		t.F32()[i] = float32(v)
	}
	return t
}

// randUniform draws from [lo, hi).
func randUniform(rng *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return t
}

// randDistinct fills the tensor with a random permutation of evenly spaced values gap apart
// (centred on 0), so that no two elements are within gap of each other: MaxPool has no ties
// and no near-ties.
func randDistinct(rng *rand.Rand, gap float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	n := t.Len()
	for i, j := range rng.Perm(n) {
		t.F32()[i] = float32((float64(j) - float64(n)/2) * gap)
	}
	return t
}

func ints(v ...int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func i64(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }

func scalar32(v float32) *tensor.Tensor {
	return &tensor.Tensor{DType: tensor.Float32, Data: []float32{v}}
}

func caseName(format string, args ...any) string { return fmt.Sprintf(format, args...) }
