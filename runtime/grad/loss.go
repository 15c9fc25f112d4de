package grad

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// MeanSquare is DeepDream's activation loss on one layer: it returns mean(v²) over the
// elements of v (accumulated in float64) and ADDS weight times its gradient, weight*2v/n,
// into seed (of v's shape), so that several layers' terms can share Step's seeds. An empty
// v has loss 0.
func MeanSquare(v, seed *tensor.Tensor, weight float64) (float64, error) {
	if v.DType != tensor.Float32 || seed.DType != tensor.Float32 || !tensor.SameShape(v.Shape, seed.Shape) {
		return 0, fmt.Errorf("grad: MeanSquare: want float32 value and seed of one shape, got %v and %v", v, seed)
	}
	n := v.Len()
	if n == 0 {
		return 0, nil
	}
	var sum float64
	k := float32(2 * weight / float64(n))
	s := seed.F32()
	for i, x := range v.F32() {
		sum += float64(x) * float64(x)
		s[i] += k * x
	}
	return sum / float64(n), nil
}
