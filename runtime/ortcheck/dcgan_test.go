//go:build ort

package ortcheck

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gendl/gendl/models/classifier"
	gan "github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// imageModelTol is the bound on |gendl - ORT| for every output of the exported DCGAN
// generators and classifiers.
const imageModelTol = 1e-4

// randomize fills every tensor with N(0, scale²) values, scale sqrt(2/fan-in) for weights
// (He, so activations stay O(1) through the layers) and 0.1 for biases.
func randomize(ts []*tensor.Tensor, fanIn func(i int) int, rng *rand.Rand) {
	for i, t := range ts {
		scale := 0.1
		if f := fanIn(i); f > 0 {
			scale = math.Sqrt(2 / float64(f))
		}
		for j := range t.F32() {
			t.F32()[j] = float32(rng.NormFloat64() * scale)
		}
	}
}

// compareORT runs an exported file (written and read back) in gendl and ORT and checks every
// output within imageModelTol.
func compareORT(t *testing.T, name string, path string, feeds map[string]*tensor.Tensor) {
	t.Helper()
	m, err := onnx.DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadPair(m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Destroy()
	got, want, err := p.run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range p.plan.Outputs {
		if !tensor.SameShape(got[i].Shape, want[i].Shape) {
			t.Fatalf("%s: %s: gendl shape %v, ORT %v", name, o.Name, got[i].Shape, want[i].Shape)
		}
		var maxDiff float64
		for j, g := range got[i].F32() {
			maxDiff = max(maxDiff, math.Abs(float64(g-want[i].F32()[j])))
		}
		if maxDiff > imageModelTol || math.IsNaN(maxDiff) {
			t.Errorf("%s: %s: max |gendl - ORT| = %.3g, want <= %g", name, o.Name, maxDiff, imageModelTol)
		}
		t.Logf("%s: %s: max |gendl - ORT| = %.3g", name, o.Name, maxDiff)
	}
}

// TestDCGANExportVsORT runs exported DCGAN generators (the MNIST default, the 32x32 RGB variant and
// the Tiny test configuration) with random weights in gendl and ORT on random latent points;
// trainer/gan's TestExportMatchesGraph compares the same exports with the Gorgonia graph.
func TestDCGANExportVsORT(t *testing.T) {
	requireORT(t)
	for k, c := range []gan.Config{gan.DefaultConfig(), gan.RGB32Config(), gan.Tiny()} {
		rng := rand.New(rand.NewPCG(31, uint64(k)))
		p := gan.NewParams(c.GenShapes())
		shapes := c.GenShapes()
		randomize(p, func(i int) int {
			s := shapes[i]
			switch s.Kind {
			case gan.KindDense:
				return s.Shape[0]
			case gan.KindConvT: // [C, M, k, k]: each output sums C·k²/stride² inputs
				return s.Shape[0] * s.Shape[2] * s.Shape[3] / (gan.Stride * gan.Stride)
			case gan.KindConv:
				return s.Shape[1] * s.Shape[2] * s.Shape[3]
			}
			return 0
		}, rng)
		path := filepath.Join(t.TempDir(), "gan.onnx")
		if err := gan.ExportFile(path, c, p); err != nil {
			t.Fatal(err)
		}
		z := tensor.New(tensor.Float32, 7, c.LatentDim)
		for i := range z.F32() {
			z.F32()[i] = float32(rng.NormFloat64())
		}
		compareORT(t, "dcgan "+c.ImageShapeString(), path, map[string]*tensor.Tensor{gan.ZName: z})
	}
}

// TestClassifierExportVsORT does the same for exported classifiers (logits and features).
func TestClassifierExportVsORT(t *testing.T) {
	requireORT(t)
	for k, c := range []classifier.Config{classifier.DefaultConfig(), classifier.Tiny()} {
		rng := rand.New(rand.NewPCG(37, uint64(k)))
		p := classifier.NewParams(c)
		shapes := c.ParamShapes()
		randomize(p, func(i int) int {
			s := shapes[i]
			switch s.Kind {
			case classifier.KindDense:
				return s.Shape[0]
			case classifier.KindConv:
				return s.Shape[1] * s.Shape[2] * s.Shape[3]
			}
			return 0
		}, rng)
		path := filepath.Join(t.TempDir(), "clf.onnx")
		if err := classifier.ExportFile(path, c, p); err != nil {
			t.Fatal(err)
		}
		x := tensor.New(tensor.Float32, 5, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2])
		for i := range x.F32() {
			x.F32()[i] = float32(rng.Float64())
		}
		compareORT(t, "classifier "+c.Dataset, path, map[string]*tensor.Tensor{"image": x})
	}
}

// TestEmbeddedImageModelsVsORT runs the embedded default models as trained — the DCGAN
// generator (batch normalisation folded into its weights, when trained with it) and the VAE's
// encoder and decoder — in gendl and ORT on random inputs.
func TestEmbeddedImageModelsVsORT(t *testing.T) {
	requireORT(t)
	rng := rand.New(rand.NewPCG(31, 31))
	normal := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.F32() {
			x.F32()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	g, err := gan.LoadFile(filepath.Join("..", "..", "models", "dcgan", "default", "generator.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	compareORT(t, "default generator", filepath.Join("..", "..", "models", "dcgan", "default", "generator.onnx"),
		map[string]*tensor.Tensor{gan.ZName: normal(16, g.Config.LatentDim)})
	img := tensor.New(tensor.Float32, 8, 1, 28, 28)
	for i := range img.F32() {
		img.F32()[i] = float32(rng.Float64())
	}
	vaeDir := filepath.Join("..", "..", "models", "vae", "default")
	compareORT(t, "default VAE encoder", filepath.Join(vaeDir, "encoder.onnx"), map[string]*tensor.Tensor{imagegen.InputImage: img})
	compareORT(t, "default VAE decoder", filepath.Join(vaeDir, "decoder.onnx"), map[string]*tensor.Tensor{imagegen.InputZ: normal(8, 2)})
}
