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
	"github.com/gendl/gendl/trainer/internal/gradcheck"
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
	return gradcheck.Dense64(graphShapes(shapes), p)
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
	grads, err := gradcheck.Grads(len(params), net.GradData)
	if err != nil {
		t.Fatal(err)
	}
	check := gradcheck.Check{Step: 1e-6, Atol: 1e-6, Rtol: 1e-5, PerTensor: 10, Rng: rand.New(rand.NewPCG(9, 9)),
		Name: func(k int) string { return names[k].Name }}
	check.Run(t, gradcheck.Data(params), grads, func() (float64, error) { return net.Run(in, targets) })
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

		got := runExport(t, c, gen, z)
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

// runExport exports the generator c with params gen, plans it in gendl's runtime and returns
// its images for the latent points z (len(z)/LatentDim of them).
func runExport(t *testing.T, c dcgan.Config, gen dcgan.Params, z []float32) *rt.Tensor {
	t.Helper()
	m, err := dcgan.Export(c, gen)
	if err != nil {
		t.Fatal(err)
	}
	model, err := imagegen.FromProto(m, "exported", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.NewSession(1).Generate(rt.FromFloat32(z, len(z)/c.LatentDim, c.LatentDim))
	if err != nil {
		t.Fatal(err)
	}
	return got
}
