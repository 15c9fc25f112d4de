package style

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/kernels"
)

// Gram computes the Gram matrix of a feature map f [c, n] (c channels of n = h*w positions,
// row-major, as a batch-1 NCHW layer is stored): g [c, c] = f × fᵀ. threads goroutines share
// the product.
func Gram(threads, c, n int, f, g []float32) {
	// g [c, c] = f [c, n] × fᵀ [n, c]
	kernels.SgemmParallel(max(threads, 1), false, true, c, c, n, 1, f, n, f, n, 0, g, c)
}

// StyleTerm is the style loss of one layer, the book's
//
//	L = sum((G - S)²) / (4 · norm²)
//
// where G is the Gram matrix of the generated image's features f [c, n], S the style image's
// (target, [c, c]) and norm the normalisation (Config.StyleNorm: the book's channels·size =
// 3·H·W of the image, or the layer's c·n). It returns L and ADDS weight·dL/df into df [c, n]:
//
//	dL/dG = (G - S) / (2·norm²),  dL/df = (dL/dG + dL/dGᵀ) f = 2(G - S) f / (2·norm²) = (G - S) f / norm²
//
// (G and S are symmetric). gram [c, c] is scratch for G (overwritten with G - S).
func StyleTerm(threads, c, n int, f, target, gram []float32, norm, weight float64, df []float32) float64 {
	Gram(threads, c, n, f, gram)
	var sum float64
	for i, s := range target {
		d := gram[i] - s
		gram[i] = d
		sum += float64(d) * float64(d)
	}
	loss := sum / (4 * norm * norm)
	// df [c, n] += weight/norm² · (G - S) [c, c] × f [c, n]
	alpha := float32(weight / (norm * norm))
	kernels.SgemmParallel(max(threads, 1), false, false, c, n, c, alpha, gram, c, f, n, 1, df, n)
	return loss
}

// ContentTerm is the book's content loss L = sum((f - p)²) of the generated image's features
// f against the content image's p; it ADDS weight·dL/df = weight·2(f - p) into df.
func ContentTerm(f, p []float32, weight float64, df []float32) float64 {
	var sum float64
	k := float32(2 * weight)
	for i, x := range f {
		d := x - p[i]
		sum += float64(d) * float64(d)
		df[i] += k * d
	}
	return sum
}

// TVPower is the exponent of the book's total-variation loss.
const TVPower = 1.25

// TotalVariation is the book's total-variation loss of an image x [ch, h, w] (any channel
// count; gendl passes RGB in [0, 255]):
//
//	L = Σ_c Σ_{i<h-1, j<w-1} (a + b)^1.25,  a = (x[c,i,j] - x[c,i+1,j])², b = (x[c,i,j] - x[c,i,j+1])²
//
// (the last row and column only enter as neighbours, as in the book's slices). It returns L
// and ADDS weight·dL/dx into dx:
//
//	d(a+b)^1.25 = 1.25 (a+b)^0.25 · (2(x - x_down)(dx - dx_down) + 2(x - x_right)(dx - dx_right))
func TotalVariation(ch, h, w int, x []float32, weight float64, dx []float32) float64 {
	var sum float64
	for c := range ch {
		img := x[c*h*w : (c+1)*h*w]
		d := dx[c*h*w : (c+1)*h*w]
		for i := 0; i < h-1; i++ {
			for j := 0; j < w-1; j++ {
				k := i*w + j
				v := float64(img[k])
				dv := v - float64(img[k+w]) // vertical difference
				dh := v - float64(img[k+1]) // horizontal difference
				s := dv*dv + dh*dh
				if s == 0 {
					continue // value 0, and a zero gradient (the power is > 1)
				}
				q := math.Sqrt(math.Sqrt(s)) // s^0.25
				sum += s * q                 // s^1.25
				g := weight * 2 * TVPower * q
				gv, gh := float32(g*dv), float32(g*dh)
				d[k] += gv + gh
				d[k+w] -= gv
				d[k+1] -= gh
			}
		}
	}
	return sum
}

// checkFinite reports the first non-finite value of v (named what).
func checkFinite(what string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("style: %s has a non-finite value (%v at element %d)", what, x, i)
		}
	}
	return nil
}
