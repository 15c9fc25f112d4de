package vae

import (
	"fmt"
	"image"
	"math/rand/v2"
	"path/filepath"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// samplesStream is the PCG stream of the fixed noise of the sample pictures.
const samplesStream = 0x73616d706c65 // "sample"

// Sample picture layout: SampleCols columns; the first row holds test images, the second their
// reconstructions (decoded z_mean), the rest decoded points drawn from the prior N(0, I) with
// a fixed seed, the same every epoch, so the pictures show the model's progress.
const (
	SampleCols      = 10
	SamplePriorRows = 3
)

// SamplesName is the sample picture of an epoch.
func SamplesName(epoch int) string { return fmt.Sprintf("samples-epoch-%03d.png", epoch) }

// samples writes SamplesName(epoch) to the checkpoint directory. It runs the exported encoder
// and decoder in gendl's runtime, so every picture also exercises the export.
func (t *Trainer) samples(epoch int) error {
	img, err := t.SamplePicture()
	if err != nil {
		return err
	}
	png, err := imaging.EncodePNG(img)
	if err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	return writeFile(filepath.Join(t.dir, SamplesName(epoch)), png)
}

// SamplePicture draws the sample picture of the current parameters.
func (t *Trainer) SamplePicture() (image.Image, error) {
	model, err := t.exportConfig()
	if err != nil {
		return nil, err
	}
	enc, dec, err := vae.Export(model, t.params)
	if err != nil {
		return nil, err
	}
	ep, err := engine.New(enc, engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("vae: planning the exported encoder: %w", err)
	}
	dp, err := engine.New(dec, engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("vae: planning the exported decoder: %w", err)
	}
	C, H, W, L := t.model.ImageShape[0], t.model.ImageShape[1], t.model.ImageShape[2], t.model.LatentDim
	src := t.test
	if src == nil {
		src = t.train
	}
	n := min(SampleCols, src.N)
	x := tensor.FromFloat32(src.Images.F32()[:n*C*H*W], n, C, H, W)
	eo, err := ep.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{vae.ImageName: x})
	if err != nil {
		return nil, fmt.Errorf("vae: exported encoder: %w", err)
	}
	prior := tensor.New(tensor.Float32, SamplePriorRows*SampleCols, L)
	normals(prior.F32(), rand.New(rand.NewPCG(t.cfg.Seed, samplesStream)))
	z := tensor.New(tensor.Float32, n+prior.Shape[0], L)
	copy(z.F32(), eo[vae.ZMeanName].F32())
	copy(z.F32()[n*L:], prior.F32())
	do, err := dp.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{vae.ZName: z})
	if err != nil {
		return nil, fmt.Errorf("vae: exported decoder: %w", err)
	}
	orig, err := imaging.FromTensor(x, imaging.Unit())
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	gen, err := imaging.FromTensor(do[vae.ImageName], imaging.Unit())
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	tiles := make([]image.Image, 0, 2*SampleCols+len(gen)-n)
	blank := image.NewGray(image.Rect(0, 0, W, H))
	for _, imgs := range [][]image.Image{orig, gen[:n]} {
		for i := range SampleCols {
			if i < len(imgs) {
				tiles = append(tiles, imgs[i])
			} else {
				tiles = append(tiles, blank)
			}
		}
	}
	tiles = append(tiles, gen[n:]...)
	grid, err := imaging.Grid(tiles, imaging.GridOptions{Cols: SampleCols, Pad: 2})
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	return grid, nil
}
