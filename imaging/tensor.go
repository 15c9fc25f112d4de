package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"

	"github.com/gendl/gendl/runtime/tensor"
)

// Range maps 8-bit pixel values p to tensor values: v = (p/255)*Scale[c] + Shift[c] for
// channel c. Scale and Shift hold one value (all channels) or one per channel.
type Range struct {
	Name         string
	Scale, Shift []float32
}

// Unit maps pixels to [0, 1].
func Unit() Range { return Range{Name: "[0,1]", Scale: []float32{1}, Shift: []float32{0}} }

// Signed maps pixels to [-1, 1].
func Signed() Range { return Range{Name: "[-1,1]", Scale: []float32{2}, Shift: []float32{-1}} }

// MeanStd maps pixels to (p/255 - mean[c]) / std[c], as ImageNet models expect (VGG19 in the
// ONNX model zoo: mean 0.485,0.456,0.406, std 0.229,0.224,0.225).
func MeanStd(mean, std []float32) (Range, error) {
	if len(mean) != len(std) || len(mean) == 0 {
		return Range{}, fmt.Errorf("imaging: mean/std: %d means and %d standard deviations", len(mean), len(std))
	}
	r := Range{Name: fmt.Sprintf("mean %v std %v", mean, std)}
	for i := range mean {
		if !(std[i] > 0) || math.IsInf(float64(std[i]), 0) || math.IsNaN(float64(mean[i])) || math.IsInf(float64(mean[i]), 0) {
			return Range{}, fmt.Errorf("imaging: mean/std: channel %d: mean %v std %v: want finite values, std > 0", i, mean[i], std[i])
		}
		r.Scale = append(r.Scale, 1/std[i])
		r.Shift = append(r.Shift, -mean[i]/std[i])
	}
	return r, nil
}

func (r Range) String() string { return r.Name }

// coef returns the scale and shift of channel c of C.
func (r Range) coef(c, C int) (scale, shift float32, err error) {
	get := func(v []float32, what string) (float32, error) {
		switch len(v) {
		case 1:
			return v[0], nil
		case C:
			return v[c], nil
		}
		return 0, fmt.Errorf("imaging: range %s has %d %s values for %d channels", r.Name, len(v), what, C)
	}
	if scale, err = get(r.Scale, "scale"); err != nil {
		return
	}
	if scale == 0 || math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return 0, 0, fmt.Errorf("imaging: range %s: scale %v", r.Name, scale)
	}
	shift, err = get(r.Shift, "shift")
	return
}

// Channels is 1 (grayscale) or 3 (RGB).
func checkChannels(c int) error {
	if c != 1 && c != 3 {
		return fmt.Errorf("imaging: %d channels: want 1 (grayscale) or 3 (RGB)", c)
	}
	return nil
}

// ToTensor converts images of equal size to a float32 tensor [N, C, H, W] (C = channels, 1
// or 3) in range r.
func ToTensor(imgs []image.Image, channels int, r Range) (*tensor.Tensor, error) {
	if err := checkChannels(channels); err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("imaging: no images to convert")
	}
	b0 := imgs[0].Bounds()
	H, W := b0.Dy(), b0.Dx()
	for i, img := range imgs {
		if img.Bounds().Dx() != W || img.Bounds().Dy() != H {
			return nil, fmt.Errorf("imaging: image %d is %dx%d, image 0 is %dx%d: resize them to one size first", i, img.Bounds().Dx(), img.Bounds().Dy(), W, H)
		}
	}
	if int64(len(imgs))*int64(channels)*int64(H)*int64(W) > int64(tensor.MaxElements) {
		return nil, fmt.Errorf("imaging: %d images of %dx%dx%d exceed the tensor size cap", len(imgs), channels, H, W)
	}
	var lut [3][256]float32
	for c := range channels {
		s, sh, err := r.coef(c, channels)
		if err != nil {
			return nil, err
		}
		for p := range 256 {
			lut[c][p] = float32(p)/255*s + sh
		}
	}
	t := tensor.New(tensor.Float32, len(imgs), channels, H, W)
	out := t.F32()
	plane := H * W
	for i, img := range imgs {
		dst := out[i*channels*plane : (i+1)*channels*plane]
		if channels == 1 {
			g := toGray(img)
			for y := range H {
				row := g.Pix[y*g.Stride : y*g.Stride+W]
				for x, p := range row {
					dst[y*W+x] = lut[0][p]
				}
			}
			continue
		}
		rgba := toRGBA(img)
		for y := range H {
			row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*W]
			for x := range W {
				dst[y*W+x] = lut[0][row[4*x]]
				dst[plane+y*W+x] = lut[1][row[4*x+1]]
				dst[2*plane+y*W+x] = lut[2][row[4*x+2]]
			}
		}
	}
	return t, nil
}

// toGray returns img as an *image.Gray whose origin is (0, 0).
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok && g.Rect.Min == (image.Point{}) {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Rect, img, b.Min, draw.Src)
	return g
}

// toRGBA returns img as an *image.RGBA whose origin is (0, 0), composited onto black.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) && opaque(r) {
		return r
	}
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, image.NewUniform(color.Black), image.Point{}, draw.Src)
	draw.Draw(r, r.Rect, img, b.Min, draw.Over)
	return r
}

func opaque(r *image.RGBA) bool { return r.Opaque() }

// FromTensor converts a float32 tensor [N, C, H, W] (C = 1 or 3) in range r to images:
// *image.Gray for one channel, *image.RGBA (opaque) for three. Values are clamped to the range
// and rounded to the nearest 8-bit level; NaN becomes 0.
func FromTensor(t *tensor.Tensor, r Range) ([]image.Image, error) {
	if t == nil || t.DType != tensor.Float32 || t.Rank() != 4 {
		desc := "nil"
		if t != nil {
			desc = fmt.Sprintf("%v%s", t.DType, tensor.ShapeString(t.Shape))
		}
		return nil, fmt.Errorf("imaging: want a float32 tensor [N, C, H, W], got %s", desc)
	}
	N, C, H, W := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	if err := checkChannels(C); err != nil {
		return nil, fmt.Errorf("imaging: tensor %s: %w", tensor.ShapeString(t.Shape), err)
	}
	if H == 0 || W == 0 {
		return nil, fmt.Errorf("imaging: tensor %s holds empty images", tensor.ShapeString(t.Shape))
	}
	var inv, off [3]float32
	for c := range C {
		s, sh, err := r.coef(c, C)
		if err != nil {
			return nil, err
		}
		// p = (v - shift)/scale * 255
		inv[c], off[c] = 255/s, sh
	}
	data := t.F32()
	plane := H * W
	imgs := make([]image.Image, N)
	for i := range N {
		src := data[i*C*plane : (i+1)*C*plane]
		if C == 1 {
			g := image.NewGray(image.Rect(0, 0, W, H))
			for j, v := range src {
				g.Pix[j] = to8(v, inv[0], off[0])
			}
			imgs[i] = g
			continue
		}
		m := image.NewRGBA(image.Rect(0, 0, W, H))
		for j := range plane {
			m.Pix[4*j] = to8(src[j], inv[0], off[0])
			m.Pix[4*j+1] = to8(src[plane+j], inv[1], off[1])
			m.Pix[4*j+2] = to8(src[2*plane+j], inv[2], off[2])
			m.Pix[4*j+3] = 255
		}
		imgs[i] = m
	}
	return imgs, nil
}

func to8(v, inv, off float32) uint8 {
	p := (v - off) * inv
	switch {
	case !(p >= 0): // also NaN
		return 0
	case p >= 255:
		return 255
	}
	return uint8(p + 0.5)
}
