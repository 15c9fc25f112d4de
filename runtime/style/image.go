package style

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/tensor"
)

// Pixels is the value range of images here: RGB in [0, 255].
func Pixels() imaging.Range {
	return imaging.Range{Name: "[0,255]", Scale: []float32{255}, Shift: []float32{0}}
}

// OutputSize returns the size of the generated image for a content image of w x h pixels:
// height pixels high (0: the content's height), the width keeping the aspect ratio.
func OutputSize(w, h, height int) (int, int, error) {
	if w < 1 || h < 1 {
		return 0, 0, fmt.Errorf("style: content image of %dx%d pixels", w, h)
	}
	if height == 0 {
		return w, h, nil
	}
	if height < 0 {
		return 0, 0, fmt.Errorf("style: height %d: want a positive number", height)
	}
	ow := int(math.Round(float64(w) * float64(height) / float64(h)))
	if ow < 1 || float64(ow)*float64(height) > float64(imaging.MaxPixels) {
		return 0, 0, fmt.Errorf("style: a %d-pixel-high image of the content's aspect ratio (%dx%d) would be %dx%d pixels", height, w, h, ow, height)
	}
	return ow, height, nil
}

// PrepareImages resizes the content image to height pixels (0: its own; the width keeps the
// aspect ratio) and the style image to the same size (as the book does, whatever its aspect
// ratio), and returns both as float32 [1, 3, H, W] RGB in [0, 255].
func PrepareImages(content, style image.Image, height int) (c, s *tensor.Tensor, err error) {
	b := content.Bounds()
	w, h, err := OutputSize(b.Dx(), b.Dy(), height)
	if err != nil {
		return nil, nil, err
	}
	rc, err := imaging.Resize(content, w, h, imaging.CatmullRom)
	if err != nil {
		return nil, nil, fmt.Errorf("style: content image: %w", err)
	}
	rs, err := imaging.Resize(style, w, h, imaging.CatmullRom)
	if err != nil {
		return nil, nil, fmt.Errorf("style: style image: %w", err)
	}
	if c, err = imaging.ToTensor([]image.Image{rc}, 3, Pixels()); err != nil {
		return nil, nil, fmt.Errorf("style: content image: %w", err)
	}
	if s, err = imaging.ToTensor([]image.Image{rs}, 3, Pixels()); err != nil {
		return nil, nil, fmt.Errorf("style: style image: %w", err)
	}
	return c, s, nil
}

// Initial images (InitImage).
const (
	InitContent = "content"
	InitNoise   = "noise"
)

// InitImage returns the starting image [3, H, W]: a copy of the content image (the book's
// choice) or uniform noise in [0, 255] drawn with seed.
func InitImage(kind string, content *tensor.Tensor, seed uint64) ([]float32, error) {
	if err := checkImage("content image", content); err != nil {
		return nil, err
	}
	switch kind {
	case "", InitContent:
		return append([]float32(nil), content.F32()...), nil
	case InitNoise:
		rng := rand.New(rand.NewPCG(seed, 0x5717e))
		x := make([]float32, content.Len())
		for i := range x {
			x[i] = 255 * rng.Float32()
		}
		return x, nil
	}
	return nil, fmt.Errorf("style: initial image %q: want %s or %s", kind, InitContent, InitNoise)
}

// ToImage converts x [3, h, w] RGB in [0, 255] to a picture, clipping and rounding.
func ToImage(x []float32, h, w int) (image.Image, error) {
	if len(x) != 3*h*w {
		return nil, fmt.Errorf("style: image of %d values, want 3x%dx%d", len(x), h, w)
	}
	t := &tensor.Tensor{DType: tensor.Float32, Shape: []int{1, 3, h, w}, Data: x}
	imgs, err := imaging.FromTensor(t, Pixels())
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	return imgs[0], nil
}
