//go:build !amd64

package kernels

// simdActivations lists the SIMD activation kernels this CPU can run: none off amd64 yet.
func simdActivations() []*activationKernels { return nil }
