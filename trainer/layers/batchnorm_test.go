package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/internal/gradcheck"
)

// bnShapes are the test inputs: odd sizes, a single sample, B = 2 with a 1x1 map (two
// elements per channel: x̂ = ±1 up to eps, where the backward's terms nearly cancel), one
// channel, and 2-D inputs (a BatchNorm after a dense layer). The last three span several
// blocks of channels (bnBlockElems = 8192 elements): 2-D rows in two blocks of 2730 and 2270
// channels, planes in blocks of 256 channels and a partial one, and one channel per block.
var bnShapes = [][]int{{3, 5, 4, 7}, {2, 3, 1, 1}, {1, 4, 3, 3}, {2, 1, 3, 2}, {6, 9}, {2, 5}, {7, 1},
	{3, 5000}, {2, 300, 4, 4}, {2, 3, 64, 64}}

func bnName(shape []int) string {
	return strings.Trim(strings.ReplaceAll(fmt.Sprint(shape), " ", "x"), "[]")
}

// bnValues returns x [shape] (normal, with a random offset and scale per channel, so the
// statistics are not those of a standard normal), gamma [C] (normal: some negative) and
// beta [C], drawn in float64 and rounded to dt.
func bnValues(dt tensor.Dtype, shape []int, seed uint64) []*tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := randomDense(tensor.Float64, shape, rng, 1)
	g := newBNGeom(shape)
	off, scale := make([]float64, g.C), make([]float64, g.C)
	for c := range g.C {
		off[c], scale[c] = 2*rng.NormFloat64(), 0.5+rng.Float64()
	}
	xd := x.Data().([]float64)
	for i := range xd {
		c := i / g.S % g.C
		xd[i] = xd[i]*scale[c] + off[c]
	}
	vals := []*tensor.Dense{x, randomDense(tensor.Float64, []int{g.C}, rng, 1), randomDense(tensor.Float64, []int{g.C}, rng, 1)}
	for i, v := range vals {
		vals[i] = convert(v, dt)
	}
	return vals
}

// bnReference is BatchNorm by its definition, element by element in float64 with explicit
// [b, c, s] indices: mean = Σx/n, var = Σ(x - mean)²/n over the n = B·S elements of a
// channel, y = gamma·(x - mean)/sqrt(var + eps) + beta. mag[i] is |gamma·x̂| + |beta|, the
// size of the terms that y sums (y itself may be small by cancellation).
func bnReference(x []float64, shape []int, gamma, beta []float64, eps float64) (y, mean, variance, mag []float64) {
	B, C := shape[0], shape[1]
	S := len(x) / (B * C)
	at := func(b, c, s int) int { return (b*C+c)*S + s }
	y, mag = make([]float64, len(x)), make([]float64, len(x))
	mean, variance = make([]float64, C), make([]float64, C)
	n := float64(B * S)
	for c := range C {
		for b := range B {
			for s := range S {
				mean[c] += x[at(b, c, s)]
			}
		}
		mean[c] /= n
		for b := range B {
			for s := range S {
				d := x[at(b, c, s)] - mean[c]
				variance[c] += d * d
			}
		}
		variance[c] /= n
		for b := range B {
			for s := range S {
				i := at(b, c, s)
				t := gamma[c] * (x[i] - mean[c]) / math.Sqrt(variance[c]+eps)
				y[i], mag[i] = t+beta[c], math.Abs(t)+math.Abs(beta[c])
			}
		}
	}
	return y, mean, variance, mag
}

func bnBuild(eps float64, stats *BNStats) buildFn {
	return func(in []*G.Node) (*G.Node, error) { return BatchNorm(in[0], in[1], in[2], eps, stats) }
}

// Tolerances of the forward checks, |got - want| <= atol + rtol·|want|:
//   - statistics (float64 sums of n <= 8192 terms in another order than the reference's,
//     which differ by about n·2^-53 <= 1e-12 relative): bnStatTol·(1 + |want|);
//   - y in float64: bnStatTol·(1 + mag) (mag: the terms y sums; see bnReference);
//   - y in float32: y is a float64 result rounded once, so within one float32 ulp of the
//     reference (2^-23·|want|: half an ulp of rounding, and half for a float64 difference
//     that tips the rounding the other way), plus the float64 term.
const bnStatTol = 1e-12

func bnYTol(dt tensor.Dtype, want, mag float64) float64 {
	tol := bnStatTol * (1 + mag)
	if dt == tensor.Float32 {
		tol += math.Ldexp(math.Abs(want), -23)
	}
	return tol
}

// checkBNForward runs BatchNorm on vals and compares y and the statistics with bnReference.
func checkBNForward(t *testing.T, vals []*tensor.Dense, eps float64) {
	t.Helper()
	dt := vals[0].Dtype()
	var stats BNStats
	n := newNet(t, vals, []bool{false, false, false}, bnBuild(eps, &stats), 1)
	n.run(t)
	shape := []int(vals[0].Shape())
	want, mean, variance, mag := bnReference(toF64(vals[0]), shape, toF64(vals[1]), toF64(vals[2]), eps)
	if !slices.Equal([]int(n.out.Shape()), shape) || n.out.Dtype() != dt {
		t.Fatalf("output %v %v, want %v %v", n.out.Shape(), n.out.Dtype(), shape, dt)
	}
	got := toF64(n.out.Value())
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= bnYTol(dt, want[i], mag[i])) {
			t.Fatalf("y[%d] = %.10g, reference %.10g (off by %.3g)", i, got[i], want[i], d)
		}
	}
	if len(stats.Mean) != shape[1] || len(stats.Var) != shape[1] {
		t.Fatalf("stats have %d means and %d variances, want %d", len(stats.Mean), len(stats.Var), shape[1])
	}
	for c := range shape[1] {
		if d := math.Abs(stats.Mean[c] - mean[c]); !(d <= bnStatTol*(1+math.Abs(mean[c]))) {
			t.Errorf("channel %d: mean %.17g, reference %.17g", c, stats.Mean[c], mean[c])
		}
		if d := math.Abs(stats.Var[c] - variance[c]); !(d <= bnStatTol*(1+variance[c])) {
			t.Errorf("channel %d: variance %.17g, reference %.17g", c, stats.Var[c], variance[c])
		}
	}
}

// BatchNorm against the naive float64 reference, in both dtypes.
func TestBatchNormForward(t *testing.T) {
	for i, shape := range bnShapes {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s_%v", bnName(shape), dt), func(t *testing.T) {
				checkBNForward(t, bnValues(dt, shape, uint64(i)), 1e-5)
			})
		}
	}
}

// Regression case for the statistics: a float32 channel at 1e6 with unit spread. The mean
// first and then the squared deviations (bnMoments) keeps the variance to float64 rounding;
// E[x²] - E[x]² would lose about 1e12·2^-53 ≈ 1e-4 of it to cancellation, far outside
// bnStatTol.
func TestBatchNormLargeOffset(t *testing.T) {
	vals := bnValues(tensor.Float64, []int{4, 3, 5, 5}, 21)
	x := vals[0].Data().([]float64)
	for i := range x {
		x[i] += 1e6
	}
	for i := range vals {
		vals[i] = convert(vals[i], tensor.Float32)
	}
	checkBNForward(t, vals, 1e-5)
}

// With a small eps each channel of y has mean beta and standard deviation |gamma|: with
// eps = 1e-15 and a channel variance of at least 1e-6 (checked; two-element channels can be
// close), sqrt(var/(var+eps)) differs from 1 by under eps/(2·var) = 5e-10. Tolerance
// relative to 1 + |gamma| + |beta|: 1e-9 in float64 (sums of up to 8192 terms), 1e-5 in
// float32 (each y rounded to 2^-24 relative).
func TestBatchNormNormalises(t *testing.T) {
	const eps = 1e-15
	for i, shape := range bnShapes {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s_%v", bnName(shape), dt), func(t *testing.T) {
				vals := bnValues(dt, shape, uint64(i))
				var stats BNStats
				n := newNet(t, vals, []bool{false, false, false}, bnBuild(eps, &stats), 1)
				n.run(t)
				y, gamma, beta := toF64(n.out.Value()), toF64(vals[1]), toF64(vals[2])
				g := newBNGeom(shape)
				tol := 1e-9
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for c := range g.C {
					if g.n() > 1 && stats.Var[c] < 1e-6 {
						t.Fatalf("channel %d: variance %g: pick another seed (the test assumes >= 1e-6)", c, stats.Var[c])
					}
					var s, ss float64
					for b := range g.B {
						for _, v := range bnPlane(g, y, b, c) {
							s += v
						}
					}
					m := s / g.n()
					for b := range g.B {
						for _, v := range bnPlane(g, y, b, c) {
							ss += (v - m) * (v - m)
						}
					}
					sd := math.Sqrt(ss / g.n())
					wantSD := math.Abs(gamma[c])
					if g.n() == 1 {
						wantSD = 0 // one element per channel: x̂ = 0, y = beta
					}
					scale := 1 + math.Abs(gamma[c]) + math.Abs(beta[c])
					if math.Abs(m-beta[c]) > tol*scale || math.Abs(sd-wantSD) > tol*scale {
						t.Errorf("channel %d: mean %.10g, std %.10g, want beta %.10g and |gamma| %.10g", c, m, sd, beta[c], wantSD)
					}
				}
			})
		}
	}
}

// Finite differences (gradcheck: central, step fdStep, |g - fd| <= fdAtol + fdRtol·|fd|, the
// package's float64 tolerances) on every element of x, gamma and beta (at most 500 chosen at
// random per tensor for the large shapes). The loss Σ R⊙y (newNet)
// weighs each output differently. eps = 1e-3 (Keras' default) keeps the curvature of x̂ in
// x bounded where a channel has two close elements, so Step² times the third derivative
// stays far below fdAtol.
func TestBatchNormGradients(t *testing.T) {
	for i, shape := range bnShapes {
		t.Run(bnName(shape), func(t *testing.T) {
			vals := bnValues(tensor.Float64, shape, uint64(i))
			n := newNet(t, vals, []bool{true, true, true}, bnBuild(1e-3, nil), uint64(i))
			checkGraphGradients(t, n, vals, []string{"x", "gamma", "beta"}, 500)
		})
	}
}

// checkGraphGradients runs gradcheck on the inputs of n whose gradients n takes (all of
// vals, in order, named names), up to perTensor elements each.
func checkGraphGradients(t *testing.T, n *net, vals []*tensor.Dense, names []string, perTensor int) {
	t.Helper()
	n.run(t)
	grads, err := gradcheck.Grads(len(n.grads), func(k int) (any, error) { return n.grads[k].Value().Data(), nil })
	if err != nil {
		t.Fatal(err)
	}
	check := gradcheck.Check{Step: fdStep, Atol: fdAtol, Rtol: fdRtol, PerTensor: perTensor, Rng: rand.New(rand.NewPCG(7, 7)),
		Name: func(k int) string { return names[k] }}
	checked, _ := check.Run(t, gradcheck.Data(vals), grads, func() (float64, error) { return n.run(t), nil })
	if checked == 0 {
		t.Fatal("no gradient element checked")
	}
}

// The real use: a convolution (or a dense layer) -> BatchNorm -> LeakyReLU(0.2), gradients
// with respect to every input by finite differences. The layer bias before a BatchNorm has
// a zero gradient (the normalisation removes any per-channel constant), which the check
// confirms within fdAtol. A step of fdStep moves a BatchNorm output by about
// fdStep·|gamma|/std ≪ 1e-3, so outputs at least 1e-3 from LeakyReLU's kink (checked) are
// never straddled.
func TestBatchNormLeakyReLUGradients(t *testing.T) {
	type chain struct {
		name   string
		shapes [][]int // x, w, b, gamma, beta
		layer  func(x, w, b *G.Node) (*G.Node, error)
	}
	conv := func(x, w, b *G.Node) (*G.Node, error) {
		return Conv2d(x, w, b, ConvSpec{Stride: [2]int{2, 2}, Pads: SamePads([2]int{6, 5}, [2]int{3, 3}, [2]int{2, 2})})
	}
	for i, c := range []chain{
		{"conv", [][]int{{2, 3, 6, 5}, {4, 3, 3, 3}, {4}, {4}, {4}}, conv},
		{"dense", [][]int{{5, 6}, {6, 3}, BiasRow(3), {3}, {3}}, Dense},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 5))
			var vals []*tensor.Dense
			for _, s := range c.shapes {
				vals = append(vals, randomDense(tensor.Float64, s, rng, 1))
			}
			var bn *G.Node
			build := func(in []*G.Node) (*G.Node, error) {
				h, err := c.layer(in[0], in[1], in[2])
				if err != nil {
					return nil, err
				}
				if bn, err = BatchNorm(h, in[3], in[4], 1e-3, nil); err != nil {
					return nil, err
				}
				return LeakyReLU(bn, 0.2)
			}
			n := newNet(t, vals, []bool{true, true, true, true, true}, build, uint64(i))
			n.run(t)
			for j, v := range toF64(bn.Value()) {
				if math.Abs(v) < 1e-3 {
					t.Fatalf("BatchNorm output %d = %g is within 1e-3 of the kink: pick another seed", j, v)
				}
			}
			checkGraphGradients(t, n, vals, []string{"x", "w", "b", "gamma", "beta"}, 200)
		})
	}
}

// The float32 path (the same generic kernels) agrees with float64 on outputs and gradients
// to 1e-5 relative to 1 + |value|: the arithmetic is float64 in both, so only the rounding
// to float32 (2^-24 relative) of the inputs, the outputs and the dgamma and dbeta that dx
// reads differs, amplified at most by 1/sqrt(var + eps) <= 1/sqrt(1e-3) ≈ 32.
func TestBatchNormFloat32MatchesFloat64(t *testing.T) {
	const tol = 1e-5
	for i, shape := range bnShapes {
		t.Run(bnName(shape), func(t *testing.T) {
			v64 := bnValues(tensor.Float64, shape, uint64(i))
			var v32 []*tensor.Dense
			for _, v := range v64 {
				v32 = append(v32, convert(v, tensor.Float32))
			}
			grad := []bool{true, true, true}
			n64 := newNet(t, v32to64(v32), grad, bnBuild(1e-3, nil), uint64(i))
			n32 := newNet(t, v32, grad, bnBuild(1e-3, nil), uint64(i))
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

// v32to64 converts float32 tensors to float64 ones holding the same values.
func v32to64(vs []*tensor.Dense) []*tensor.Dense {
	out := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		out[i] = convert(v, tensor.Float64)
	}
	return out
}

// onnxBatchNorm runs ONNX BatchNormalization (opset 15) as a one-node model in gendl's
// runtime, an implementation written independently of this package: in training mode
// (momentum 0, so running_mean and running_var are the batch's statistics) when mean and
// variance are nil, else in inference mode with them as input_mean and input_var.
func onnxBatchNorm(t *testing.T, vals []*tensor.Dense, eps float32, mean, variance []float64) (y []float32, runMean, runVar []float64) {
	t.Helper()
	shape := []int(vals[0].Shape())
	C := shape[1]
	training := mean == nil
	if training {
		mean, variance = make([]float64, C), make([]float64, C)
	}
	b := onnx.NewBuilder("bn", 15)
	b.Input("x", rt.Float32, int64s(shape)...)
	b.Initializer("scale", rt.FromFloat32(vals[1].Data().([]float32), C))
	b.Initializer("B", rt.FromFloat32(vals[2].Data().([]float32), C))
	for _, p := range []struct {
		name string
		v    []float64
	}{{"mean", mean}, {"var", variance}} {
		tt := rt.New(rt.Float64, C)
		copy(tt.F64(), p.v)
		b.Initializer(p.name, tt)
	}
	attrs := []*onnx.AttributeProto{onnx.AttrFloat("epsilon", eps)}
	outs := []string{"y"}
	if training {
		attrs = append(attrs, onnx.AttrInt("training_mode", 1), onnx.AttrFloat("momentum", 0))
		outs = append(outs, "running_mean", "running_var")
	}
	b.Node("BatchNormalization", []string{"x", "scale", "B", "mean", "var"}, outs, attrs...)
	b.OutputAnyShape("y", rt.Float32)
	if training {
		b.OutputAnyShape("running_mean", rt.Float64)
		b.OutputAnyShape("running_var", rt.Float64)
	}
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.NewSession(engine.SessionOptions{Threads: 1}).Run(map[string]*rt.Tensor{"x": rt.FromFloat32(vals[0].Data().([]float32), shape...)})
	if err != nil {
		t.Fatal(err)
	}
	y = out["y"].F32()
	if training {
		runMean, runVar = out["running_mean"].F64(), out["running_var"].F64()
	}
	return y, runMean, runVar
}

// BatchNorm is ONNX BatchNormalization in training mode, and its statistics make the
// inference form (what an exporter writes, with the statistics as input_mean and input_var)
// give the same output. Both compute in float64 and round once, in a different order: y
// within bnYTol (one float32 ulp, plus float64 rounding of the terms), statistics within
// bnStatTol. eps = 2^-10, exact in ONNX's float32 attribute.
func TestBatchNormMatchesONNX(t *testing.T) {
	const eps = 1.0 / 1024
	for i, shape := range bnShapes {
		t.Run(bnName(shape), func(t *testing.T) {
			vals := bnValues(tensor.Float32, shape, uint64(i))
			var stats BNStats
			n := newNet(t, vals, []bool{false, false, false}, bnBuild(eps, &stats), 1)
			n.run(t)
			got := n.out.Value().Data().([]float32)
			_, _, _, mag := bnReference(toF64(vals[0]), shape, toF64(vals[1]), toF64(vals[2]), eps)
			train, runMean, runVar := onnxBatchNorm(t, vals, eps, nil, nil)
			infer, _, _ := onnxBatchNorm(t, vals, eps, stats.Mean, stats.Var)
			for _, c := range []struct {
				name string
				y    []float32
			}{{"training mode", train}, {"inference mode with BatchNorm's statistics", infer}} {
				if len(c.y) != len(got) {
					t.Fatalf("ONNX %s: %d values, want %d", c.name, len(c.y), len(got))
				}
				for j := range got {
					want := float64(c.y[j])
					if d := math.Abs(float64(got[j]) - want); !(d <= bnYTol(tensor.Float32, want, mag[j])) {
						t.Fatalf("ONNX %s: y[%d] = %.9g, BatchNorm %.9g", c.name, j, want, got[j])
					}
				}
			}
			for c := range shape[1] {
				if math.Abs(runMean[c]-stats.Mean[c]) > bnStatTol*(1+math.Abs(runMean[c])) || math.Abs(runVar[c]-stats.Var[c]) > bnStatTol*(1+runVar[c]) {
					t.Errorf("channel %d: ONNX mean, var %.17g, %.17g; BatchNorm %.17g, %.17g", c, runMean[c], runVar[c], stats.Mean[c], stats.Var[c])
				}
			}
		})
	}
}

// Two BatchNorms of the same nodes that report to different BNStats stay two nodes (Gorgonia
// merges nodes of equal op hash and children), and each run stores fresh slices, leaving
// those of the previous run as they were.
func TestBatchNormStats(t *testing.T) {
	vals := bnValues(tensor.Float32, []int{3, 2, 2, 2}, 3)
	var s1, s2 BNStats
	var y1, y2, y3 *G.Node
	build := func(in []*G.Node) (*G.Node, error) {
		var err error
		if y1, err = BatchNorm(in[0], in[1], in[2], 1e-5, &s1); err != nil {
			return nil, err
		}
		if y2, err = BatchNorm(in[0], in[1], in[2], 1e-5, &s2); err != nil {
			return nil, err
		}
		if y3, err = BatchNorm(in[0], in[1], in[2], 1e-5, nil); err != nil {
			return nil, err
		}
		s, err := G.Add(y1, y2)
		if err != nil {
			return nil, err
		}
		return G.Add(s, y3)
	}
	n := newNet(t, vals, []bool{true, true, true}, build, 1)
	if y1 == y2 || y1 == y3 {
		t.Fatal("BatchNorms with different stats were merged into one node")
	}
	n.run(t)
	if len(s1.Mean) != 2 || !slices.Equal(s1.Mean, s2.Mean) || !slices.Equal(s1.Var, s2.Var) {
		t.Fatalf("stats %+v and %+v, want two equal sets of 2 channels", s1, s2)
	}
	old, oldCopy := s1.Mean, slices.Clone(s1.Mean)
	x := vals[0].Data().([]float32)
	for i := range x {
		x[i] += 1
	}
	n.run(t)
	if !slices.Equal(old, oldCopy) {
		t.Error("a run wrote into the previous run's Mean slice")
	}
	for c := range 2 {
		if d := s1.Mean[c] - oldCopy[c]; math.Abs(d-1) > 1e-6 {
			t.Errorf("channel %d: adding 1 to x moved the mean by %g", c, d)
		}
	}
}

func TestBatchNormBadInputs(t *testing.T) {
	g := G.NewGraph()
	x4 := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 4), G.WithName("x4"))
	x3 := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 3, 4), G.WithName("x3"))
	x1 := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("x1"))
	gamma := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("gamma"))
	beta := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("beta"))
	g4 := G.NewVector(g, tensor.Float32, G.WithShape(4), G.WithName("g4"))
	gRow := G.NewMatrix(g, tensor.Float32, G.WithShape(1, 3), G.WithName("gRow"))
	g64 := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("g64"))
	for _, c := range []struct {
		name           string
		x, gamma, beta *G.Node
		eps            float64
		want           string
	}{
		{"3-D x", x3, gamma, beta, 1e-5, "want [B, C] or [B, C, H, W]"},
		{"1-D x", x1, gamma, beta, 1e-5, "want [B, C] or [B, C, H, W]"},
		{"gamma of 4 for 3 channels", x4, g4, beta, 1e-5, "gamma shape [4], want [3]"},
		{"beta of 4 for 3 channels", x4, gamma, g4, 1e-5, "beta shape [4], want [3]"},
		{"gamma [1, 3]", x4, gRow, beta, 1e-5, "gamma shape [1 3], want [3]"},
		{"float64 gamma", x4, g64, beta, 1e-5, "dtypes float32, float64, float32 differ"},
		{"nil beta", x4, gamma, nil, 1e-5, "nil input node"},
		{"eps 0", x4, gamma, beta, 0, "eps = 0"},
		{"eps < 0", x4, gamma, beta, -1e-5, "eps = -1e-05"},
		{"eps NaN", x4, gamma, beta, math.NaN(), "eps = NaN"},
		{"eps +Inf", x4, gamma, beta, math.Inf(1), "eps = +Inf"},
	} {
		_, err := BatchNorm(c.x, c.gamma, c.beta, c.eps, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "layers: BatchNorm: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one prefixed \"layers: BatchNorm: \" containing %q", c.name, err, c.want)
		}
	}
}

// Forward and backward of one BatchNorm (float32) through a TapeMachine, on the DCGAN
// generator's feature-map sizes and a 2-D input, with the loss Σ R⊙y (a dot product, whose
// gradient R·1 Gorgonia computes as one more pass over y).
// Fixed seed; setup before ResetTimer.
func BenchmarkBatchNorm(b *testing.B) {
	for _, shape := range [][]int{{32, 64, 14, 14}, {32, 64, 7, 7}, {32, 32, 28, 28}, {32, 1024}} {
		b.Run(bnName(shape), func(b *testing.B) {
			vals := bnValues(tensor.Float32, shape, 1)
			g := G.NewGraph()
			var in []*G.Node
			for i, v := range vals {
				in = append(in, G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape().Clone()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(v)))
			}
			y, err := BatchNorm(in[0], in[1], in[2], 1e-3, nil)
			if err != nil {
				b.Fatal(err)
			}
			size := y.Shape().TotalSize()
			r := randomDense(tensor.Float32, []int{size}, rand.New(rand.NewPCG(2, 2)), 1)
			rn := G.NewVector(g, tensor.Float32, G.WithShape(size), G.WithName("R"), G.WithValue(r))
			flat, err := G.Reshape(y, tensor.Shape{size})
			if err != nil {
				b.Fatal(err)
			}
			loss, err := G.Mul(flat, rn)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := G.Grad(loss, in...); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				vm.Reset()
			}
		})
	}
}
