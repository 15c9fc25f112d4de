package layers

import (
	"math"
	"math/rand/v2"
)

// Fans returns the fan-in and fan-out of a weight tensor in ONNX layout, as Keras computes
// them: Dense [in, out] -> (in, out); Conv [M, C, kh, kw] -> (C·kh·kw, M·kh·kw). For
// ConvTranspose [C, M, kh, kw] the same rule gives (M·kh·kw, C·kh·kw), which is what Keras
// computes from its Conv2DTranspose kernel (kh, kw, M, C): fan-in counts the output channels.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 2:
		return shape[0], shape[1]
	case 4:
		rf := shape[2] * shape[3]
		return shape[1] * rf, shape[0] * rf
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n, n
}

// GlorotUniform fills w uniformly in ±sqrt(6/(fanIn+fanOut)) (Keras' default kernel
// initializer), drawing one Float64 per element from rng, in order.
func GlorotUniform(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// HeNormal fills w from a normal distribution of standard deviation sqrt(2/fanIn), truncated
// at two standard deviations (Keras' he_normal), drawing from rng in order.
func HeNormal(w []float32, fanIn int, rng *rand.Rand) {
	std := math.Sqrt(2/float64(fanIn)) / 0.87962566103423978 // the std of a unit normal truncated at ±2
	for i := range w {
		v := rng.NormFloat64()
		for math.Abs(v) > 2 {
			v = rng.NormFloat64()
		}
		w[i] = float32(v * std)
	}
}

// Normal fills w from a normal distribution N(0, std²) (the DCGAN paper's initialiser uses
// std 0.02), drawing from rng in order.
func Normal(w []float32, std float64, rng *rand.Rand) {
	for i := range w {
		w[i] = float32(rng.NormFloat64() * std)
	}
}
