package vae

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/internal/gradcheck"
)

// randomParams returns initialised parameters with every bias set to small random values, so
// that every term of the exported graphs counts.
func randomParams(t testing.TB, c vae.Config, seed uint64) *vae.Params {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	p, err := InitParams(c, rng)
	if err != nil {
		t.Fatal(err)
	}
	shapes := c.ParamShapes()
	for i, ts := range p.List() {
		if shapes[i].Kind == vae.KindBias {
			for j := range ts.F32() {
				ts.F32()[j] = float32(rng.NormFloat64() * 0.1)
			}
		}
	}
	return p
}

// randomImages returns n images of c's shape with values in [0, 1].
func randomImages(c vae.Config, n int, rng *rand.Rand) []float32 {
	x := make([]float32, n*c.ImageShape[0]*c.ImageShape[1]*c.ImageShape[2])
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	return x
}

// The whole VAE loss (encoder, reparameterisation, decoder, BCE + KL) differentiated by
// Gorgonia through the custom ops, against central differences in float64 on Tiny().
func TestVAEGradientsFiniteDifferences(t *testing.T) {
	c := vae.Tiny()
	p := randomParams(t, c, 1)
	params := gradcheck.Dense64(GraphShapes(c), p.List())
	const B = 3
	net, err := NewNet(c, params, Options{Batch: B, Gradients: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(4, 4))
	x := gradcheck.Float64(randomImages(c, B, rng))
	eps := make([]float64, B*c.LatentDim)
	for i := range eps {
		eps[i] = rng.NormFloat64()
	}
	if _, err := net.Run(x, eps); err != nil {
		t.Fatal(err)
	}
	grads, err := gradcheck.Grads(len(params), net.GradData)
	if err != nil {
		t.Fatal(err)
	}
	// ReLU kinks: a finite difference that straddles one is off; with step 1e-6 and O(0.1)
	// pre-activations that is rare, and such elements are reported, not hidden: the
	// tolerance is 1e-6 + 1e-5|fd| as in package layers.
	names := c.ParamShapes()
	check := gradcheck.Check{Step: 1e-6, Atol: 1e-6, Rtol: 1e-5, PerTensor: 12, Rng: rng,
		Name: func(k int) string { return names[k].Name }}
	check.Run(t, gradcheck.Data(params), grads, func() (float64, error) {
		r, err := net.Run(x, eps)
		return r.Loss, err
	})
}

// The loss is what its definition says: BCE of sigmoid(logits) against x summed, plus the KL
// term, per image, recomputed here in float64 from the graph's own z_mean, z_log_var and
// logits.
func TestVAELossDefinition(t *testing.T) {
	c := vae.Tiny()
	p := randomParams(t, c, 2)
	const B = 4
	net, err := NewNet(c, DenseParams(c, p), Options{Batch: B})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	x := randomImages(c, B, rng)
	eps := make([]float32, B*c.LatentDim)
	for i := range eps {
		eps[i] = float32(rng.NormFloat64())
	}
	r, err := net.Run(x, eps)
	if err != nil {
		t.Fatal(err)
	}
	zm, zl, lg, err := net.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	bce, kl := perImageLoss(c, x, zm.([]float32), zl.([]float32), lg.([]float32), B)
	var sb, sk float64
	for i := range B {
		sb += bce[i]
		sk += kl[i]
	}
	if math.Abs(sb-r.BCE) > 1e-5*sb || math.Abs(sk-r.KL) > 1e-4*(1+sk) {
		t.Errorf("graph BCE %g KL %g, recomputed %g %g", r.BCE, r.KL, sb, sk)
	}
	if math.Abs(r.Loss-(r.BCE+r.KL)/B) > 1e-5*r.Loss {
		t.Errorf("loss %g, want (BCE+KL)/B = %g", r.Loss, (r.BCE+r.KL)/B)
	}
}

// maxAbsDiff returns max |a-b|.
func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// exportTol is the bound on |Gorgonia - runtime| for every exported output.
const exportTol = 1e-4

// The exported encoder and decoder compute what the training graph computes: z_mean,
// z_log_var, and (with eps = 0, so z = z_mean) the logits and the image, in gendl's runtime.
func TestExportMatchesGraph(t *testing.T) {
	for _, c := range []vae.Config{vae.Tiny(), vae.DefaultConfig()} {
		t.Run(c.Dataset, func(t *testing.T) {
			p := randomParams(t, c, 3)
			const B = 5
			net, err := NewNet(c, DenseParams(c, p), Options{Batch: B})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			x := randomImages(c, B, rand.New(rand.NewPCG(6, 6)))
			if _, err := net.Run(x, make([]float32, B*c.LatentDim)); err != nil {
				t.Fatal(err)
			}
			zm, zl, lg, _ := net.Outputs()
			enc, dec, err := vae.Export(c, p)
			if err != nil {
				t.Fatal(err)
			}
			C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
			ep, err := engine.New(enc, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			eo, err := ep.NewSession(engine.SessionOptions{}).Run(map[string]*rt.Tensor{vae.ImageName: rt.FromFloat32(x, B, C, H, W)})
			if err != nil {
				t.Fatal(err)
			}
			dp, err := engine.New(dec, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			do, err := dp.NewSession(engine.SessionOptions{}).Run(map[string]*rt.Tensor{vae.ZName: eo[vae.ZMeanName]}, vae.ImageName, vae.LogitsName)
			if err != nil {
				t.Fatal(err)
			}
			sig := make([]float32, len(lg.([]float32)))
			for i, v := range lg.([]float32) {
				sig[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
			for _, cmp := range []struct {
				name      string
				got, want []float32
			}{
				{vae.ZMeanName, eo[vae.ZMeanName].F32(), zm.([]float32)},
				{vae.ZLogVarName, eo[vae.ZLogVarName].F32(), zl.([]float32)},
				{vae.LogitsName, do[vae.LogitsName].F32(), lg.([]float32)},
				{vae.ImageName, do[vae.ImageName].F32(), sig},
			} {
				if len(cmp.got) != len(cmp.want) {
					t.Fatalf("%s: runtime gives %d values, the graph %d", cmp.name, len(cmp.got), len(cmp.want))
				}
				if d := maxAbsDiff(cmp.got, cmp.want); d > exportTol {
					t.Errorf("%s: max |runtime - Gorgonia| = %g, want <= %g", cmp.name, d, exportTol)
				} else {
					t.Logf("%s: max |runtime - Gorgonia| = %.3g", cmp.name, d)
				}
			}
		})
	}
}
