package kernels

// Float32 activations over slices: the logistic sigmoid and tanh, the gate functions of the
// recurrent ops, computed in float32 without going through float64 math.Exp.
//
// Both rest on one exponential of a non-positive argument, e = exp(-k|x|) in (0, 1], so
// nothing overflows and no range needs a branch of its own:
//
//	sigmoid(x) = 1/(1+e)  for x >= 0,   e/(1+e)  for x < 0        e = exp(-|x|)
//	tanh(x)    = sign(x) * (1-e)/(1+e)  for |x| >= 0.625           e = exp(-2|x|)
//	tanh(x)    = x + x*z*P(z), z = x*x  for |x| <  0.625           (no cancellation near 0)
//
// The sigmoid's quotient is rounded once: the portable code divides in float64, the AVX2
// code puts the rounding error of 1+e back with an FMA remainder step.
//
// exp(a), a <= 0, is Cephes' expf: n = round(a*log2(e)), r = a - n*ln2 in two parts
// (Cody and Waite), a degree-7 polynomial for exp(r) on |r| <= ln2/2, scaled by 2^n built in
// the exponent bits. Arguments below ln(2^-126) ≈ -87.34 give 0 (their exponential is
// subnormal), so results whose magnitude is below 2^-126 are flushed to zero, as SIMD code
// usually does. The tanh polynomial on |x| < 0.625 is Cephes' tanhf.
//
// Accuracy, against float64 math rounded to float32 (activations_test.go; the opt-in
// TestActivationsExhaustive checks every float32 input): at most 2 ulp for results of
// magnitude >= 2^-126 (relative error < 2.4e-7; measured maxima about 1.5 ulp), absolute
// error below 2^-126 for smaller results. NaN gives NaN, ±Inf give 0/1 and ±1, ±0 give
// 1/2 and ±0. ONNX's conformance tolerance (rtol 1e-3) is four orders of magnitude away.
//
// The AVX2+FMA kernels (activations_amd64.s) run 8 lanes at a time with the same formulas
// (the FMA rounds the polynomial steps once instead of twice, so they may differ from the
// portable Go in the last bit); they are chosen with Sgemm's micro-kernel (KernelsEnv), so
// GENDL_KERNELS=generic selects the portable Go for both.

import "math"

// Constants of the exponential (Cephes expf) and of tanh on |x| < 0.625 (Cephes tanhf).
const (
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375     // ln2, high part: 9 bits, so n*expC1 is exact
	expC2    = -2.12194440e-4  // ln2 - expC1
	expMinA  = -87.33654475055 // ln(2^-126): below it the result is subnormal, flushed to 0
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1

	tanhSmall = 0.625
	tanhP0    = -5.70498872745e-3
	tanhP1    = 2.06390887954e-2
	tanhP2    = -5.37397155531e-2
	tanhP3    = 1.33314422036e-1
	tanhP4    = -3.33332819422e-1
)

// SigmoidF32 sets dst[i] = 1/(1+exp(-src[i])) for i < len(src). dst must be at least as
// long as src; dst and src may be the same slice (they must not overlap otherwise).
func SigmoidF32(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	activation.sigmoid(dst[:len(src)], src)
}

// TanhF32 sets dst[i] = tanh(src[i]) for i < len(src). dst must be at least as long as
// src; dst and src may be the same slice (they must not overlap otherwise).
func TanhF32(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	activation.tanh(dst[:len(src)], src)
}

// activationKernels is one implementation of the activations; dst and src have the same
// length >= 1.
type activationKernels struct {
	name          string
	sigmoid, tanh func(dst, src []float32)
}

var genericActivations = &activationKernels{name: "generic", sigmoid: sigmoidGo, tanh: tanhGo}

// activation is the implementation SigmoidF32 and TanhF32 use: the SIMD one that goes with
// Sgemm's micro-kernel, or the portable Go.
var activation = chooseActivations(bestKernel.name)

func chooseActivations(kernel string) *activationKernels {
	for _, a := range simdActivations() {
		if a.name == kernel {
			return a
		}
	}
	return genericActivations
}

// expNeg32 is exp(a) for a <= 0 (or NaN) in float32; results below 2^-126 are 0.
func expNeg32(a float32) float32 {
	if !(a >= expMinA) {
		if a != a {
			return a
		}
		return 0
	}
	// n = round(a*log2e): adding and removing 1.5*2^23 rounds to an integer (|a*log2e| < 127).
	const magic = 12582912
	n := float32(a*expLog2e+magic) - magic
	r := a - n*expC1
	r = r - n*expC2
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	y := float32(r*r)*p + r
	y += 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func sigmoidGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		e := expNeg32(-abs32(x))
		num := float32(1)
		if x < 0 {
			num = e
		}
		// One rounding after exp: the quotient in float64 (1 + e is exact to 2^-53 there).
		dst[i] = float32(float64(num) / (1 + float64(e)))
	}
}

func tanhGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		ax := abs32(x)
		if ax < tanhSmall {
			z := x * x
			p := float32(tanhP0)
			p = p*z + tanhP1
			p = p*z + tanhP2
			p = p*z + tanhP3
			p = p*z + tanhP4
			// x + x*z*P(z) has x's sign but for x = -0 (0*-0 + -0 = +0): set it.
			y := float32(z*p)*x + x
			dst[i] = math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
			continue
		}
		e := expNeg32(-2 * ax)
		y := (1 - e) / (1 + e)
		if x < 0 {
			y = -y
		}
		dst[i] = y
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
