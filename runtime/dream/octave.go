package dream

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Size is an image size in pixels.
type Size struct{ H, W int }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.W, s.H) }

// OctaveShapes returns the sizes DeepDream processes, smallest first, exactly as the book
// computes them: octave i of n (i = 0 the original) has each side int(side / scale^i),
// truncated, and the list is reversed. A 500x400 image (W x H) with 3 octaves at scale 1.4
// gives 255x204, 357x285, 500x400.
func OctaveShapes(orig Size, octaves int, scale float64) ([]Size, error) {
	if octaves < 1 {
		return nil, fmt.Errorf("dream: %d octaves: want at least 1", octaves)
	}
	if !(scale >= 1) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("dream: octave scale %v: want a finite number >= 1", scale)
	}
	out := make([]Size, octaves)
	for i := range octaves {
		f := math.Pow(scale, float64(i))
		s := Size{H: int(float64(orig.H) / f), W: int(float64(orig.W) / f)}
		if s.H < 1 || s.W < 1 {
			return nil, fmt.Errorf("dream: octave %d of a %s image at scale %v would be %s: use fewer octaves or a smaller scale", octaves-i, orig, scale, s)
		}
		out[octaves-1-i] = s
	}
	return out, nil
}

// Resize returns x [N, C, H, W] resized to [N, C, h, w] by bilinear interpolation with
// aligned corners: output pixel o samples the input at o*(H-1)/(h-1), as
// scipy.ndimage.zoom(order=1) does (the book's resize_img). Resizing to the same size
// copies.
func Resize(x *tensor.Tensor, to Size) (*tensor.Tensor, error) {
	if x == nil || x.DType != tensor.Float32 || x.Rank() != 4 {
		return nil, fmt.Errorf("dream: resize: want a float32 [N, C, H, W] tensor, got %v", x)
	}
	if to.H < 1 || to.W < 1 {
		return nil, fmt.Errorf("dream: resize to %s", to)
	}
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if H < 1 || W < 1 {
		return nil, fmt.Errorf("dream: resize: empty image %s", tensor.ShapeString(x.Shape))
	}
	out := tensor.New(tensor.Float32, N, C, to.H, to.W)
	if H == to.H && W == to.W {
		copy(out.F32(), x.F32())
		return out, nil
	}
	y0, y1, fy := taps(H, to.H)
	x0, x1, fx := taps(W, to.W)
	src, dst := x.F32(), out.F32()
	for p := range N * C {
		in := src[p*H*W : (p+1)*H*W]
		o := dst[p*to.H*to.W : (p+1)*to.H*to.W]
		for oy := range to.H {
			r0, r1, wy := in[y0[oy]*W:y0[oy]*W+W], in[y1[oy]*W:y1[oy]*W+W], fy[oy]
			row := o[oy*to.W : (oy+1)*to.W]
			for ox := range to.W {
				a, b, wx := x0[ox], x1[ox], fx[ox]
				top := r0[a] + wx*(r0[b]-r0[a])
				bot := r1[a] + wx*(r1[b]-r1[a])
				row[ox] = top + wy*(bot-top)
			}
		}
	}
	return out, nil
}

// taps returns, for each of m output positions over an input of n, the two input positions
// and the weight of the second (aligned corners).
func taps(n, m int) (i0, i1 []int, f []float32) {
	i0, i1, f = make([]int, m), make([]int, m), make([]float32, m)
	for o := range m {
		var s float64
		if m > 1 {
			s = float64(o) * float64(n-1) / float64(m-1)
		}
		a := min(int(s), n-1)
		i0[o], i1[o], f[o] = a, min(a+1, n-1), float32(s-float64(a))
	}
	return
}

// addInto adds b into a (same shapes).
func addInto(a, b *tensor.Tensor) {
	y := a.F32()
	for i, v := range b.F32() {
		y[i] += v
	}
}

// LostDetail is what the book re-injects after an octave of size s: the original image at
// size s minus the previous octave's shrunk original upscaled to s,
//
//	resize(original, s) - resize(shrunk, s)
//
// i.e. the detail that shrinking to the previous octave lost.
func LostDetail(original, shrunk *tensor.Tensor, s Size) (*tensor.Tensor, error) {
	same, err := Resize(original, s)
	if err != nil {
		return nil, err
	}
	up, err := Resize(shrunk, s)
	if err != nil {
		return nil, err
	}
	d, u := same.F32(), up.F32()
	for i := range d {
		d[i] -= u[i]
	}
	return same, nil
}
