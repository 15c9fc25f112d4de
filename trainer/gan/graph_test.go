package gan

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
)

// randomParams returns initialised parameters with every bias set to small random values, so
// that every term of the graphs counts.
func randomParams(c dcgan.Config, seed uint64) (gen, disc dcgan.Params) {
	rng := rand.New(rand.NewPCG(seed, 2))
	gen, disc = InitParams(c, rng)
	for _, set := range []struct {
		p      dcgan.Params
		shapes []dcgan.ParamShape
	}{{gen, c.GenShapes()}, {disc, c.DiscShapes()}} {
		for i, s := range set.shapes {
			if s.Kind == dcgan.KindBias {
				for j := range set.p[i].F32() {
					set.p[i].F32()[j] = float32(rng.NormFloat64() * 0.1)
				}
			}
		}
	}
	return gen, disc
}

func to64(shapes []dcgan.ParamShape, p dcgan.Params) []*tensor.Dense {
	gs := graphShapes(shapes)
	out := make([]*tensor.Dense, len(p))
	for i, t := range p {
		d := make([]float64, t.Len())
		for j, v := range t.F32() {
			d[j] = float64(v)
		}
		out[i] = tensor.New(tensor.WithShape(gs[i]...), tensor.WithBacking(d))
	}
	return out
}

func normals64(n int, rng *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// fdCheck compares the gradients of net's loss with respect to params (the trained ones)
// with central differences, on up to 10 random elements per tensor. Tolerance: 1e-6 +
// 1e-5|fd| (float64, step 1e-6), as package layers' checks; LeakyReLU kinks straddled by
// a step would be off and are reported, not hidden.
func fdCheck(t *testing.T, net *Net, params []*tensor.Dense, names []dcgan.ParamShape, in, targets []float64) {
	t.Helper()
	if _, err := net.Run(in, targets); err != nil {
		t.Fatal(err)
	}
	var grads [][]float64
	for k := range params {
		g, err := net.GradData(k)
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float64(nil), g.([]float64)...))
	}
	const step = 1e-6
	rng := rand.New(rand.NewPCG(9, 9))
	checked := 0
	for k, pd := range params {
		data := pd.Data().([]float64)
		idx := rng.Perm(len(data))
		if len(idx) > 10 {
			idx = idx[:10]
		}
		for _, j := range idx {
			old := data[j]
			data[j] = old + step
			lp, err := net.Run(in, targets)
			if err != nil {
				t.Fatal(err)
			}
			data[j] = old - step
			lm, err := net.Run(in, targets)
			if err != nil {
				t.Fatal(err)
			}
			data[j] = old
			fd := (lp - lm) / (2 * step)
			checked++
			if math.Abs(grads[k][j]-fd) > 1e-6+1e-5*math.Abs(fd) {
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g", names[k].Name, j, grads[k][j], fd)
			}
		}
	}
	t.Logf("%d gradient elements checked", checked)
}

// The discriminator's loss (strided convolutions, LeakyReLU, dropout with a fixed mask, dense
// logit, BCE with noisy targets, mean over the batch) differentiated by Gorgonia, against
// central differences in float64 on Tiny().
func TestDiscriminatorGradients(t *testing.T) {
	c := dcgan.Tiny()
	_, disc := randomParams(c, 1)
	dp := to64(c.DiscShapes(), disc)
	const B = 4
	net, err := NewNet(c, DiscStep, B, nil, dp)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(3, 3))
	net.Dropout().Resample(rng) // a mask with zeros in it
	x := make([]float64, B*c.ImageShape[0]*c.ImageShape[1]*c.ImageShape[2])
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	targets := []float64{0.01, 0.04, 0.97, 1}
	fdCheck(t, net, dp, c.DiscShapes(), x, targets)
}

// The generator's loss through the discriminator (dense, LeakyReLU, reshape, transposed
// convolutions, output convolution, tanh, then D) with respect to G's parameters only.
func TestGeneratorGradients(t *testing.T) {
	c := dcgan.Tiny()
	gen, disc := randomParams(c, 2)
	gp, dp := to64(c.GenShapes(), gen), to64(c.DiscShapes(), disc)
	const B = 3
	net, err := NewNet(c, GANStep, B, gp, dp)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if len(net.Grads) != len(gp) {
		t.Fatalf("%d gradients, want one per generator parameter (%d)", len(net.Grads), len(gp))
	}
	rng := rand.New(rand.NewPCG(4, 4))
	net.Dropout().Resample(rng)
	fdCheck(t, net, gp, c.GenShapes(), normals64(B*c.LatentDim, rng), []float64{1, 1, 1})
}

// The Gorgonia generator (float32) and gendl's runtime on the exported file agree: the
// training graph is what gets exported. Tolerance 1e-5 absolute on tanh outputs (float32
// sums in different orders); runtime/ortcheck compares the same files with ONNX Runtime.
func TestExportMatchesGraph(t *testing.T) {
	rgb := dcgan.RGB32Config()
	for _, c := range []dcgan.Config{dcgan.Tiny(), dcgan.DefaultConfig(), rgb} {
		gen, _ := randomParams(c, 5)
		const B = 5
		net, err := NewNet(c, GenOnly, B, DenseParams(c.GenShapes(), gen), nil)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(6, 6))
		z := make([]float32, B*c.LatentDim)
		normals(z, rng)
		if _, err := net.Run(z, nil); err != nil {
			t.Fatal(err)
		}
		imgs, err := net.ImagesData()
		if err != nil {
			t.Fatal(err)
		}
		want := append([]float32(nil), imgs.([]float32)...)
		net.Close()

		m, err := dcgan.Export(c, gen)
		if err != nil {
			t.Fatal(err)
		}
		model, err := imagegen.FromProto(m, "exported", engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := model.NewSession(1).Generate(rt.FromFloat32(z, B, c.LatentDim))
		if err != nil {
			t.Fatal(err)
		}
		var maxDiff float64
		for i, v := range got.F32() {
			maxDiff = max(maxDiff, math.Abs(float64(v-want[i])))
		}
		if maxDiff > 1e-5 || math.IsNaN(maxDiff) {
			t.Errorf("%v: max |runtime - Gorgonia| = %.3g, want <= 1e-5", c.ImageShape, maxDiff)
		}
		t.Logf("%v latent %d: max |runtime - Gorgonia| = %.3g", c.ImageShape, c.LatentDim, maxDiff)
	}
}
