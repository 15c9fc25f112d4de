package kernels

import "unsafe"

// sigmoidAVX2 and tanhAVX2 (activations_amd64.s) compute SigmoidF32 and TanhF32 of
// src[:n] into dst[:n], 8 lanes at a time with a masked tail; n >= 1. The assembly reads
// src[:n] and writes dst[:n] only.
//
//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX2(dst, src *float32, n int)

var avx2Activations = &activationKernels{
	name: "avx2",
	sigmoid: func(dst, src []float32) {
		if len(src) == 0 {
			return
		}
		_ = dst[len(src)-1]
		sigmoidAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), len(src))
	},
	tanh: func(dst, src []float32) {
		if len(src) == 0 {
			return
		}
		_ = dst[len(src)-1]
		tanhAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), len(src))
	},
}

// simdActivations lists the SIMD activation kernels this CPU can run, best first.
func simdActivations() []*activationKernels {
	if hasAVX2FMA() {
		return []*activationKernels{avx2Activations}
	}
	return nil
}
