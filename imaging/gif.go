package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"math"
	"slices"

	"golang.org/x/image/draw"
)

// GIFOptions control an animated GIF.
type GIFOptions struct {
	// Delay is each frame's display time in hundredths of a second; 0 means 8 (12.5 frames/s).
	Delay int
	// LoopCount is how often the animation repeats: 0 forever, -1 plays it once.
	LoopCount int
	// Palette overrides the automatic one (gray levels for grayscale frames, median cut for
	// color); at most 256 colors.
	Palette color.Palette
	// NoDither maps each color frame to the nearest palette colors instead of dithering.
	NoDither bool
}

// GrayPalette is the exact 256-level gray palette.
func GrayPalette() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{Y: uint8(i)}
	}
	return p
}

// EncodeGIF encodes frames of equal size as an animated GIF.
func EncodeGIF(frames []image.Image, opt GIFOptions) ([]byte, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("imaging: GIF with no frames")
	}
	b0 := frames[0].Bounds()
	if b0.Dx() > 65535 || b0.Dy() > 65535 {
		return nil, fmt.Errorf("imaging: %dx%d is too large for a GIF (65535 at most)", b0.Dx(), b0.Dy())
	}
	for i, f := range frames {
		if f.Bounds().Dx() != b0.Dx() || f.Bounds().Dy() != b0.Dy() {
			return nil, fmt.Errorf("imaging: GIF frame %d is %dx%d, frame 0 is %dx%d", i, f.Bounds().Dx(), f.Bounds().Dy(), b0.Dx(), b0.Dy())
		}
	}
	if opt.Delay < 0 || opt.Delay > 65535 {
		return nil, fmt.Errorf("imaging: GIF delay %d: want 0 to 65535 hundredths of a second", opt.Delay)
	}
	if opt.Delay == 0 {
		opt.Delay = 8
	}
	pal := opt.Palette
	dither := !opt.NoDither
	if pal == nil {
		gray := true
		for _, f := range frames {
			gray = gray && isGray(f)
		}
		if gray {
			pal, dither = GrayPalette(), false
		} else {
			pal = MedianCut(frames, 256)
		}
	}
	if len(pal) == 0 || len(pal) > 256 {
		return nil, fmt.Errorf("imaging: GIF palette of %d colors: want 1 to 256", len(pal))
	}
	g := &gif.GIF{LoopCount: opt.LoopCount}
	r := image.Rect(0, 0, b0.Dx(), b0.Dy())
	for _, f := range frames {
		p := image.NewPaletted(r, pal)
		if dither {
			draw.FloydSteinberg.Draw(p, r, f, f.Bounds().Min)
		} else {
			draw.Draw(p, r, f, f.Bounds().Min, draw.Src)
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, opt.Delay)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		return nil, fmt.Errorf("imaging: encoding GIF: %w", err)
	}
	return b.Bytes(), nil
}

// SaveGIF writes frames to path as an animated GIF, atomically.
func SaveGIF(path string, frames []image.Image, opt GIFOptions) error {
	b, err := EncodeGIF(frames, opt)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// MedianCut returns a palette of at most n colors for the pixels of imgs (Heckbert's median
// cut): the box of colors with the widest channel range, weighted by its pixel count, is split
// at its median until there are n boxes; each box contributes its mean color. With n or fewer
// distinct colors, those colors are the palette. Large images are sampled (about 2^18 pixels
// in all).
func MedianCut(imgs []image.Image, n int) color.Palette {
	var total int
	for _, img := range imgs {
		total += img.Bounds().Dx() * img.Bounds().Dy()
	}
	step := max(1, total/(1<<18))
	var px [][3]uint8
	k := 0
	for _, img := range imgs {
		rgba := toRGBA(img)
		for i := 0; i+3 < len(rgba.Pix); i += 4 {
			if k%step == 0 {
				px = append(px, [3]uint8{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2]})
			}
			k++
		}
	}
	if len(px) == 0 {
		return color.Palette{color.Black}
	}
	// Few distinct colors: use them exactly.
	distinct := map[[3]uint8]bool{}
	for _, p := range px {
		distinct[p] = true
		if len(distinct) > n {
			break
		}
	}
	if len(distinct) <= n {
		keys := make([][3]uint8, 0, len(distinct))
		for c := range distinct {
			keys = append(keys, c)
		}
		slices.SortFunc(keys, func(a, b [3]uint8) int {
			return int(a[0])<<16 + int(a[1])<<8 + int(a[2]) - (int(b[0])<<16 + int(b[1])<<8 + int(b[2]))
		})
		pal := make(color.Palette, len(keys))
		for i, c := range keys {
			pal[i] = color.RGBA{c[0], c[1], c[2], 255}
		}
		return pal
	}
	type box struct {
		px        [][3]uint8
		axis, rng int
	}
	mk := func(px [][3]uint8) box {
		a, r := widest(px)
		return box{px, a, r}
	}
	boxes := []box{mk(px)}
	for len(boxes) < n {
		best, bestScore := -1, 0
		for i, b := range boxes {
			if s := b.rng * len(b.px); len(b.px) >= 2 && b.rng > 0 && s > bestScore {
				best, bestScore = i, s
			}
		}
		if best < 0 {
			break
		}
		b := boxes[best]
		slices.SortFunc(b.px, func(p, q [3]uint8) int { return int(p[b.axis]) - int(q[b.axis]) })
		m := len(b.px) / 2
		boxes[best] = mk(b.px[:m])
		boxes = append(boxes, mk(b.px[m:]))
	}
	centers := make([][3]float64, len(boxes))
	for i, b := range boxes {
		for _, p := range b.px {
			for c := range 3 {
				centers[i][c] += float64(p[c])
			}
		}
		for c := range 3 {
			centers[i][c] /= float64(len(b.px))
		}
	}
	refine(centers, px)
	pal := make(color.Palette, len(centers))
	for i, c := range centers {
		pal[i] = color.RGBA{uint8(c[0] + 0.5), uint8(c[1] + 0.5), uint8(c[2] + 0.5), 255}
	}
	return pal
}

// refine moves the palette colors to the mean of the pixels nearest to them (a few rounds of
// Lloyd's k-means, on at most 2^15 of the pixels), which lowers the mapping error of the
// median-cut boxes.
func refine(centers [][3]float64, px [][3]uint8) {
	step := max(1, len(px)/(1<<15))
	sum := make([][3]float64, len(centers))
	count := make([]int, len(centers))
	for range 4 {
		clear(sum)
		clear(count)
		for i := 0; i < len(px); i += step {
			p := px[i]
			best, bestD := 0, math.Inf(1)
			for k, c := range centers {
				d0, d1, d2 := float64(p[0])-c[0], float64(p[1])-c[1], float64(p[2])-c[2]
				if d := d0*d0 + d1*d1 + d2*d2; d < bestD {
					best, bestD = k, d
				}
			}
			for c := range 3 {
				sum[best][c] += float64(p[c])
			}
			count[best]++
		}
		for k := range centers {
			if count[k] > 0 {
				for c := range 3 {
					centers[k][c] = sum[k][c] / float64(count[k])
				}
			}
		}
	}
}

// widest returns the channel with the largest value range in b, and that range.
func widest(b [][3]uint8) (axis, rng int) {
	lo := [3]uint8{255, 255, 255}
	var hi [3]uint8
	for _, p := range b {
		for c := range 3 {
			lo[c] = min(lo[c], p[c])
			hi[c] = max(hi[c], p[c])
		}
	}
	for c := range 3 {
		if r := int(hi[c]) - int(lo[c]); r > rng {
			axis, rng = c, r
		}
	}
	return axis, rng
}
