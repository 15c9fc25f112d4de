package style

import (
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/runtime/tensor"
)

// randomImage returns a smooth random RGB image [1, 3, h, w] in [0, 255].
func randomImage(h, w int, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := tensor.New(tensor.Float32, 1, 3, h, w)
	x := t.F32()
	for c := range 3 {
		fx, fy, ph := 1+rng.Float64()*4, 1+rng.Float64()*4, rng.Float64()*6
		for i := range h {
			for j := range w {
				v := 127.5 + 100*math.Sin(fx*float64(j)/float64(w)*2*math.Pi+ph)*math.Sin(fy*float64(i)/float64(h)*2*math.Pi) + 20*(rng.Float64()-0.5)
				x[(c*h+i)*w+j] = float32(min(max(v, 0), 255))
			}
		}
	}
	return t
}
