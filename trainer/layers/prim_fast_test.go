package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// randomGeom returns a random convolution geometry: kernels 1-5, strides 1-3, pads up to
// the kernel size, odd and even image sizes, 1 to 40 channels on either side (so toImage
// takes both the sub-convolutions and, under subMinChannels image channels, the col2im
// path). Half are built as Conv2d builds them (image size and pads give the output), half as
// ConvTranspose2d does (the columns are its input; output padding can leave the image's
// last rows outside every window).
func randomGeom(rng *rand.Rand, maxN int) convGeom {
	channels := func() int {
		if rng.IntN(3) == 0 {
			return 1 + rng.IntN(4)
		}
		return 1 + rng.IntN(40)
	}
	for {
		kh, kw := 1+rng.IntN(5), 1+rng.IntN(5)
		sp := ConvSpec{Stride: [2]int{1 + rng.IntN(3), 1 + rng.IntN(3)}}
		sp.Pads = [4]int{rng.IntN(kh + 1), rng.IntN(kw + 1), rng.IntN(kh + 1), rng.IntN(kw + 1)}
		g := convGeom{N: 1 + rng.IntN(maxN), C: channels(), M: channels(), KH: kh, KW: kw, SH: sp.Stride[0], SW: sp.Stride[1], PadT: sp.Pads[0], PadL: sp.Pads[1]}
		var err error
		if rng.IntN(2) == 0 {
			g.H, g.W = 1+rng.IntN(13), 1+rng.IntN(13)
			g.OH, g.OW, err = ConvOutput(g.H, g.W, kh, kw, sp)
		} else {
			sp.OutputPadding = [2]int{rng.IntN(sp.Stride[0]), rng.IntN(sp.Stride[1])}
			g.OH, g.OW = 1+rng.IntN(8), 1+rng.IntN(8)
			g.H, g.W, err = ConvTransposeOutput(g.OH, g.OW, kh, kw, sp)
		}
		if err == nil {
			return g
		}
	}
}

// primInputs are random inputs of the three primitives of g, float32 values.
type primInputs struct {
	img, cols, w, biasM, biasC []float32
}

func newPrimInputs(g convGeom, rng *rand.Rand) primInputs {
	return primInputs{img: randF32(rng, g.N*g.imageLen()), cols: randF32(rng, g.N*g.colsLen()),
		w: randF32(rng, g.M*g.ckk()), biasM: randF32(rng, g.M), biasC: randF32(rng, g.C)}
}

// runPrims computes the three primitives in F: toCols (with bias), toImage (with bias) and the
// filter gradient.
func runPrims[F float](g convGeom, in primInputs, abs bool) [3][]F {
	conv := func(s []float32) []F {
		out := make([]F, len(s))
		for i, v := range s {
			if abs {
				v = float32(math.Abs(float64(v)))
			}
			out[i] = F(v)
		}
		return out
	}
	img, cols, w := conv(in.img), conv(in.cols), conv(in.w)
	return [3][]F{
		batchToCols(g, img, w, conv(in.biasM)),
		batchToImage(g, cols, w, conv(in.biasC)),
		batchFilter(g, img, cols),
	}
}

var primNames = [3]string{"toCols", "toImage", "filter"}

// primTerms is, per primitive, a bound on the number of products (and the bias) summed into
// one output element of g: CKK+1, M·KH·KW+1 and N·P plus the N-1 additions of the images'
// partial sums.
func primTerms(g convGeom) [3]int {
	return [3]int{g.ckk() + 1, g.M*g.KH*g.KW + 1, g.N*g.p() + g.N}
}

// checkPrims32 compares the float32 primitives of g with the float64 reference loops: a sum
// of K products of float32 values, accumulated in float32 in any order, is within
// γ_K·Σ|products| of the exact sum, γ_K = K·u/(1-K·u), u = 2^-24 (Higham, "Accuracy and
// Stability of Numerical Algorithms", 2nd ed., eq. 3.5; float32 products of float32 inputs
// and the float64 reference are exact to far below that), and Σ|products| is the reference
// on the inputs' absolute values.
func checkPrims32(t *testing.T, g convGeom, in primInputs) {
	t.Helper()
	checkAgainstReference(t, g, in, runPrims[float32](g, in, false))
}

// checkAgainstReference checks got (nil entries are skipped) as checkPrims32 does.
func checkAgainstReference(t *testing.T, g convGeom, in primInputs, got [3][]float32) {
	t.Helper()
	want := runPrims[float64](g, in, false)
	mag := runPrims[float64](g, in, true)
	const u = 1.0 / (1 << 24)
	for k, terms := range primTerms(g) {
		gamma := float64(terms) * u / (1 - float64(terms)*u)
		if got[k] == nil {
			continue
		}
		if len(got[k]) != len(want[k]) {
			t.Fatalf("%v: %s: %d values, want %d", g, primNames[k], len(got[k]), len(want[k]))
		}
		for i := range got[k] {
			if d := math.Abs(float64(got[k][i]) - want[k][i]); d > gamma*mag[k][i] {
				t.Fatalf("%v: %s: element %d = %g, want %g (|diff| %g > γ_%d·Σ|terms| = %g)",
					g, primNames[k], i, got[k][i], want[k][i], d, terms, gamma*mag[k][i])
			}
		}
	}
}

// withPaths runs f under every combination of the fast paths' switches: the row lowering
// on and off, and the sub-convolutions from 1 and from subMinChannels image channels.
func withPaths(t *testing.T, f func(t *testing.T)) {
	defer func(low bool, sub int) { lowerRows, subMinChannels = low, sub }(lowerRows, subMinChannels)
	subs := []int{subMinChannels, 1}
	for _, low := range []bool{true, false} {
		for _, sub := range subs {
			lowerRows, subMinChannels = low, sub
			t.Run(fmt.Sprintf("lower=%v/subMin=%d", low, sub), f)
		}
	}
}

// The float32 fast paths against the float64 reference loops on random geometries.
func TestPrimFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	for i := range 150 {
		g := randomGeom(rng, 10) // batches of more than filterChunk images too
		in := newPrimInputs(g, rng)
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			withPaths(t, func(t *testing.T) { checkPrims32(t, g, in) })
		})
	}
}

// The row lowering on every random geometry, whatever the extra work (the batch loops take
// it only where it pays: colsLowering, filterLowering).
func TestRowLoweringMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 3))
	for range 200 {
		g := randomGeom(rng, 10)
		in := newPrimInputs(g, rng)
		r := newRowLowering(g, math.Inf(1))
		var got [3][]float32
		got[0] = make([]float32, g.N*g.colsLen())
		colsLowered(g, r, in.img, in.w, in.biasM, got[0])
		chunks := (g.N + filterChunk - 1) / filterChunk
		partial := make([]float32, chunks*g.M*g.ckk())
		filterLowered(g, r, in.img, in.cols, partial)
		got[2] = partial[:g.M*g.ckk()]
		for ch := 1; ch < chunks; ch++ {
			for i, v := range partial[ch*len(got[2]) : (ch+1)*len(got[2])] {
				got[2][i] += v
			}
		}
		checkAgainstReference(t, g, in, got)
	}
}

// The models' own geometries (BenchmarkPrim), at batch 2.
func TestPrimFastModelGeometries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range benchGeoms() {
		g := c.g
		g.N = 2
		in := newPrimInputs(g, rng)
		t.Run(c.name, func(t *testing.T) {
			withPaths(t, func(t *testing.T) { checkPrims32(t, g, in) })
		})
	}
}

// The geometries each path is meant for are really taken: lowered and 2-D toCols and filter
// gradients, toImage by sub-convolutions (with a phase that has no taps) and by col2im.
func TestPrimFastPathsTaken(t *testing.T) {
	bench := map[string]convGeom{}
	for _, c := range benchGeoms() {
		bench[c.name] = c.g
	}
	for _, c := range []struct {
		name         string
		cols, filter bool
	}{
		{"gan.gen.out", true, true},      // 1 output channel, 5x5 stride 1
		{"gan.gen.convT1", false, true},  // 4x4 stride 2, 32 image channels
		{"gan.disc.conv0", false, false}, // 1 image channel: products 8 columns wide
		{"vae.enc.conv1", false, false},  // 3x3 stride 2: a third more taps lowered
	} {
		g := bench[c.name]
		if got := colsLowering(g) != nil; got != c.cols {
			t.Errorf("%s: toCols lowered %v, want %v", c.name, got, c.cols)
		}
		if got := filterLowering(g) != nil; got != c.filter {
			t.Errorf("%s: filter gradient lowered %v, want %v", c.name, got, c.filter)
		}
	}
	// kernel 1, stride 3: 3 times the taps lowered, and a stride that does not divide the
	// kernel.
	if g := (convGeom{N: 1, C: 4, H: 9, W: 9, M: 1, OH: 3, OW: 3, KH: 1, KW: 1, SH: 3, SW: 3}); colsLowering(g) != nil {
		t.Errorf("%v: toCols lowered", g)
	}
	k4s2 := bench["gan.gen.convT0"]
	p := newSubPlan(k4s2, make([]float32, k4s2.M*k4s2.ckk()))
	if p == nil || len(p.phases) != 4 {
		t.Fatalf("%v: sub-convolution plan %+v, want 4 phases", k4s2, p)
	}
	p.release()
	if p := newSubPlan(convGeom{N: 1, C: 8, H: 14, W: 14, M: 64, OH: 7, OW: 7, KH: 4, KW: 4, SH: 2, SW: 2, PadT: 1, PadL: 1}, nil); p != nil {
		t.Errorf("8 image channels: sub-convolutions, want col2im")
	}
	// kernel 1, stride 3, 1x1 columns, no pads: phase (0, 0) has the tap, the other 8 are
	// only the bias.
	g := convGeom{N: 1, C: 16, H: 3, W: 3, M: 2, OH: 1, OW: 1, KH: 1, KW: 1, SH: 3, SW: 3}
	p = newSubPlan(g, make([]float32, g.M*g.ckk()))
	if p == nil || len(p.phases) != 9 || p.phases[0].k == 0 || p.phases[1].k != 0 {
		t.Fatalf("%v: sub-convolution plan %+v, want 9 phases, only the first with taps", g, p)
	}
	p.release()
}

// The batch loops split images over GOMAXPROCS goroutines, and the filter gradient sums
// fixed chunks of images in order: results are bitwise the same with 1 and 3 threads.
func TestPrimFastIndependentOfThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	geoms := []convGeom{benchGeoms()[0].g, benchGeoms()[2].g, benchGeoms()[6].g}
	for range 20 {
		geoms = append(geoms, randomGeom(rng, 19))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for i, g := range geoms {
		g.N = max(g.N, 3)
		in := newPrimInputs(g, rng)
		withPaths(t, func(t *testing.T) {
			var ref [3][]float32
			for _, procs := range []int{1, 3} {
				runtime.GOMAXPROCS(procs)
				got := runPrims[float32](g, in, false)
				if procs == 1 {
					ref = got
					continue
				}
				for k := range got {
					for j := range got[k] {
						if math.Float32bits(got[k][j]) != math.Float32bits(ref[k][j]) {
							t.Fatalf("geometry %d %v: %s element %d: %g with 3 threads, %g with 1", i, g, primNames[k], j, got[k][j], ref[k][j])
						}
					}
				}
			}
		})
	}
}

// The ops through Gorgonia on the fast paths: layers with enough channels for the
// sub-convolutions (16 and more image channels) and the row lowering (one output channel;
// the filter gradients of 4x4 stride-2 layers), float32 against float64, outputs and every
// gradient, with TestConvFloat32MatchesFloat64's tolerance (1e-4 relative to 1+|value|).
func TestConvFastPathsFloat32MatchesFloat64(t *testing.T) {
	const tol = 1e-4
	up := SameTransposeSpec([2]int{4, 4}, [2]int{2, 2})
	cases := []convCase{
		// ConvTranspose 20->17 4x4 stride 2 "same": forward by sub-convolutions, filter
		// gradient lowered.
		{true, 2, 20, 5, 4, 17, 4, 4, up},
		// Conv 18->1 5x5: forward lowered, input gradient by one sub-convolution, filter
		// gradient lowered.
		{false, 2, 18, 9, 7, 1, 5, 5, ConvSpec{Stride: [2]int{1, 1}, Pads: [4]int{2, 2, 2, 2}}},
		// Conv 16->20 4x4 stride 2: input gradient by sub-convolutions, filter gradient
		// lowered.
		{false, 3, 16, 8, 9, 20, 4, 4, ConvSpec{Stride: [2]int{2, 2}, Pads: SamePads([2]int{8, 9}, [2]int{4, 4}, [2]int{2, 2})}},
		// ConvTranspose 3->24 3x3, strides 3 and 2, output padding: image rows that no
		// window reaches (only the bias).
		{true, 1, 3, 4, 4, 24, 3, 3, ConvSpec{Stride: [2]int{3, 2}, Pads: [4]int{1, 0, 2, 1}, OutputPadding: [2]int{2, 1}}},
	}
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			v64 := c.values(tensor.Float64, uint64(i))
			var v32 []*tensor.Dense
			for _, v := range v64 {
				v32 = append(v32, convert(v, tensor.Float32))
			}
			grad := []bool{true, true, true}
			n64 := newNet(t, v64, grad, c.build, uint64(i))
			n32 := newNet(t, v32, grad, c.build, uint64(i))
			n64.run(t)
			n32.run(t)
			if d := maxRelDiff(toF64(n32.out.Value()), toF64(n64.out.Value())); d > tol {
				t.Errorf("output: float32 and float64 differ by %g (relative), want <= %g", d, tol)
			}
			for k := range n64.grads {
				if d := maxRelDiff(toF64(n32.grads[k].Value()), toF64(n64.grads[k].Value())); d > tol {
					t.Errorf("gradient %d: float32 and float64 differ by %g, want <= %g", k, d, tol)
				}
			}
		})
	}
}
