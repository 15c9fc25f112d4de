package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// smallBenchShapes are batch-1 (and small-batch) products: an LSTM step of hidden 128 (gates
// 4*128 from h, and from a 60-character one-hot), a char-LSTM head, VGG19's fc7 (fc6 with its
// 411 MB of weights is memory-bound), each with B stored n×k (transB, ONNX Gemm and LSTM
// weights) and k×n (MatMul).
var smallBenchShapes = []struct {
	name    string
	m, n, k int
}{
	{"lstm_h128", 1, 512, 128},
	{"lstm_x60", 1, 512, 60},
	{"head_60x128", 1, 60, 128},
	{"fc_4096", 1, 4096, 4096},
	{"fc6_25088", 1, 4096, 25088},
	{"m2_lstm_h128", 2, 512, 128},
	{"m4_lstm_h128", 4, 512, 128},
	{"m4_512", 4, 512, 512},
	{"m4_fc_4096", 4, 4096, 4096},
}

// BenchmarkSgemmSmall times the small-M path against the blocked product (which packs B on
// every call) for each kernel family, with B stored n×k (transB) and k×n, one thread.
// GFLOP/s = 2mnk per call over wall time.
// Example: go test -run '^$' -bench 'SgemmSmall/avx2' ./kernels
func BenchmarkSgemmSmall(b *testing.B) {
	for _, kern := range smallKernels() {
		for _, s := range smallBenchShapes {
			for _, tb := range []bool{true, false} {
				for _, path := range []string{"small", "blocked"} {
					if s.k*s.n > 1<<24 && path == "blocked" && kern == genericKernel {
						continue
					}
					b.Run(fmt.Sprintf("%s/%s/transB=%v/%s", kern.name, s.name, tb, path), func(b *testing.B) {
						r := rand.New(rand.NewPCG(1, 2))
						a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
						ldb := s.n
						if tb {
							ldb = s.k
						}
						f := sgemm
						if path == "small" {
							f = sgemmSmall
						}
						f(kern, false, tb, s.m, s.n, s.k, 1, a, s.k, bb, ldb, 0, c, s.n)
						b.ReportAllocs()
						b.ResetTimer()
						for b.Loop() {
							f(kern, false, tb, s.m, s.n, s.k, 1, a, s.k, bb, ldb, 0, c, s.n)
						}
						b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkAxpyStream times the two ways of the small-M path with B stored k×n (m = 1):
// column strips (axpyNN) and streaming by rows (axpyRows), around smallStreamFloats.
// Example: go test -run '^$' -bench AxpyStream ./kernels
func BenchmarkAxpyStream(b *testing.B) {
	for _, kern := range smallKernels() {
		if kern.axpyRows == nil {
			continue
		}
		for _, s := range [][2]int{{128, 512}, {256, 512}, {512, 512}, {1024, 1024}, {4096, 4096}, {25088, 4096}} {
			k, n := s[0], s[1]
			for _, way := range []string{"strips", "stream"} {
				b.Run(fmt.Sprintf("%s/k=%d/n=%d/%s", kern.name, k, n, way), func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					a, bb, c := randSlice(r, k), randSlice(r, k*n), make([]float32, n)
					ws := new(workspace)
					run := func() {
						if way == "strips" {
							kern.axpyNN(k, a, bb, n, n, c, 1, 0, false)
						} else {
							axpyStream(kern, 1, n, k, 1, a, k, bb, n, 0, c, n, ws)
						}
					}
					run()
					b.ResetTimer()
					for b.Loop() {
						run()
					}
					b.ReportMetric(2*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
