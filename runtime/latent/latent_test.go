package latent

import (
	"image"
	"math"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/tensor"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestNormalQuantile(t *testing.T) {
	// Reference values: scipy.stats.norm.ppf.
	for _, c := range []struct{ p, want float64 }{
		{0.5, 0}, {0.975, 1.959963984540054}, {0.05, -1.6448536269514729}, {0.95, 1.6448536269514729}, {0.8413447460685429, 1},
	} {
		if got := NormalQuantile(c.p); !near(got, c.want, 1e-12) {
			t.Errorf("NormalQuantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestGrid(t *testing.T) {
	z, err := Grid(GridSpec{N: 15, Latent: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(z.Shape, []int{225, 2}) {
		t.Fatalf("shape %v", z.Shape)
	}
	at := func(i, j int) (float64, float64) {
		p := Row(z, i*15+j)
		return float64(p[0]), float64(p[1])
	}
	q := 1.6448536269514729 // norm.ppf(0.95)
	for _, c := range []struct {
		i, j   int
		x, y   float64
		reason string
	}{
		{0, 0, -q, q, "top left: low dim 0, high dim 1"},
		{14, 14, q, -q, "bottom right"},
		{7, 7, 0, 0, "center: quantile 0.5"},
		{0, 14, q, q, "top right"},
	} {
		if x, y := at(c.i, c.j); !near(x, c.x, 1e-6) || !near(y, c.y, 1e-6) {
			t.Errorf("%s: (%d,%d) = (%v, %v), want (%v, %v)", c.reason, c.i, c.j, x, y, c.x, c.y)
		}
	}
	// keras-io spacing: linspace(-1, 1, 5).
	z, _ = Grid(GridSpec{N: 5, Latent: 2, Span: 1})
	if p := Row(z, 1); p[0] != -0.5 || p[1] != 1 {
		t.Errorf("span grid point 1: %v, want [-0.5 1]", p)
	}
	// Larger latents: two chosen dimensions vary, the others hold the center.
	z, err = Grid(GridSpec{N: 3, Latent: 4, Dims: [2]int{3, 1}, Center: []float32{7, 7, 7, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if p := Row(z, 0); p[0] != 7 || p[2] != 7 || !near(float64(p[3]), -q, 1e-6) || !near(float64(p[1]), q, 1e-6) {
		t.Errorf("4-D grid point 0: %v", p)
	}
	for _, g := range []GridSpec{
		{N: 0, Latent: 2}, {N: 3, Latent: 1}, {N: 3, Latent: 2, Dims: [2]int{0, 2}}, {N: 3, Latent: 2, Dims: [2]int{1, 1}},
		{N: 3, Latent: 2, Lo: 0.9, Hi: 0.1}, {N: 3, Latent: 2, Lo: 0, Hi: 1}, {N: 3, Latent: 2, Span: -1}, {N: 3, Latent: 3, Center: []float32{1}},
	} {
		if _, err := Grid(g); err == nil || !strings.HasPrefix(err.Error(), "latent: ") {
			t.Errorf("%+v: want an error, got %v", g, err)
		}
	}
}

func TestNormal(t *testing.T) {
	a, _ := Normal(5000, 2, 7)
	b, _ := Normal(5000, 2, 7)
	c, _ := Normal(5000, 2, 8)
	same, diff := true, false
	var sum, sq float64
	for i, v := range a.F32() {
		same = same && v == b.F32()[i]
		diff = diff || v != c.F32()[i]
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	if !same || !diff {
		t.Errorf("seed 7 twice equal: %v; seeds 7 and 8 differ: %v", same, diff)
	}
	n := float64(a.Len())
	mean, varc := sum/n, sq/n-(sum/n)*(sum/n)
	// 10000 N(0,1) draws: the mean's standard error is 0.01, the variance's about 0.014;
	// allow 5 of each.
	if math.Abs(mean) > 0.05 || math.Abs(varc-1) > 0.07 {
		t.Errorf("mean %v variance %v", mean, varc)
	}
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestInterpolate(t *testing.T) {
	a, b := []float32{1, 0}, []float32{0, 1}
	if m := Slerp(a, b, 0.5); !near(float64(m[0]), math.Sqrt(0.5), 1e-7) || !near(norm(m), 1, 1e-6) {
		t.Errorf("slerp midpoint of orthogonal unit vectors: %v (norm %v), want norm 1", m, norm(m))
	}
	if m := Lerp(a, b, 0.5); m[0] != 0.5 || m[1] != 0.5 {
		t.Errorf("lerp midpoint: %v", m)
	}
	for _, tt := range []float64{0, 1} {
		want := a
		if tt == 1 {
			want = b
		}
		if s := Slerp(a, b, tt); !near(float64(s[0]), float64(want[0]), 1e-7) || !near(float64(s[1]), float64(want[1]), 1e-7) {
			t.Errorf("slerp at %v: %v", tt, s)
		}
	}
	// Slerp keeps the angle uniform: a quarter of the way between orthogonal vectors is 22.5°.
	if s := Slerp(a, b, 0.25); !near(math.Atan2(float64(s[1]), float64(s[0])), math.Pi/8, 1e-6) {
		t.Errorf("slerp at 0.25: angle %v", math.Atan2(float64(s[1]), float64(s[0])))
	}
	if s := Slerp([]float32{1, 1}, []float32{2, 2}, 0.5); s[0] != 1.5 {
		t.Errorf("parallel vectors fall back to lerp: %v", s)
	}
	if s := Slerp([]float32{0, 0}, []float32{2, 2}, 0.5); s[0] != 1 {
		t.Errorf("zero vector falls back to lerp: %v", s)
	}

	p, err := Path([][]float32{{0}, {10}}, 11, Linear, false)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 11 {
		if v := p.F32()[k]; !near(float64(v), float64(k), 1e-6) {
			t.Errorf("linear path frame %d: %v", k, v)
		}
	}
	// Three points, open: ends at the last; looped: 4 frames per leg, never repeats the start.
	p, _ = Path([][]float32{{0}, {4}, {8}}, 9, Linear, false)
	if p.F32()[4] != 4 || p.F32()[8] != 8 {
		t.Errorf("open path through 3 points: %v", p.F32())
	}
	p, _ = Path([][]float32{{0}, {4}, {8}}, 12, Linear, true)
	want := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 4, 2}
	for k, v := range p.F32() {
		if !near(float64(v), float64(want[k]), 1e-5) {
			t.Errorf("loop frame %d: %v, want %v", k, v, want[k])
		}
	}
	p, _ = Path([][]float32{a, b}, 3, Spherical, false)
	if m := Row(p, 1); !near(norm(m), 1, 1e-6) {
		t.Errorf("slerp path midpoint norm %v", norm(m))
	}
	for _, c := range []struct {
		pts    [][]float32
		frames int
	}{{[][]float32{{1}}, 5}, {[][]float32{{1}, {1, 2}}, 5}, {[][]float32{{1}, {2}}, 1}} {
		if _, err := Path(c.pts, c.frames, Linear, false); err == nil {
			t.Errorf("Path(%v, %d): no error", c.pts, c.frames)
		}
	}
	if _, err := ParseMethod("cubic"); err == nil {
		t.Error("ParseMethod(cubic): no error")
	}
}

func TestConcept(t *testing.T) {
	ga := tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2) // mean (2, 3)
	gb := tensor.FromFloat32([]float32{0, 1}, 1, 2)       // mean (0, 1)
	v, err := Concept(ga, gb)
	if err != nil || v[0] != 2 || v[1] != 2 {
		t.Fatalf("concept %v %v, want [2 2]", v, err)
	}
	z, err := Apply([]float32{1, -1}, v, []float64{-1, 0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{-1, -3, 1, -1, 2, 0}; !equal(z.F32(), want) {
		t.Errorf("Apply: %v, want %v", z.F32(), want)
	}
	if m, _ := Mean(ga, []int{1}); m[0] != 3 || m[1] != 4 {
		t.Errorf("Mean of row 1: %v", m)
	}
	if _, err := Mean(ga, []int{}); err == nil {
		t.Error("mean of no points: no error")
	}
	if _, err := Apply([]float32{1}, v, []float64{1}); err == nil {
		t.Error("size mismatch: no error")
	}
	if _, err := Apply([]float32{1, 2}, v, []float64{math.NaN()}); err == nil {
		t.Error("NaN strength: no error")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shade is a fake decoder: a 2x2 gray image whose level encodes z[0] (column position) and
// z[1] (row position).
type shade struct{}

func (shade) Images(z *tensor.Tensor) ([]image.Image, error) {
	var out []image.Image
	for i := range z.Shape[0] {
		g := image.NewGray(image.Rect(0, 0, 2, 2))
		p := Row(z, i)
		for k := range g.Pix {
			g.Pix[k] = uint8(128 + 30*p[0] + 3*p[1])
		}
		out = append(out, g)
	}
	return out, nil
}

func TestTile(t *testing.T) {
	z, _ := Grid(GridSpec{N: 3, Latent: 2, Span: 1})
	img, err := Tile(shade{}, z, imaging.GridOptions{Cols: 3, Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	if g.Rect.Dx() != 10 || g.Rect.Dy() != 10 {
		t.Fatalf("size %v", g.Rect)
	}
	// Tile (row 0, col 0) is z = (-1, 1): 128 - 30 + 3 = 101; tile (2, 2) is (1, -1): 155.
	if v := g.Pix[1*g.Stride+1]; v != 101 {
		t.Errorf("top-left tile %d, want 101", v)
	}
	if v := g.Pix[7*g.Stride+7]; v != 155 {
		t.Errorf("bottom-right tile %d, want 155", v)
	}
}
