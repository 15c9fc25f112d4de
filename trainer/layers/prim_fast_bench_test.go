package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchGeoms are the convolutions of dcgan.DefaultConfig and vae.DefaultConfig at batch 32
// (MNIST, 28x28), named by layer; each is timed as its three primitives.
func benchGeoms() []struct {
	name string
	g    convGeom
} {
	const n = 32
	return []struct {
		name string
		g    convGeom
	}{
		// ConvTranspose 64->64 4x4 s2 "same": y [64, 14, 14] is the image, x [64, 7, 7] the columns.
		{"gan.gen.convT0", convGeom{N: n, C: 64, H: 14, W: 14, M: 64, OH: 7, OW: 7, KH: 4, KW: 4, SH: 2, SW: 2, PadT: 1, PadL: 1}},
		{"gan.gen.convT1", convGeom{N: n, C: 32, H: 28, W: 28, M: 64, OH: 14, OW: 14, KH: 4, KW: 4, SH: 2, SW: 2, PadT: 1, PadL: 1}},
		// Conv 32->1 5x5 s1 "same".
		{"gan.gen.out", convGeom{N: n, C: 32, H: 28, W: 28, M: 1, OH: 28, OW: 28, KH: 5, KW: 5, SH: 1, SW: 1, PadT: 2, PadL: 2}},
		// Conv 1->32 and 32->64, 4x4 s2 "same".
		{"gan.disc.conv0", convGeom{N: n, C: 1, H: 28, W: 28, M: 32, OH: 14, OW: 14, KH: 4, KW: 4, SH: 2, SW: 2, PadT: 1, PadL: 1}},
		{"gan.disc.conv1", convGeom{N: n, C: 32, H: 14, W: 14, M: 64, OH: 7, OW: 7, KH: 4, KW: 4, SH: 2, SW: 2, PadT: 1, PadL: 1}},
		// VAE: Conv 1->32, 32->64 3x3 s2 "same" (pads 0 before, 1 after); ConvTranspose
		// 64->64, 64->32 3x3 s2 (pads 0 before, 1 after); ConvTranspose 32->1 3x3 s1.
		{"vae.enc.conv0", convGeom{N: n, C: 1, H: 28, W: 28, M: 32, OH: 14, OW: 14, KH: 3, KW: 3, SH: 2, SW: 2}},
		{"vae.enc.conv1", convGeom{N: n, C: 32, H: 14, W: 14, M: 64, OH: 7, OW: 7, KH: 3, KW: 3, SH: 2, SW: 2}},
		{"vae.dec.convT0", convGeom{N: n, C: 64, H: 14, W: 14, M: 64, OH: 7, OW: 7, KH: 3, KW: 3, SH: 2, SW: 2}},
		{"vae.dec.convT1", convGeom{N: n, C: 32, H: 28, W: 28, M: 64, OH: 14, OW: 14, KH: 3, KW: 3, SH: 2, SW: 2}},
		{"vae.dec.out", convGeom{N: n, C: 1, H: 28, W: 28, M: 32, OH: 28, OW: 28, KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadL: 1}},
	}
}

// BenchmarkPrim times the float32 primitives on the models' geometries on each path: "fast"
// (prim_fast.go as it runs), "2d" (no row lowering: kernels.Conv on every geometry for
// toCols, im2col + SGEMM for the filter gradient; lowerRows off) and "explicit" (im2col +
// SGEMM, SGEMM + col2im, as before prim_fast.go; implicitConv off):
//
//	GOMAXPROCS=1 go test ./trainer/layers -run XXX -bench Prim
func BenchmarkPrim(b *testing.B) {
	for _, c := range benchGeoms() {
		g := c.g
		rng := rand.New(rand.NewPCG(1, 1))
		img, cols := randF32(rng, g.N*g.imageLen()), randF32(rng, g.N*g.colsLen())
		w, bias := randF32(rng, g.M*g.ckk()), randF32(rng, max(g.M, g.C))
		prims := []struct {
			name string
			fn   func()
		}{
			{"toCols", func() { batchToCols(g, img, w, bias[:g.M]) }},
			{"toImage", func() { batchToImage(g, cols, w, bias[:g.C]) }},
			{"filter", func() { batchFilter(g, img, cols) }},
		}
		for _, p := range prims {
			for _, mode := range []string{"fast", "2d", "explicit"} {
				b.Run(fmt.Sprintf("%s/%s/%s", c.name, p.name, mode), func(b *testing.B) {
					defer func(imp, low bool) { implicitConv, lowerRows = imp, low }(implicitConv, lowerRows)
					implicitConv, lowerRows = mode != "explicit", mode == "fast"
					p.fn()
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						p.fn()
					}
				})
			}
		}
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}
