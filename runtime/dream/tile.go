package dream

import "github.com/gendl/gendl/runtime/tensor"

// span is a run [Start, Start+Len) of rows or columns.
type span struct{ Start, Len int }

// tileSpans cuts a side of n pixels into ceil(n/max) tiles of one length, ceil(n/k), spread
// evenly from 0 to n: they cover the side, overlap by less than k pixels in all, and tile a
// side divisible by k exactly. max <= 0 or max >= n gives one tile.
func tileSpans(n, max int) []span {
	if max <= 0 || n <= max {
		return []span{{0, n}}
	}
	k := (n + max - 1) / max
	l := (n + k - 1) / k
	out := make([]span, k)
	for i := range k {
		// Rounded position of the i-th of k starts spread over [0, n-l].
		out[i] = span{(i*(n-l) + (k-1)/2) / (k - 1), l}
	}
	return out
}

// roll shifts the images of src [N, C, H, W] circularly by dy rows and dx columns into dst
// (same shape): dst[y][x] = src[(y-dy) mod H][(x-dx) mod W]. roll by (-dy, -dx) undoes it.
func roll(dst, src *tensor.Tensor, dy, dx int) {
	H, W := src.Shape[2], src.Shape[3]
	dy, dx = ((dy%H)+H)%H, ((dx%W)+W)%W
	s, d := src.F32(), dst.F32()
	for p := range src.Shape[0] * src.Shape[1] {
		sp, dp := s[p*H*W:(p+1)*H*W], d[p*H*W:(p+1)*H*W]
		for y := range H {
			sr := sp[((y-dy+H)%H)*W : ((y-dy+H)%H)*W+W]
			dr := dp[y*W : y*W+W]
			copy(dr[dx:], sr[:W-dx])
			copy(dr[:dx], sr[W-dx:])
		}
	}
}

// crop copies the window rows ys, columns xs of src [N, C, H, W] into dst, which it resets to
// [N, C, ys.Len, xs.Len].
func crop(dst, src *tensor.Tensor, ys, xs span) {
	N, C, H, W := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	dst.Reset(tensor.Float32, []int{N, C, ys.Len, xs.Len})
	s, d := src.F32(), dst.F32()
	for p := range N * C {
		for y := range ys.Len {
			copy(d[(p*ys.Len+y)*xs.Len:(p*ys.Len+y+1)*xs.Len], s[p*H*W+(ys.Start+y)*W+xs.Start:])
		}
	}
}

// addCrop adds scale times src [N, C, ys.Len, xs.Len] into the window rows ys, columns xs of
// dst [N, C, H, W].
func addCrop(dst, src *tensor.Tensor, ys, xs span, scale float32) {
	N, C, H, W := dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3]
	s, d := src.F32(), dst.F32()
	for p := range N * C {
		for y := range ys.Len {
			sr := s[(p*ys.Len+y)*xs.Len : (p*ys.Len+y+1)*xs.Len]
			dr := d[p*H*W+(ys.Start+y)*W+xs.Start:]
			for i, v := range sr {
				dr[i] += scale * v
			}
		}
	}
}
