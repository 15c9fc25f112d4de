package dream

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// TestLayerLossValue checks LayerLoss against the book's formula written out in float64:
// sum(v[:, :, b:-b, b:-b]^2) / numel(v) (Keras: activation[:, 2:-2, 2:-2, :] in NHWC).
func TestLayerLossValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		shape  []int
		border int
	}{{[]int{1, 3, 7, 9}, 2}, {[]int{2, 4, 6, 5}, 1}, {[]int{1, 2, 5, 5}, 0}, {[]int{1, 2, 4, 9}, 2}, {[]int{3, 5}, 2}} {
		v := tensor.New(tensor.Float32, tc.shape...)
		for i := range v.F32() {
			v.F32()[i] = float32(rng.NormFloat64())
		}
		seed := tensor.New(tensor.Float32, tc.shape...)
		got, err := LayerLoss(v, seed, 1, tc.border)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		if len(tc.shape) == 4 {
			N, C, H, W := tc.shape[0], tc.shape[1], tc.shape[2], tc.shape[3]
			for n := range N {
				for c := range C {
					for y := tc.border; y < H-tc.border; y++ {
						for x := tc.border; x < W-tc.border; x++ {
							a := float64(v.F32()[((n*C+c)*H+y)*W+x])
							want += a * a
						}
					}
				}
			}
		} else {
			for _, a := range v.F32() {
				want += float64(a) * float64(a)
			}
		}
		want /= float64(v.Len())
		// Both sum the same float64 squares, in a different order: 1e-12 relative.
		if !closeTo(got, want, 0, 1e-12) {
			t.Errorf("%v border %d: loss %v, want %v", tc.shape, tc.border, got, want)
		}
	}
}

// TestLayerLossGradientFD checks the seed LayerLoss adds against central differences of
// LayerLoss itself. Values are multiples of 1/1024 and h = 1/64, so v±h is exact in float32
// and the loss (float64 sums of exact float32 squares) is quadratic: the difference quotient
// equals the derivative up to float64 rounding.
func TestLayerLossGradientFD(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	shape := []int{1, 2, 6, 7}
	const border, scale, h = 2, 1.7, 1.0 / 64
	v := tensor.New(tensor.Float32, shape...)
	for i := range v.F32() {
		v.F32()[i] = float32(rng.IntN(2048)-1024) / 1024
	}
	seed := tensor.New(tensor.Float32, shape...)
	for i := range seed.F32() {
		seed.F32()[i] = 0.25 // LayerLoss adds: the old contents must stay
	}
	if _, err := LayerLoss(v, seed, scale, border); err != nil {
		t.Fatal(err)
	}
	scratch := tensor.New(tensor.Float32, shape...)
	f := func() float64 {
		l, err := LayerLoss(v, scratch, 1, border)
		if err != nil {
			t.Fatal(err)
		}
		return scale * l
	}
	for i := range v.F32() {
		x := v.F32()[i]
		v.F32()[i] = x + h
		lp := f()
		v.F32()[i] = x - h
		lm := f()
		v.F32()[i] = x
		want := 0.25 + (lp-lm)/(2*h)
		got := float64(seed.F32()[i])
		// float32 seed: 1e-6 relative.
		if !closeTo(got, want, 1e-7, 1e-6) {
			t.Errorf("element %d: gradient %v, finite difference %v", i, got, want)
		}
	}
	// Inside the border the derivative is 2*scale*v/numel, outside 0 (only the 0.25 added to).
	H, W := shape[2], shape[3]
	for y := range H {
		for x := range W {
			i := y*W + x
			in := y >= border && y < H-border && x >= border && x < W-border
			if !in && seed.F32()[i] != 0.25 {
				t.Errorf("(%d,%d) is in the border but got gradient %v", y, x, seed.F32()[i]-0.25)
			}
		}
	}
}

func TestLayerLossEdges(t *testing.T) {
	v := tensor.New(tensor.Float32, 1, 1, 4, 4)
	for i := range v.F32() {
		v.F32()[i] = 1
	}
	s := tensor.New(tensor.Float32, 1, 1, 4, 4)
	// A 4x4 activation with a 2-pixel border has nothing left.
	if l, err := LayerLoss(v, s, 1, 2); err != nil || l != 0 {
		t.Errorf("4x4, border 2: loss %v, %v; want 0", l, err)
	}
	if _, err := LayerLoss(v, tensor.New(tensor.Float32, 1, 1, 4, 5), 1, 2); err == nil {
		t.Error("mismatched seed: no error")
	}
	if _, err := LayerLoss(v, s, 1, -1); err == nil {
		t.Error("negative border: no error")
	}
}

func TestParseLayers(t *testing.T) {
	ls, err := ParseLayers("mixed2=0.2, mixed3=3,mixed4=2,mixed5=1.5")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FormatLayers(ls), FormatLayers(DefaultLayers()); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if ls, err := ParseLayers("mixed4"); err != nil || len(ls) != 1 || ls[0].Weight != 1 {
		t.Errorf("a bare name: %v %v, want weight 1", ls, err)
	}
	for _, bad := range []string{"", "mixed2=x", "mixed2=NaN", "mixed2=1,mixed2=2", "=3"} {
		if _, err := ParseLayers(bad); err == nil || !strings.HasPrefix(err.Error(), "dream: ") {
			t.Errorf("ParseLayers(%q): want a dream: error, got %v", bad, err)
		}
	}
}

func TestNaturalOrder(t *testing.T) {
	names := []string{"mixed10", "conv2d_2", "mixed2", "conv2d_10", "mixed0"}
	got := layerNames(names)
	if want := "conv2d_2, conv2d_10, mixed0, mixed2, mixed10"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	names = []string{"mixed3", "relu", "mixed1", "mixed0", "mixed2", "conv2d_7", "conv2d_9", "conv2d_8", "x01", "x02", "x03"}
	got = layerNames(names)
	if want := "conv2d_7..conv2d_9, mixed0..mixed3, relu, x01, x02, x03"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestLossGradientFD checks the whole loss's gradient with respect to the image (the layer
// terms here, the network's backward in runtime/grad) against central differences of the
// loss along directions: the gradient itself (the largest change) and random ones. The
// model is the smooth tiny Inception (Tanh, average pools: no kinks); the network runs in
// float32, so the quotient carries about 1e-7*loss/h of rounding: 1% is a loose bound for it.
func TestLossGradientFD(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 3, Smooth: true})
	d := newDreamer(t, m, func(o *Options) { o.TileSize = 0 })
	img := randImage(48, 56, 4)
	loss, g := lossGrad(t, d, img, 1)
	if !(loss > 0) {
		t.Fatalf("loss %v", loss)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	dirs := []*tensor.Tensor{g.Clone()}
	for range 2 {
		u := tensor.New(tensor.Float32, img.Shape...)
		for i := range u.F32() {
			u.F32()[i] = float32(rng.NormFloat64())
		}
		dirs = append(dirs, u)
	}
	for k, u := range dirs {
		var norm float64
		for _, v := range u.F32() {
			norm += float64(v) * float64(v)
		}
		norm = math.Sqrt(norm)
		const h = 0.05 // image units: 2.5% of the [-1, 1] range, along a unit direction
		at := func(s float64) float64 {
			x := img.Clone()
			for i, v := range u.F32() {
				x.F32()[i] += float32(s * float64(v) / norm)
			}
			l, _ := lossGrad(t, d, x, 1)
			return l
		}
		fd := (at(h) - at(-h)) / (2 * h)
		var dot float64
		for i, v := range u.F32() {
			dot += float64(v) / norm * float64(g.F32()[i])
		}
		t.Logf("direction %d: <grad, u> %.6g, finite difference %.6g", k, dot, fd)
		if !closeTo(dot, fd, 1e-5*loss, 0.01) {
			t.Errorf("direction %d: <grad, u> = %v, finite difference %v", k, dot, fd)
		}
	}
}
