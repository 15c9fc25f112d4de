package vae

import (
	"math"

	"github.com/gendl/gendl/models/vae"
)

// perImageLoss returns, for the first n images of a batch, the BCE (summed over pixels) and
// the KL term (summed over latent dimensions) in nats, in float64 from the graph's float32
// outputs: the same quantities as the graph's BCE and KL, one per image.
func perImageLoss(c vae.Config, x, zMean, zLogVar, logits []float32, n int) (bce, kl []float64) {
	P := c.ImageShape[0] * c.ImageShape[1] * c.ImageShape[2]
	L := c.LatentDim
	bce, kl = make([]float64, n), make([]float64, n)
	for i := range n {
		var s float64
		for j := i * P; j < (i+1)*P; j++ {
			l := float64(logits[j])
			s += max(l, 0) - l*float64(x[j]) + math.Log1p(math.Exp(-math.Abs(l)))
		}
		bce[i] = s
		var k float64
		for j := i * L; j < (i+1)*L; j++ {
			m, lv := float64(zMean[j]), float64(zLogVar[j])
			k += math.Exp(lv) + m*m - 1 - lv
		}
		kl[i] = k / 2
	}
	return bce, kl
}
