package latent

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/tensor"
)

// Decoder maps latent points [N, latent] to N images (imagegen.Session.Images).
type Decoder interface {
	Images(z *tensor.Tensor) ([]image.Image, error)
}

// Encoder maps images [N, C, H, W] to the means and log-variances [N, latent] of their latent
// distributions (imagegen.Session.Encode).
type Encoder interface {
	Encode(x *tensor.Tensor) (mean, logVar *tensor.Tensor, err error)
}

// NormalQuantile is the standard normal distribution's quantile function (scipy's norm.ppf)
// for 0 < p < 1.
func NormalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// GridSpec describes a manifold grid.
type GridSpec struct {
	// N points per side (N*N in all).
	N int
	// Latent is the latent dimension (>= 2).
	Latent int
	// Lo and Hi are the quantile probabilities of the first and last rows and columns (0 and 0
	// mean the book's 0.05 and 0.95).
	Lo, Hi float64
	// Span, when > 0, spaces the coordinates evenly in [-Span, Span] instead of at quantiles.
	Span float64
	// Dims are the two latent dimensions the columns and rows vary (zero value: 0 and 1).
	Dims [2]int
	// Center holds the values of the other dimensions (nil: 0).
	Center []float32
}

// Coords returns the N coordinates of the grid along one axis, increasing.
func (g GridSpec) Coords() ([]float64, error) {
	if g.N < 1 || g.N > 1024 {
		return nil, fmt.Errorf("latent: grid of %d points per side: want 1 to 1024", g.N)
	}
	lo, hi := g.Lo, g.Hi
	if lo == 0 && hi == 0 {
		lo, hi = 0.05, 0.95
	}
	if g.Span < 0 || math.IsNaN(g.Span) || math.IsInf(g.Span, 0) {
		return nil, fmt.Errorf("latent: grid span %v: want a finite value > 0", g.Span)
	}
	if g.Span == 0 && !(0 < lo && lo < hi && hi < 1) {
		return nil, fmt.Errorf("latent: grid quantiles %v,%v: want 0 < low < high < 1", lo, hi)
	}
	c := make([]float64, g.N)
	for i := range c {
		f := 0.5
		if g.N > 1 {
			f = float64(i) / float64(g.N-1)
		}
		if g.Span > 0 {
			c[i] = -g.Span + 2*g.Span*f
		} else {
			c[i] = NormalQuantile(lo + (hi-lo)*f)
		}
	}
	return c, nil
}

// Grid returns the N*N points of a manifold grid [N*N, latent], row by row from the top.
func Grid(g GridSpec) (*tensor.Tensor, error) {
	coords, err := g.Coords()
	if err != nil {
		return nil, err
	}
	if g.Latent < 2 {
		return nil, fmt.Errorf("latent: a grid varies two latent dimensions; the model has %d", g.Latent)
	}
	dx, dy := g.Dims[0], g.Dims[1]
	if dx == 0 && dy == 0 {
		dy = 1
	}
	if dx < 0 || dy < 0 || dx >= g.Latent || dy >= g.Latent || dx == dy {
		return nil, fmt.Errorf("latent: grid dimensions %d,%d: want two different dimensions below %d", dx, dy, g.Latent)
	}
	if g.Center != nil && len(g.Center) != g.Latent {
		return nil, fmt.Errorf("latent: grid center has %d values, the latent space %d", len(g.Center), g.Latent)
	}
	n := g.N
	z := tensor.New(tensor.Float32, n*n, g.Latent)
	d := z.F32()
	for i := range n { // rows, top to bottom: dimension dy decreasing
		for j := range n { // columns, left to right: dimension dx increasing
			row := d[(i*n+j)*g.Latent : (i*n+j+1)*g.Latent]
			copy(row, g.Center)
			row[dx] = float32(coords[j])
			row[dy] = float32(coords[n-1-i])
		}
	}
	return z, nil
}

// Normal returns n points [n, latent] drawn from N(0, I) with a PCG generator seeded by seed.
func Normal(n, latent int, seed uint64) (*tensor.Tensor, error) {
	if n < 0 || latent < 1 || int64(n)*int64(latent) > int64(tensor.MaxElements) {
		return nil, fmt.Errorf("latent: %d points of dimension %d", n, latent)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6174656e74)) // "latent"
	z := tensor.New(tensor.Float32, n, latent)
	for i := range z.F32() {
		z.F32()[i] = float32(rng.NormFloat64())
	}
	return z, nil
}

// Method is an interpolation method.
type Method int

// The interpolation methods.
const (
	Linear Method = iota
	Spherical
)

func (m Method) String() string {
	if m == Spherical {
		return "slerp"
	}
	return "linear"
}

// ParseMethod accepts "linear" (or "lerp") and "slerp" (or "spherical").
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(s) {
	case "linear", "lerp":
		return Linear, nil
	case "slerp", "spherical":
		return Spherical, nil
	}
	return 0, fmt.Errorf("latent: unknown interpolation %q: want linear or slerp", s)
}

// Lerp returns (1-t)a + tb.
func Lerp(a, b []float32, t float64) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32((1-t)*float64(a[i]) + t*float64(b[i]))
	}
	return out
}

// Slerp interpolates along the great circle from a to b, scaling the norm linearly between
// theirs: sin((1-t)w)/sin(w) a + sin(tw)/sin(w) b with w the angle between a and b (Shoemake
// 1985; White 2016 for latent spaces). Nearly parallel or zero vectors fall back to Lerp.
func Slerp(a, b []float32, t float64) []float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	na, nb = math.Sqrt(na), math.Sqrt(nb)
	if na == 0 || nb == 0 {
		return Lerp(a, b, t)
	}
	cos := math.Max(-1, math.Min(1, dot/(na*nb)))
	w := math.Acos(cos)
	s := math.Sin(w)
	if s < 1e-6 {
		return Lerp(a, b, t)
	}
	ca, cb := math.Sin((1-t)*w)/s, math.Sin(t*w)/s
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32(ca*float64(a[i]) + cb*float64(b[i]))
	}
	return out
}

// Path returns frames points [frames, latent] along the path through points (at least two),
// each leg interpolated with m and taking an equal share of the frames. An open path starts
// at the first point and ends exactly at the last; a loop also returns from the last point
// to the first, leaving out the final frame (equal to the first) so that it repeats
// seamlessly.
func Path(points [][]float32, frames int, m Method, loop bool) (*tensor.Tensor, error) {
	if len(points) < 2 {
		return nil, fmt.Errorf("latent: a path needs at least 2 points, got %d", len(points))
	}
	L := len(points[0])
	for i, p := range points {
		if len(p) != L || L == 0 {
			return nil, fmt.Errorf("latent: path point %d has %d values, point 0 has %d", i, len(p), L)
		}
	}
	if frames < 2 || int64(frames)*int64(L) > int64(tensor.MaxElements) {
		return nil, fmt.Errorf("latent: %d frames: want at least 2", frames)
	}
	legs := len(points) - 1
	if loop {
		legs = len(points)
	}
	z := tensor.New(tensor.Float32, frames, L)
	for k := range frames {
		var g float64 // position along the path, in legs
		if loop {
			g = float64(k) / float64(frames) * float64(legs)
		} else {
			g = float64(k) / float64(frames-1) * float64(legs)
		}
		leg := min(int(g), legs-1)
		t := g - float64(leg)
		a, b := points[leg], points[(leg+1)%len(points)]
		var p []float32
		if m == Spherical {
			p = Slerp(a, b, t)
		} else {
			p = Lerp(a, b, t)
		}
		copy(z.F32()[k*L:(k+1)*L], p)
	}
	return z, nil
}

// Row returns point i of z [N, latent] (a copy).
func Row(z *tensor.Tensor, i int) []float32 {
	L := z.Shape[1]
	return append([]float32{}, z.F32()[i*L:(i+1)*L]...)
}

// Mean returns the mean of the rows of z [N, latent] (all rows when idx is nil).
func Mean(z *tensor.Tensor, idx []int) ([]float32, error) {
	if z == nil || z.Rank() != 2 || z.DType != tensor.Float32 {
		return nil, fmt.Errorf("latent: mean: want float32 points [N, latent]")
	}
	L := z.Shape[1]
	if idx == nil {
		for i := range z.Shape[0] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("latent: mean of no points")
	}
	sum := make([]float64, L)
	for _, i := range idx {
		if i < 0 || i >= z.Shape[0] {
			return nil, fmt.Errorf("latent: mean: point %d of %d", i, z.Shape[0])
		}
		for l, v := range z.F32()[i*L : (i+1)*L] {
			sum[l] += float64(v)
		}
	}
	out := make([]float32, L)
	for l := range out {
		out[l] = float32(sum[l] / float64(len(idx)))
	}
	return out, nil
}

// EncodeMean encodes images x [N, C, H, W] and returns their latent points (the z_mean
// output, as the book plots and uses them).
func EncodeMean(enc Encoder, x *tensor.Tensor) (*tensor.Tensor, error) {
	mean, _, err := enc.Encode(x)
	if err != nil {
		return nil, err
	}
	return mean, nil
}

// Concept returns the concept vector mean(a) - mean(b): the direction that takes group B's
// codes towards group A's (e.g. digits "1" minus digits "7", or smiling minus not smiling).
func Concept(a, b *tensor.Tensor) ([]float32, error) {
	ma, err := Mean(a, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (group A)", err)
	}
	mb, err := Mean(b, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (group B)", err)
	}
	if len(ma) != len(mb) {
		return nil, fmt.Errorf("latent: concept groups have latent sizes %d and %d", len(ma), len(mb))
	}
	v := make([]float32, len(ma))
	for i := range v {
		v[i] = ma[i] - mb[i]
	}
	return v, nil
}

// Apply returns the points z + s*v for each strength s, as a batch [len(strengths), latent].
func Apply(z, v []float32, strengths []float64) (*tensor.Tensor, error) {
	if len(z) != len(v) || len(z) == 0 {
		return nil, fmt.Errorf("latent: point of size %d, concept vector of size %d", len(z), len(v))
	}
	out := tensor.New(tensor.Float32, len(strengths), len(z))
	for k, s := range strengths {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("latent: strength %v", s)
		}
		for i := range z {
			out.F32()[k*len(z)+i] = z[i] + float32(s)*v[i]
		}
	}
	return out, nil
}

// Tile decodes the points z and tiles the images into one picture, point i at row i/Cols,
// column i%Cols (Grid's points with Cols = N give the manifold figure).
func Tile(dec Decoder, z *tensor.Tensor, opt imaging.GridOptions) (image.Image, error) {
	imgs, err := dec.Images(z)
	if err != nil {
		return nil, err
	}
	return imaging.Grid(imgs, opt)
}
