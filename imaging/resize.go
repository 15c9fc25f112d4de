package imaging

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// Filter selects a resampling filter.
type Filter int

// The filters, from golang.org/x/image/draw.
const (
	// CatmullRom is the Catmull-Rom cubic: sharp, the best for downscaling photos.
	CatmullRom Filter = iota
	// Bilinear is draw.ApproxBiLinear: fast, smooth.
	Bilinear
	// Nearest repeats pixels: for enlarging small images (28x28 digits) without blur.
	Nearest
)

func (f Filter) interpolator() draw.Interpolator {
	switch f {
	case Bilinear:
		return draw.ApproxBiLinear
	case Nearest:
		return draw.NearestNeighbor
	}
	return draw.CatmullRom
}

// ParseFilter accepts "catmull-rom", "bilinear" or "nearest".
func ParseFilter(s string) (Filter, error) {
	switch s {
	case "catmull-rom", "catmullrom", "cubic":
		return CatmullRom, nil
	case "bilinear":
		return Bilinear, nil
	case "nearest":
		return Nearest, nil
	}
	return 0, fmt.Errorf("imaging: unknown filter %q: want catmull-rom, bilinear or nearest", s)
}

// Resize scales img to w x h pixels. A grayscale source gives an *image.Gray, anything else an
// *image.RGBA. An image already of that size is converted, not resampled.
func Resize(img image.Image, w, h int, f Filter) (image.Image, error) {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > int64(MaxPixels) {
		return nil, fmt.Errorf("imaging: cannot resize to %dx%d", w, h)
	}
	dr := image.Rect(0, 0, w, h)
	var dst draw.Image
	if isGray(img) {
		dst = image.NewGray(dr)
	} else {
		dst = image.NewRGBA(dr)
	}
	if img.Bounds().Dx() == w && img.Bounds().Dy() == h {
		draw.Draw(dst, dr, img, img.Bounds().Min, draw.Src)
		return dst, nil
	}
	f.interpolator().Scale(dst, dr, img, img.Bounds(), draw.Src, nil)
	return dst, nil
}

// CenterCrop returns the largest centered part of img with the aspect ratio w:h (a view, not a
// copy, when img supports SubImage).
func CenterCrop(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	cw, ch := b.Dx(), b.Dy()
	if int64(cw)*int64(h) > int64(ch)*int64(w) {
		cw = int(int64(ch) * int64(w) / int64(h))
	} else {
		ch = int(int64(cw) * int64(h) / int64(w))
	}
	x0 := b.Min.X + (b.Dx()-cw)/2
	y0 := b.Min.Y + (b.Dy()-ch)/2
	r := image.Rect(x0, y0, x0+cw, y0+ch)
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	dst := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}

// Zoom enlarges img k times with nearest-neighbour sampling (crisp pixels for small images).
func Zoom(img image.Image, k int) (image.Image, error) {
	if k == 1 {
		return img, nil
	}
	b := img.Bounds()
	if k < 1 || int64(b.Dx())*int64(b.Dy())*int64(k)*int64(k) > int64(MaxPixels) {
		return nil, fmt.Errorf("imaging: cannot zoom a %dx%d image %d times", b.Dx(), b.Dy(), k)
	}
	return Resize(img, b.Dx()*k, b.Dy()*k, Nearest)
}

// isGray reports whether img is stored as grayscale.
func isGray(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	if p, ok := img.(*image.Paletted); ok {
		for _, c := range p.Palette {
			r, g, b, a := c.RGBA()
			if r != g || g != b || a != 0xffff {
				return false
			}
		}
		return true
	}
	return img.ColorModel() == color.GrayModel || img.ColorModel() == color.Gray16Model
}
