//go:build !amd64

package kernels

// simdKernels lists the SIMD micro-kernels this CPU can run: none off amd64 yet.
func simdKernels() []*microKernel { return nil }
