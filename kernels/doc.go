// Package kernels holds gendl's dense numeric kernels: SGEMM and the convolution lowering
// (im2col) that both the runtime (directly) and the trainer (through Gorgonia's BLAS hook) use.
//
// It is a leaf package: it imports nothing of gendl. Matrices are row-major float32 slices with
// an explicit leading dimension, as in BLAS's row-major convention.
//
// The current implementations are portable Go, written for correctness and reasonable cache
// behaviour; the fast-kernel issue replaces their insides (SIMD micro-kernels, packing,
// threading) behind the same signatures.
package kernels
