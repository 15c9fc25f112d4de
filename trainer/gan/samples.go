package gan

import (
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// exported returns the generator (GeneratorParams(averaged)) exported to ONNX and planned in
// gendl's runtime, so that every sample grid and score also exercises the export.
func (t *Trainer) exported(averaged bool) (*imagegen.Model, error) {
	gen, err := t.GeneratorParams(averaged)
	if err != nil {
		return nil, err
	}
	model, err := t.exportConfig()
	if err != nil {
		return nil, err
	}
	m, err := dcgan.Export(model, gen)
	if err != nil {
		return nil, err
	}
	return imagegen.FromProto(m, fmt.Sprintf("generator at step %d", t.st.Step), engine.Options{})
}

// SamplePicture draws the grid of SampleCount images from the run's fixed noise (the same
// latent points at every call, so successive grids show the training's progress).
func (t *Trainer) SamplePicture() (image.Image, error) {
	g, err := t.exported(true)
	if err != nil {
		return nil, err
	}
	n, L := t.cfg.SampleCount, t.model.LatentDim
	z := tensor.New(tensor.Float32, n, L)
	normals(z.F32(), rand.New(rand.NewPCG(t.cfg.Seed, samplesStream)))
	imgs, err := g.NewSession(runtime.GOMAXPROCS(0)).Images(z)
	if err != nil {
		return nil, err
	}
	grid, err := imaging.Grid(imgs, imaging.GridOptions{Pad: 2})
	if err != nil {
		return nil, fmt.Errorf("gan: %w", err)
	}
	return grid, nil
}

func (t *Trainer) samples() error {
	img, err := t.SamplePicture()
	if err != nil {
		return err
	}
	png, err := imaging.EncodePNG(img)
	if err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	return writeFile(filepath.Join(t.dir, SamplesName(t.st.Step)), png)
}

// maxGIFFrames bounds the frames of progress.gif (sample grids are subsampled evenly).
const maxGIFFrames = 60

// progressGIF animates the sample grids of the checkpoint directory, in step order, into
// progress.gif.
func (t *Trainer) progressGIF() error {
	ents, err := os.ReadDir(t.dir)
	if err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "samples-step-") && strings.HasSuffix(n, ".png") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if len(names) < 2 {
		return nil
	}
	if len(names) > maxGIFFrames {
		picked := make([]string, maxGIFFrames)
		for i := range picked {
			picked[i] = names[i*(len(names)-1)/(maxGIFFrames-1)]
		}
		names = picked
	}
	var frames []image.Image
	for _, n := range names {
		img, err := imaging.DecodeFile(filepath.Join(t.dir, n))
		if err != nil {
			return fmt.Errorf("gan: %w", err)
		}
		if len(frames) > 0 && img.Bounds() != frames[0].Bounds() {
			continue // a grid of another size (SampleCount changed on resume)
		}
		frames = append(frames, img)
	}
	b, err := imaging.EncodeGIF(frames, imaging.GIFOptions{Delay: 20})
	if err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	return writeFile(filepath.Join(t.dir, ProgressName), b)
}
