package gonumblas

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkSgemm compares gonum's Sgemm with Implementation's on the products of a Gorgonia
// char-LSTM training step (hidden 128, batch 128: forward R·h, and the two gradient
// products) and of a conv step (im2col·filters).
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{blas.NoTrans, blas.NoTrans, 512, 128, 128},
		{blas.NoTrans, blas.Trans, 512, 128, 128},
		{blas.Trans, blas.NoTrans, 128, 128, 512},
		{blas.NoTrans, blas.Trans, 12544, 32, 144},
	}
	impls := []struct {
		name string
		impl blas.Float32
	}{{"gonum", gonum.Implementation{}}, {"gendl", Implementation{}}}
	for _, s := range shapes {
		ar, ac := stored(s.tA, s.m, s.k)
		br, bc := stored(s.tB, s.k, s.n)
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, ar*ac), randSlice(rng, br*bc), make([]float32, s.m*s.n)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%c%c_%dx%dx%d/blas=%s", s.tA, s.tB, s.m, s.n, s.k, im.name), func(b *testing.B) {
				for range b.N {
					im.impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ac, bb, bc, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
