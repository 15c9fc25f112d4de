package classifier

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/classifier"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/internal/gradcheck"
)

func randomParams(c classifier.Config, seed uint64) classifier.Params {
	rng := rand.New(rand.NewPCG(seed, 2))
	p := InitParams(c, rng)
	for i, s := range c.ParamShapes() {
		if s.Kind == classifier.KindBias {
			for j := range p[i].F32() {
				p[i].F32()[j] = float32(rng.NormFloat64() * 0.1)
			}
		}
	}
	return p
}

func to64(c classifier.Config, p classifier.Params) []*tensor.Dense {
	return gradcheck.Dense64(graphShapes(c), p)
}

// The loss (convolutions, ReLU, dense, dropout with a fixed mask, dense, softmax
// cross-entropy) differentiated by Gorgonia through the custom ops, against central
// differences in float64 on Tiny(). Tolerance 1e-6 + 1e-5|fd| (step 1e-6), as package layers.
func TestGradientsFiniteDifferences(t *testing.T) {
	c := classifier.Tiny()
	params := to64(c, randomParams(c, 1))
	const B = 4
	net, err := NewNet(c, params, B, true)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(3, 3))
	net.Dropout().Resample(rng)
	K := len(c.Classes)
	x := make([]float64, B*64)
	for i := range x {
		x[i] = rng.Float64()
	}
	tg := make([]float64, B*K)
	for n := range B {
		tg[n*K+rng.IntN(K)] = 1
	}
	if _, err := net.Run(x, tg); err != nil {
		t.Fatal(err)
	}
	grads, err := gradcheck.Grads(len(params), net.GradData)
	if err != nil {
		t.Fatal(err)
	}
	names := c.ParamShapes()
	check := gradcheck.Check{Step: 1e-6, Atol: 1e-6, Rtol: 1e-5, PerTensor: 10, Rng: rng,
		Name: func(k int) string { return names[k].Name }}
	check.Run(t, gradcheck.Data(params), grads, func() (float64, error) { return net.Run(x, tg) })
}

// The loss is the definition: for one image with logits (1, 2, 3) and label 2, log(e + e² +
// e³) - 3 = 0.40760596 nats (hand computation); the gradient is softmax - onehot.
func TestXentDefinition(t *testing.T) {
	l := []float64{1, 2, 3, 0, 0, 0}
	tg := []float64{0, 0, 1, 1, 0, 0}
	want := (math.Log(math.E+math.Exp(2)+math.Exp(3)) - 3) + math.Log(3)
	if got := xentSum(l, tg, 2, 3); math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %v, want %v", got, want)
	}
	g := xentGrad(l, tg, 2, 3, 1)
	s := math.E + math.Exp(2) + math.Exp(3)
	wantG := []float64{math.E / s, math.Exp(2) / s, math.Exp(3)/s - 1, 1.0/3 - 1, 1.0 / 3, 1.0 / 3}
	for i := range g {
		if math.Abs(g[i]-wantG[i]) > 1e-12 {
			t.Errorf("gradient %d: %v, want %v", i, g[i], wantG[i])
		}
	}
	// huge logits stay finite
	if v := xentSum([]float32{1e30, -1e30}, []float32{0, 1}, 1, 2); math.IsNaN(v) || math.IsInf(v, 0) || v < 1e30 {
		t.Errorf("loss of logits ±1e30: %v, want 2e30", v)
	}
}

// Gorgonia's forward (float32) and gendl's runtime on the exported file agree on logits and
// features within 1e-4 (float32 sums in different orders).
func TestExportMatchesGraph(t *testing.T) {
	for _, c := range []classifier.Config{classifier.Tiny(), classifier.DefaultConfig()} {
		p := randomParams(c, 4)
		const B = 3
		net, err := NewNet(c, DenseParams(c, p), B, false)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 5))
		n := c.ImageShape[0] * c.ImageShape[1] * c.ImageShape[2]
		x := make([]float32, B*n)
		for i := range x {
			x[i] = float32(rng.Float64())
		}
		if _, err := net.Run(x, make([]float32, B*len(c.Classes))); err != nil {
			t.Fatal(err)
		}
		lg, ft, err := net.Outputs()
		if err != nil {
			t.Fatal(err)
		}
		wantL, wantF := append([]float32(nil), lg.([]float32)...), append([]float32(nil), ft.([]float32)...)
		net.Close()
		m, err := classifier.Export(c, p)
		if err != nil {
			t.Fatal(err)
		}
		model, err := imagegen.FromProto(m, "exported", engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		gotL, gotF, err := model.NewSession(1).Classify(rt.FromFloat32(x, B, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]))
		if err != nil {
			t.Fatal(err)
		}
		for _, cmp := range []struct {
			name      string
			got, want []float32
		}{{"logits", gotL.F32(), wantL}, {"features", gotF.F32(), wantF}} {
			var d float64
			for i, v := range cmp.got {
				d = max(d, math.Abs(float64(v-cmp.want[i])))
			}
			if d > 1e-4 || math.IsNaN(d) {
				t.Errorf("%v %s: max |runtime - Gorgonia| = %.3g, want <= 1e-4", c.ImageShape, cmp.name, d)
			}
			t.Logf("%v %s: max |runtime - Gorgonia| = %.3g", c.ImageShape, cmp.name, d)
		}
	}
}
