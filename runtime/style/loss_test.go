package style

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Float64 references of the book's loss terms, written from the book's Keras code (Chollet,
// Deep Learning with Python, 1st ed., listing 8.x: content_loss, gram_matrix, style_loss,
// total_variation_loss) with plain loops; the float32 implementations' values and gradients
// are checked against them and against their central finite differences.

func refContent(f, p []float64) float64 {
	var s float64
	for i := range f {
		d := f[i] - p[i]
		s += d * d
	}
	return s
}

func refGram(c, n int, f []float64) []float64 {
	g := make([]float64, c*c)
	for i := range c {
		for j := range c {
			var s float64
			for k := range n {
				s += f[i*n+k] * f[j*n+k]
			}
			g[i*c+j] = s
		}
	}
	return g
}

func refStyle(c, n int, f, target []float64, norm float64) float64 {
	g := refGram(c, n, f)
	var s float64
	for i := range g {
		d := g[i] - target[i]
		s += d * d
	}
	return s / (4 * norm * norm)
}

func refTV(ch, h, w int, x []float64) float64 {
	var s float64
	for c := range ch {
		at := func(i, j int) float64 { return x[(c*h+i)*w+j] }
		for i := 0; i < h-1; i++ {
			for j := 0; j < w-1; j++ {
				a := math.Pow(at(i, j)-at(i+1, j), 2)
				b := math.Pow(at(i, j)-at(i, j+1), 2)
				s += math.Pow(a+b, 1.25)
			}
		}
	}
	return s
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func randVec(rng *rand.Rand, n int, lo, hi float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float64()
	}
	return x
}

// fdCheck compares the gradient got (float32) with central differences of the float64
// function f at x, step h: |got - fd| <= atol + rtol*|fd| with atol relative to the largest
// finite difference.
func fdCheck(t *testing.T, name string, x []float64, got []float32, f func([]float64) float64, h, rtol, atolRel float64) {
	t.Helper()
	fd := make([]float64, len(x))
	maxFD := 0.0
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f(x)
		x[i] = old - h
		fm := f(x)
		x[i] = old
		fd[i] = (fp - fm) / (2 * h)
		maxFD = max(maxFD, math.Abs(fd[i]))
	}
	if maxFD == 0 {
		t.Fatalf("%s: all finite differences are 0: the check would be empty", name)
	}
	atol := atolRel * maxFD
	bad := 0
	for i := range x {
		if d := math.Abs(float64(got[i]) - fd[i]); d > atol+rtol*math.Abs(fd[i]) {
			if bad < 5 {
				t.Errorf("%s: element %d: gradient %.6g, finite difference %.6g (|diff| %.3g > %.3g + %.3g*|fd|)", name, i, got[i], fd[i], d, atol, rtol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements out of tolerance", name, bad, len(x))
	}
}

func TestContentTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 57
	f, p := randVec(rng, n, -3, 3), randVec(rng, n, -3, 3)
	const w = 0.7
	df := make([]float32, n)
	got := ContentTerm(to32(f), to32(p), w, df)
	want := refContent(f, p)
	// float32 inputs: relative error of the sum about 1e-6.
	if math.Abs(got-want) > 1e-5*want {
		t.Errorf("loss %v, want %v", got, want)
	}
	fdCheck(t, "content", f, df, func(x []float64) float64 { return w * refContent(x, p) }, 1e-4, 1e-4, 1e-5)
}

func TestStyleTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	for _, sz := range []struct{ c, n int }{{1, 1}, {3, 7}, {5, 23}, {17, 40}} {
		c, n := sz.c, sz.n
		f := randVec(rng, c*n, 0, 2) // post-Relu features are >= 0
		s := refGram(c, n, randVec(rng, c*n, 0, 2))
		norm := 3.0 * float64(n)
		const w = 1.3
		df := make([]float32, c*n)
		// accumulation: df starts non-zero, StyleTerm must add to it.
		for i := range df {
			df[i] = 0.25
		}
		got := StyleTerm(2, c, n, to32(f), to32(s), make([]float32, c*c), norm, w, df)
		for i := range df {
			df[i] -= 0.25
		}
		want := refStyle(c, n, f, s, norm)
		if math.Abs(got-want) > 1e-4*want+1e-12 {
			t.Errorf("c=%d n=%d: loss %v, want %v", c, n, got, want)
		}
		fdCheck(t, "style", f, df, func(x []float64) float64 { return w * refStyle(c, n, x, s, norm) }, 1e-5, 1e-3, 1e-4)
	}
}

func TestGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	c, n := 9, 31
	f := randVec(rng, c*n, -1, 1)
	g := make([]float32, c*c)
	Gram(2, c, n, to32(f), g)
	want := refGram(c, n, f)
	for i := range g {
		if d := math.Abs(float64(g[i]) - want[i]); d > 1e-5*float64(n) {
			t.Fatalf("gram[%d] = %v, want %v", i, g[i], want[i])
		}
	}
}

func TestTotalVariation(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, sz := range []struct{ ch, h, w int }{{1, 1, 1}, {1, 2, 2}, {3, 5, 7}, {2, 9, 4}} {
		x := randVec(rng, sz.ch*sz.h*sz.w, 0, 255)
		if len(x) > 3 {
			x[3] = x[2] // a flat pair: a + b may be 0 nowhere, but equal neighbours are fine
		}
		const w = 0.01
		dx := make([]float32, len(x))
		got := TotalVariation(sz.ch, sz.h, sz.w, to32(x), w, dx)
		want := refTV(sz.ch, sz.h, sz.w, x)
		// Inputs rounded to float32: relative 1e-7 per pixel difference.
		if math.Abs(got-want) > 1e-5*want+1e-9 {
			t.Errorf("%v: loss %v, want %v", sz, got, want)
		}
		if sz.h < 2 || sz.w < 2 {
			if got != 0 {
				t.Errorf("%v: a one-pixel-wide image has total variation %v, want 0", sz, got)
			}
			continue
		}
		fdCheck(t, "tv", x, dx, func(v []float64) float64 { return w * refTV(sz.ch, sz.h, sz.w, v) }, 1e-3, 1e-3, 1e-4)
	}
	// A constant image: loss 0, gradient 0 (not NaN: (a+b)^0.25 at 0).
	x := make([]float32, 3*4*5)
	for i := range x {
		x[i] = 100
	}
	dx := make([]float32, len(x))
	if l := TotalVariation(3, 4, 5, x, 1, dx); l != 0 {
		t.Errorf("constant image: loss %v", l)
	}
	for i, v := range dx {
		if v != 0 {
			t.Fatalf("constant image: gradient[%d] = %v", i, v)
		}
	}
}
