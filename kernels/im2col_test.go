package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomGeometry draws a geometry over nd spatial dimensions with small sizes, pads that may
// exceed the dilated kernel or be negative, strides and dilations up to 3.
func randomGeometry(rng *rand.Rand, nd int) ConvGeometry {
	var g ConvGeometry
	g.Channels = 1 + rng.IntN(3)
	for i := range nd {
		in := 1 + rng.IntN(7)
		k := 1 + rng.IntN(3)
		s := 1 + rng.IntN(3)
		d := 1 + rng.IntN(3)
		pad := rng.IntN(4) - 1 // -1..2
		padEnd := rng.IntN(4) - 1
		ext := (k-1)*d + 1
		out := 0
		if span := in + pad + padEnd - ext; span >= 0 {
			out = span/s + 1
		}
		g.Set(nd, i, in, k, out, s, d, pad)
	}
	return g
}

// im2colRef is the definition of Im2col, one element at a time.
func im2colRef(g *ConvGeometry, img []float32) []float32 {
	rows, cols := g.ColRows(), g.ColCols()
	col := make([]float32, rows*cols)
	for c := range g.Channels {
		for kd := range g.Kernel[0] {
			for kh := range g.Kernel[1] {
				for kw := range g.Kernel[2] {
					r := ((c*g.Kernel[0]+kd)*g.Kernel[1]+kh)*g.Kernel[2] + kw
					for od := range g.Out[0] {
						for oh := range g.Out[1] {
							for ow := range g.Out[2] {
								id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
								ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
								iw := ow*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
								var v float32
								if id >= 0 && id < g.In[0] && ih >= 0 && ih < g.In[1] && iw >= 0 && iw < g.In[2] {
									v = img[((c*g.In[0]+id)*g.In[1]+ih)*g.In[2]+iw]
								}
								col[r*cols+(od*g.Out[1]+oh)*g.Out[2]+ow] = v
							}
						}
					}
				}
			}
		}
	}
	return col
}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// TestIm2colMatchesDefinition checks Im2col element by element on random 1-D, 2-D and 3-D
// geometries. The copy is exact, so the comparison is ==.
func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		nd := 1 + trial%3
		g := randomGeometry(rng, nd)
		img := randFloats(rng, g.ImageLen())
		want := im2colRef(&g, img)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = float32(math.NaN()) // Im2col must write every element
		}
		Im2col(&g, img, got)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d, geometry %+v: col[%d] = %v, want %v", trial, g, i, got[i], want[i])
			}
		}
	}
}

// TestCol2imIsAdjoint checks <Im2col(x), y> == <x, Col2im(y)> for random x and y. Col2im
// sums at most prod(Kernel) <= 27 float32 terms per element, each rounding by 2^-24
// relative, so both sides agree to 27*2^-24 ~ 1.6e-6 of sum|col*y|; 1e-5 leaves room.
func TestCol2imIsAdjoint(t *testing.T) {
	const rtol = 1e-5
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		nd := 1 + trial%3
		g := randomGeometry(rng, nd)
		x := randFloats(rng, g.ImageLen())
		y := randFloats(rng, g.ColRows()*g.ColCols())
		col := make([]float32, len(y))
		Im2col(&g, x, col)
		img := make([]float32, len(x))
		Col2im(&g, y, img)
		var lhs, rhs, scale float64
		for i := range col {
			lhs += float64(col[i]) * float64(y[i])
			scale += math.Abs(float64(col[i]) * float64(y[i]))
		}
		for i := range x {
			rhs += float64(x[i]) * float64(img[i])
		}
		if math.Abs(lhs-rhs) > rtol*scale {
			t.Fatalf("trial %d, geometry %+v: <Im2col(x), y> = %v, <x, Col2im(y)> = %v", trial, g, lhs, rhs)
		}
	}
}

// TestCol2imAccumulates checks that Col2im adds into its output instead of overwriting it:
// Col2im onto base equals base + Col2im onto zeros, up to one float32 rounding per element
// (|got-want| <= 2^-23*|want|, written as 1e-6 relative plus 1e-6 absolute).
func TestCol2imAccumulates(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 50 {
		g := randomGeometry(rng, 2)
		y := randFloats(rng, g.ColRows()*g.ColCols())
		base := randFloats(rng, g.ImageLen())
		got := append([]float32{}, base...)
		Col2im(&g, y, got)
		alone := make([]float32, len(base))
		Col2im(&g, y, alone)
		for i := range got {
			want := base[i] + alone[i]
			if d := math.Abs(float64(got[i] - want)); d > 1e-6*(1+math.Abs(float64(want))) {
				t.Fatalf("trial %d: img[%d] = %v, want base %v + %v", trial, i, got[i], base[i], alone[i])
			}
		}
	}
}

// TestCol2imMatchesDefinition checks Col2im against a scatter written from the definition.
// Sums of at most prod(Kernel) float32 terms in a different order: |got-want| <= 1e-5*(1+|want|).
func TestCol2imMatchesDefinition(t *testing.T) {
	const tol = 1e-5
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		nd := 1 + trial%3
		g := randomGeometry(rng, nd)
		col := randFloats(rng, g.ColRows()*g.ColCols())
		want := make([]float32, g.ImageLen())
		// Scatter: the adjoint of im2colRef's gather, element by element.
		ref := im2colIndex(&g)
		for i, src := range ref {
			if src >= 0 {
				want[src] += col[i]
			}
		}
		got := make([]float32, g.ImageLen())
		Col2im(&g, col, got)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("trial %d, geometry %+v: img[%d] = %v, want %v", trial, g, i, got[i], want[i])
			}
		}
	}
}

// im2colIndex returns, for each element of the column matrix, the image index it reads, or -1
// in the padding: im2colRef applied to the identity.
func im2colIndex(g *ConvGeometry) []int {
	img := make([]float32, g.ImageLen())
	for i := range img {
		img[i] = float32(i + 1)
	}
	col := im2colRef(g, img)
	idx := make([]int, len(col))
	for i, v := range col {
		idx[i] = int(v) - 1
	}
	return idx
}

func TestIm2colPanicsOnShortSlices(t *testing.T) {
	var g ConvGeometry
	g.Channels = 1
	g.Set(2, 0, 3, 2, 2, 1, 1, 0)
	g.Set(2, 1, 3, 2, 2, 1, 1, 0)
	for name, f := range map[string]func(){
		"short image":  func() { Im2col(&g, make([]float32, 8), make([]float32, 16)) },
		"short col":    func() { Im2col(&g, make([]float32, 9), make([]float32, 15)) },
		"zero stride":  func() { h := g; h.Stride[2] = 0; Im2col(&h, make([]float32, 9), make([]float32, 16)) },
		"col2im short": func() { Col2im(&g, make([]float32, 15), make([]float32, 9)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkIm2col(b *testing.B) {
	// A VGG block-2 layer: 64 channels, 112x112, 3x3 kernel, pad 1.
	var g ConvGeometry
	g.Channels = 64
	g.Set(2, 0, 112, 3, 112, 1, 1, 1)
	g.Set(2, 1, 112, 3, 112, 1, 1, 1)
	rng := rand.New(rand.NewPCG(7, 8))
	img := randFloats(rng, g.ImageLen())
	col := make([]float32, g.ColRows()*g.ColCols())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Im2col(&g, img, col)
	}
}
