//go:build ort

package ortcheck

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// vaeTol is the bound on |gendl - ORT| for every output of the exported VAE files.
const vaeTol = 1e-4

// vaeFiles exports a VAE of config c with random parameters (Glorot-like weights and
// random biases, so every term counts) through vae.ExportFiles and reads the files back:
// both executors get the bytes gendl-train writes.
func vaeFiles(tb testing.TB, c vae.Config, seed uint64) (enc, dec *onnx.ModelProto) {
	tb.Helper()
	p, err := vae.NewParams(c)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	shapes := c.ParamShapes()
	for i, t := range p.List() {
		scale := 0.1
		if shapes[i].Kind != vae.KindBias {
			fanIn := tensor.Numel(shapes[i].Shape) / shapes[i].Shape[0]
			if shapes[i].Kind == vae.KindDense {
				fanIn = shapes[i].Shape[0]
			}
			scale = math.Sqrt(2 / float64(fanIn))
		}
		for j := range t.F32() {
			t.F32()[j] = float32(rng.NormFloat64() * scale)
		}
	}
	dir := tb.TempDir()
	ep, dp := filepath.Join(dir, vae.EncoderFile), filepath.Join(dir, vae.DecoderFile)
	if err := vae.ExportFiles(ep, dp, c, p); err != nil {
		tb.Fatal(err)
	}
	if enc, err = onnx.DecodeFile(ep); err != nil {
		tb.Fatal(err)
	}
	if dec, err = onnx.DecodeFile(dp); err != nil {
		tb.Fatal(err)
	}
	return enc, dec
}

// TestVAEVsORT runs exported VAE encoders and decoders (the book's MNIST architecture with
// latent 2 and 20, and the Tiny test configuration) in gendl and ORT on random images in
// [0, 1] and random latent points, and compares every output within vaeTol. trainer/vae's
// TestExportMatchesGraph compares the same exports with the Gorgonia training graph.
func TestVAEVsORT(t *testing.T) {
	requireORT(t)
	latent20 := vae.DefaultConfig()
	latent20.LatentDim = 20
	for k, c := range []vae.Config{vae.DefaultConfig(), latent20, vae.Tiny()} {
		enc, dec := vaeFiles(t, c, uint64(k))
		rng := rand.New(rand.NewPCG(21, uint64(k)))
		const N = 7
		img := tensor.New(tensor.Float32, N, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2])
		for i := range img.F32() {
			img.F32()[i] = float32(rng.Float64())
		}
		z := randTensor(rng, []int{N, c.LatentDim}, 1.5)
		for _, run := range []struct {
			name  string
			m     *onnx.ModelProto
			feeds map[string]*tensor.Tensor
		}{
			{"encoder", enc, map[string]*tensor.Tensor{vae.ImageName: img}},
			{"decoder", dec, map[string]*tensor.Tensor{vae.ZName: z}},
		} {
			p, err := loadPair(run.m)
			if err != nil {
				t.Fatal(err)
			}
			got, want, err := p.run(run.feeds)
			p.Destroy()
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range p.plan.Outputs {
				if !tensor.SameShape(got[i].Shape, want[i].Shape) {
					t.Fatalf("latent %d %s: %s: gendl shape %v, ORT %v", c.LatentDim, run.name, o.Name, got[i].Shape, want[i].Shape)
				}
				var maxDiff float64
				for j, g := range got[i].F32() {
					maxDiff = max(maxDiff, math.Abs(float64(g-want[i].F32()[j])))
				}
				if maxDiff > vaeTol || math.IsNaN(maxDiff) {
					t.Errorf("%s latent %d %s: %s: max |gendl - ORT| = %.3g, want <= %g", c.Dataset, c.LatentDim, run.name, o.Name, maxDiff, vaeTol)
				}
				t.Logf("%s latent %d %s: %s: max |gendl - ORT| = %.3g", c.Dataset, c.LatentDim, run.name, o.Name, maxDiff)
			}
		}
	}
}
