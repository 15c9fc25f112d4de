package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convRef is the definition of Conv: float64 sums over the taps of im2colRef's columns, the
// bias, then Relu. It also returns, per output element, the sum of the terms' magnitudes
// (for the tolerance).
func convRef(g *ConvGeometry, m int, w, img, bias []float32, relu bool) (want, mag []float64) {
	col := im2colRef(g, img)
	k, n := g.ColRows(), g.ColCols()
	want, mag = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, a float64
			if bias != nil {
				s, a = float64(bias[i]), math.Abs(float64(bias[i]))
			}
			for p := range k {
				t := float64(w[i*k+p]) * float64(col[p*n+j])
				s += t
				a += math.Abs(t)
			}
			if relu && s < 0 {
				s = 0
			}
			want[i*n+j], mag[i*n+j] = s, a
		}
	}
	return want, mag
}

// testConvKernels is testKernels with the SIMD kernels' packing also disabled one piece at a
// time, so that the gather, the contiguous-rows packing and the portable packing each run on
// this machine, with default and tiny cache blocks.
func testConvKernels() []*microKernel {
	var ks []*microKernel
	for _, k := range testKernels() {
		ks = append(ks, k)
		if k.packRows16 != nil {
			noRows := *k
			noRows.name += "-gatheronly"
			noRows.packRows16 = nil
			goPack := noRows
			goPack.name = k.name + "-gopack-noep"
			goPack.packGather16, goPack.fnEp = nil, nil
			ks = append(ks, &noRows, &goPack)
		}
	}
	return ks
}

// checkConv runs conv with kern on threads 1, 2 and 3 (split at any size) and compares with
// convRef; all thread counts must agree bitwise. Tolerance: float32 sums of k products of
// magnitude sum mag err by at most about k*eps*mag; |got-want| <= 1e-6 + 4*(k+1)*eps32*mag.
func checkConv(t *testing.T, kern *microKernel, g *ConvGeometry, m int, w, img, bias []float32, relu bool) {
	t.Helper()
	want, mag := convRef(g, m, w, img, bias, relu)
	n := g.ColCols()
	var first []float32
	for _, threads := range []int{1, 2, 3} {
		out := randSlice(rand.New(rand.NewPCG(9, uint64(threads))), m*n) // garbage: every element must be written
		conv(kern, threads, 0, g, m, w, img, bias, relu, false, out)
		eps := float64(math.Nextafter32(1, 2) - 1)
		for i := range want {
			tol := 1e-6 + 4*float64(g.ColRows()+1)*eps*mag[i]
			if d := math.Abs(float64(out[i]) - want[i]); !(d <= tol) {
				t.Fatalf("%s threads=%d geometry %+v m=%d bias=%v relu=%v: out[%d] (row %d col %d) = %v, want %v (tolerance %.3g)",
					kern.name, threads, *g, m, bias != nil, relu, i, i/n, i%n, out[i], want[i], tol)
			}
		}
		if first == nil {
			first = out
			continue
		}
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(first[i]) {
				t.Fatalf("%s geometry %+v: threads=%d gives out[%d] = %v, threads=1 gives %v", kern.name, *g, threads, i, out[i], first[i])
			}
		}
	}
}

// TestConvProperty compares Conv with its definition on random 1-D, 2-D and 3-D geometries
// (strides, dilations, pads up to 2 and negative, images smaller than the window), random
// output channel counts (1, odd, around the 6-row tile), with and without bias and Relu, on
// every kernel and packing variant.
func TestConvProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range testConvKernels() {
		for it := range 60 {
			nd := 1 + it%3
			g := randomGeometry(rng, nd)
			if it%5 == 0 { // wider images, so that panels have interior lanes
				g.Set(nd, nd-1, 20+rng.IntN(30), 3, 0, 1, 1, 1)
				g.Out[MaxSpatial-1] = g.In[MaxSpatial-1]
			}
			m := []int{1, 2, 5, 6, 7, 13}[rng.IntN(6)]
			w := randSlice(rng, m*g.ColRows())
			img := randSlice(rng, g.ImageLen())
			var bias []float32
			if rng.IntN(2) == 0 {
				bias = randSlice(rng, m)
			}
			checkConv(t, kern, &g, m, w, img, bias, rng.IntN(2) == 0)
		}
	}
}

// TestConvVGGShapes runs the 3x3 pad-1 convolutions VGG19 is made of, scaled down in area but
// with real channel counts where they matter: K beyond one 256-deep k block, M beyond one
// 144-row m block, widths whose panels cross output rows (14, 28) and align with them (32),
// and a strided and a 1x1 case.
func TestConvVGGShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct{ c, m, h, w, k, s, pad int }{
		{3, 64, 16, 32, 3, 1, 1},
		{64, 16, 8, 32, 3, 1, 1},
		{40, 150, 6, 14, 3, 1, 1},
		{64, 7, 10, 28, 3, 1, 1},
		{8, 9, 17, 33, 3, 2, 1},
		{33, 20, 9, 19, 1, 1, 0},
	}
	for _, kern := range testConvKernels() {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%+v", kern.name, c), func(t *testing.T) {
				var g ConvGeometry
				g.Channels = c.c
				g.Set(2, 0, c.h, c.k, (c.h+2*c.pad-c.k)/c.s+1, c.s, 1, c.pad)
				g.Set(2, 1, c.w, c.k, (c.w+2*c.pad-c.k)/c.s+1, c.s, 1, c.pad)
				w := randSlice(rng, c.m*g.ColRows())
				img := randSlice(rng, g.ImageLen())
				checkConv(t, kern, &g, c.m, w, img, randSlice(rng, c.m), true)
			})
		}
	}
}

// TestConvNaN pins the epilogue's Relu on NaN: NaN stays NaN (as max(x, 0) in the Relu op),
// on the micro-kernel's full tiles and on the merged partial ones.
func TestConvNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kern := range testConvKernels() {
		var g ConvGeometry
		g.Channels = 2
		g.Set(2, 0, 5, 3, 5, 1, 1, 1)
		g.Set(2, 1, 37, 3, 37, 1, 1, 1)
		m := 7
		w, img, bias := randSlice(rng, m*g.ColRows()), randSlice(rng, g.ImageLen()), randSlice(rng, m)
		bias[0], bias[6] = float32(math.NaN()), float32(math.NaN()) // a full tile's row, a partial tile's row
		out := make([]float32, m*g.ColCols())
		conv(kern, 1, 0, &g, m, w, img, bias, true, false, out)
		for i, v := range out {
			row := i / g.ColCols()
			if isNaN := v != v; isNaN != (row == 0 || row == 6) {
				t.Fatalf("%s: out[%d] (row %d) = %v", kern.name, i, row, v)
			}
		}
	}
}

// TestConvNoTaps covers K = 0 (no input channels): the output is the bias, through Relu.
func TestConvNoTaps(t *testing.T) {
	var g ConvGeometry
	g.Set(2, 0, 3, 2, 2, 1, 1, 0)
	g.Set(2, 1, 3, 2, 2, 1, 1, 0)
	out := []float32{9, 9, 9, 9, 9, 9, 9, 9}
	Conv(1, &g, 2, nil, nil, []float32{-1, 2}, ActRelu, out)
	want := []float32{0, 0, 0, 0, 2, 2, 2, 2}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("out = %v, want %v", out, want)
		}
	}
}

// TestConvPanicsOnShortSlices: sizes are programming errors, reported by a panic naming Conv.
func TestConvPanicsOnShortSlices(t *testing.T) {
	var g ConvGeometry
	g.Channels = 2
	g.Set(2, 0, 4, 3, 2, 1, 1, 0)
	g.Set(2, 1, 4, 3, 2, 1, 1, 0)
	for name, f := range map[string]func(){
		"image": func() { Conv(1, &g, 1, make([]float32, 18), make([]float32, 31), nil, ActNone, make([]float32, 4)) },
		"w":     func() { Conv(1, &g, 1, make([]float32, 17), make([]float32, 32), nil, ActNone, make([]float32, 4)) },
		"out":   func() { Conv(1, &g, 1, make([]float32, 18), make([]float32, 32), nil, ActNone, make([]float32, 3)) },
		"bias": func() {
			Conv(1, &g, 2, make([]float32, 36), make([]float32, 32), []float32{1}, ActNone, make([]float32, 8))
		},
		"act": func() {
			Conv(1, &g, 1, make([]float32, 18), make([]float32, 32), nil, Activation(7), make([]float32, 4))
		},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s too short: no panic", name)
				} else if s := fmt.Sprint(r); len(s) < 14 || s[:14] != "kernels: Conv:" {
					t.Errorf("%s: panic %q does not name kernels: Conv", name, s)
				}
			}()
			f()
		}()
	}
}

// TestConvAddProperty checks ConvAdd (conv with acc) against out0 + the definition on random
// geometries, every kernel and packing variant, bitwise equal for 1, 2 and 3 threads.
// Tolerance as checkConv's, the magnitude of out0 added to mag.
func TestConvAddProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	eps := float64(math.Nextafter32(1, 2) - 1)
	for _, kern := range testConvKernels() {
		for it := range 40 {
			nd := 1 + it%3
			g := randomGeometry(rng, nd)
			if it%4 == 0 {
				g.Set(nd, nd-1, 20+rng.IntN(30), 3, 0, 1, 1, 1)
				g.Out[MaxSpatial-1] = g.In[MaxSpatial-1]
			}
			m := []int{1, 5, 6, 7, 13}[rng.IntN(5)]
			w, img := randSlice(rng, m*g.ColRows()), randSlice(rng, g.ImageLen())
			out0 := randSlice(rng, m*g.ColCols())
			want, mag := convRef(&g, m, w, img, nil, false)
			var first []float32
			for _, threads := range []int{1, 2, 3} {
				out := append([]float32{}, out0...)
				conv(kern, threads, 0, &g, m, w, img, nil, false, true, out)
				for i := range want {
					tol := 1e-6 + 4*float64(g.ColRows()+2)*eps*(mag[i]+math.Abs(float64(out0[i])))
					if d := math.Abs(float64(out[i]) - (want[i] + float64(out0[i]))); !(d <= tol) {
						t.Fatalf("%s threads=%d geometry %+v m=%d: out[%d] = %v, want %v + %v (tolerance %.3g)",
							kern.name, threads, g, m, i, out[i], out0[i], want[i], tol)
					}
				}
				if first == nil {
					first = out
				} else if i := sameBits(out, first); i >= 0 {
					t.Fatalf("%s geometry %+v: threads=%d gives out[%d] = %v, threads=1 %v", kern.name, g, threads, i, out[i], first[i])
				}
			}
		}
	}
}
