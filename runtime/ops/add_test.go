package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestAddRandom(t *testing.T) {
	op := mtMustBuild(t, newAdd, mtNode("Add", 14, mtInputs(2)))
	// Go's integer arithmetic wraps like the two's complement C and numpy use.
	mtCheckArith(t, op, func(a, b float64) float64 { return a + b }, func(a, b int64) int64 { return a + b }, func(r *rand.Rand) int64 { return r.Int64() })
}

func TestAddErrors(t *testing.T) { mtCheckBinaryErrors(t, newAdd, "Add") }

// BenchmarkAdd measures the broadcast kinds: same shape (one run), a per-channel bias
// [C, 1, 1] on [N, C, H, W] (runs of H*W), and a row vector on a matrix (runs of the row).
func BenchmarkAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	op := mtMustBuild(b, newAdd, mtNode("Add", 14, mtInputs(2)))
	for _, c := range []struct {
		name string
		a, b []int
	}{
		{"same-1x64x56x56", []int{1, 64, 56, 56}, []int{1, 64, 56, 56}},
		{"bias-1x64x56x56", []int{1, 64, 56, 56}, []int{64, 1, 1}},
		{"row-3136x64", []int{3136, 64}, []int{64}},
	} {
		x, y := mtRandom(tensor.Float32, c.a, rng.NormFloat64), mtRandom(tensor.Float32, c.b, rng.NormFloat64)
		b.Run(c.name, func(b *testing.B) {
			in, out := []*tensor.Tensor{x, y}, []*tensor.Tensor{{}}
			ctx := &Ctx{Threads: 1}
			b.ReportAllocs()
			b.SetBytes(int64(4 * x.Len()))
			for b.Loop() {
				if err := op.Run(ctx, in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
