package imaging

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// GridOptions lay out a grid of tiles.
type GridOptions struct {
	// Cols is the number of columns; 0 means ceil(sqrt(n)) (a square-ish grid).
	Cols int
	// Pad is the number of background pixels between tiles and around the grid.
	Pad int
	// Background fills the padding and empty cells; nil means black.
	Background color.Color
}

// Grid tiles images of equal size row by row, left to right: tile i goes to row i/Cols,
// column i%Cols. The result is w*Cols + Pad*(Cols+1) pixels wide and h*rows + Pad*(rows+1)
// high. When every tile and the background are gray, the grid is an *image.Gray, otherwise an
// *image.RGBA.
func Grid(imgs []image.Image, opt GridOptions) (image.Image, error) {
	n := len(imgs)
	if n == 0 {
		return nil, fmt.Errorf("imaging: grid of no images")
	}
	cols := opt.Cols
	if cols <= 0 {
		cols = 1
		for cols*cols < n {
			cols++
		}
	}
	cols = min(cols, n)
	rows := (n + cols - 1) / cols
	if opt.Pad < 0 {
		return nil, fmt.Errorf("imaging: grid padding %d: want >= 0", opt.Pad)
	}
	w, h := imgs[0].Bounds().Dx(), imgs[0].Bounds().Dy()
	for i, img := range imgs {
		if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			return nil, fmt.Errorf("imaging: grid tile %d is %dx%d, tile 0 is %dx%d", i, img.Bounds().Dx(), img.Bounds().Dy(), w, h)
		}
	}
	W := int64(w)*int64(cols) + int64(opt.Pad)*int64(cols+1)
	H := int64(h)*int64(rows) + int64(opt.Pad)*int64(rows+1)
	if W*H > int64(MaxPixels) {
		return nil, fmt.Errorf("imaging: a grid of %dx%d tiles of %dx%d is %dx%d pixels, more than imaging.MaxPixels", cols, rows, w, h, W, H)
	}
	bg := opt.Background
	if bg == nil {
		bg = color.Black
	}
	gray := isGrayColor(bg)
	for _, img := range imgs {
		gray = gray && isGray(img)
	}
	r := image.Rect(0, 0, int(W), int(H))
	var dst draw.Image
	if gray {
		dst = image.NewGray(r)
	} else {
		dst = image.NewRGBA(r)
	}
	draw.Draw(dst, r, image.NewUniform(bg), image.Point{}, draw.Src)
	for i, img := range imgs {
		x := opt.Pad + (i%cols)*(w+opt.Pad)
		y := opt.Pad + (i/cols)*(h+opt.Pad)
		draw.Draw(dst, image.Rect(x, y, x+w, y+h), img, img.Bounds().Min, draw.Src)
	}
	return dst, nil
}

func isGrayColor(c color.Color) bool {
	r, g, b, a := c.RGBA()
	return r == g && g == b && a == 0xffff
}
