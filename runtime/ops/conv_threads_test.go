package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// TestConvThreads checks that Conv gives the same bits with 1, 2 and 3 threads on cases big
// enough for the parallel im2col and Sgemm (column matrices over 32768 elements), with
// groups, a batch, strides and padding, and that the result matches naiveConv.
func TestConvThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases := []convCase{
		{n: 1, group: 1, cg: 8, mg: 6, in: []int{24, 24}, kernel: []int{3, 3}, strides: []int{1, 1}, dil: []int{1, 1}, autoPad: "NOTSET", pads: []int{1, 1, 1, 1}, bias: true},
		{n: 2, group: 2, cg: 5, mg: 3, in: []int{60, 54}, kernel: []int{3, 2}, strides: []int{1, 2}, dil: []int{1, 1}, autoPad: "NOTSET", pads: []int{2, 0, 1, 1}, bias: false},
		{n: 1, group: 1, cg: 3, mg: 4, in: []int{9, 16, 16}, kernel: []int{2, 3, 3}, strides: []int{1, 1, 1}, dil: []int{1, 2, 1}, autoPad: "NOTSET", pads: []int{0, 1, 1, 0, 1, 1}, bias: true},
	}
	for ci, c := range cases {
		op := nnMustBuild(t, newConv, c.node())
		x := nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...)
		w := nnRandom(rng, append([]int{c.group * c.mg, c.cg}, c.kernel...)...)
		in := []*tensor.Tensor{x, w}
		var b *tensor.Tensor
		if c.bias {
			b = nnRandom(rng, c.group*c.mg)
			in = append(in, b)
		}
		var ref []float32
		for _, threads := range []int{1, 2, 3} {
			y := &tensor.Tensor{}
			if err := op.Run(&Ctx{Threads: threads}, in, []*tensor.Tensor{y}); err != nil {
				t.Fatalf("case %d, %d threads: %v", ci, threads, err)
			}
			if threads == 1 {
				ref = y.F32()
				_, want, mag := naiveConv(&c, x, w, b)
				for i, g := range ref {
					if math.Abs(float64(g)-want[i]) > convATol+convRTol*mag[i] {
						t.Fatalf("case %d: y[%d] = %v, want %v", ci, i, g, want[i])
					}
				}
				continue
			}
			for i, g := range y.F32() {
				if math.Float32bits(g) != math.Float32bits(ref[i]) {
					t.Fatalf("case %d, %d threads: y[%d] = %v, 1 thread %v", ci, threads, i, g, ref[i])
				}
			}
		}
	}
}
