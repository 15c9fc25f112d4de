// Package kernels holds gendl's dense numeric kernels: SGEMM and the convolution lowering
// (im2col) that both the runtime (directly) and the trainer (through Gorgonia's BLAS hook) use.
//
// It is a leaf package: it imports nothing of gendl. Matrices are row-major float32 slices with
// an explicit leading dimension, as in BLAS's row-major convention.
//
// # SGEMM
//
// Sgemm (one goroutine) and SgemmParallel (an explicit thread count) are blocked, packed
// products after Goto and van de Geijn, "Anatomy of High-Performance Matrix Multiplication"
// (ACM TOMS 34(3), 2008), in the loop order of BLIS: op(B) is packed into column panels and
// alpha*op(A) into row panels (transposes are resolved while packing), cache blocks of K, M
// and N keep the panels in L1, L2 and L3, and a register-blocked micro-kernel computes one
// tile of C. The micro-kernels:
//
//   - avx2: 6×16 tile in 12 YMM accumulators with FMA, hand-written Go assembly
//     (kernel_amd64.s); chosen when CPUID reports AVX2 and FMA and the OS saves YMM state.
//   - generic: 4×4 tile in portable Go; always built, always tested, used elsewhere.
//
// For m <= 4 (batch-1 inference: LSTM steps, Gemm and MatMul on one vector) Sgemm and
// SgemmParallel take a small-M path instead (small.go), because packing op(B) would cost as
// much as the product: B is read where it is stored, by dot products with its rows when it
// is stored n×k (transB; two rows of op(A) per pass over B) and by register-blocked axpy
// over column strips when it is stored k×n (streaming B by rows once it outgrows the L2
// cache). Its kernels come in the same two families (AVX2+FMA assembly in small_amd64.s,
// portable Go), chosen with the micro-kernel, and compute every element of C with the same
// operations whatever its position, so SgemmParallel (bands of 64 columns) stays bitwise
// equal to Sgemm.
//
// # Convolution
//
// Conv computes one image's convolution as an implicit GEMM (conv.go): the blocked product
// above with B's panels packed straight from the image through a table of tap offsets (AVX2
// masked gathers, or plain 16-float copies for panels that touch no padding), so the
// K×N column matrix of Im2col is never built; the bias is added and Relu applied (ActRelu)
// as the micro-kernel stores the result (kernel6x16EpAVX2, which also prefetches its C rows
// and stores a partial 1-5-row tile itself). Threads split the output columns into bands of
// whole panels, bitwise identical for any thread count. 3-D geometries with a non-trivial
// depth take Im2col + Sgemm (ConvScratch tells how much column matrix that needs). Im2col
// and Col2im remain for ConvTranspose and the gradients. The AVX2 kernel also packs A
// panels with in-register 8×8 transposes (packA6AVX) and copies (packA6TAVX for transA).
//
// ConvAdd is Conv accumulating into its output (no bias, no activation): runtime/grad computes
// a unit-stride convolution's input gradient with it, as the convolution of dY with the
// flipped, transposed filters.
//
// # Pooling
//
// MaxPool, AveragePool and their backward passes (pool.go) pool planes of 1-3 spatial
// dimensions with any window (pads, strides, dilations, ceil_mode sizes, count_include_pad),
// per output row: the window rows under it are found once, the interior columns take
// unrolled loops for widths 2 and 3 and the maximum is Go's branch-free max; the arg-max of
// the backward pass is found with integer conditional moves. Threads split the planes.
// Results are bitwise those of the naive loops (tested).
//
// There is no AVX-512 kernel yet: the machines it was developed on lack AVX-512, and code
// that cannot be tested is not shipped.
//
// The environment variable GENDL_KERNELS (KernelsEnv), read once at program start, overrides
// the choice: "generic" forces the portable kernel (to rule out a SIMD bug, or to compare);
// "avx2" asks for that kernel if the CPU has it. KernelName reports the kernel in use. The
// tests run every kernel the machine supports directly, whatever the variable says.
//
// Packing buffers come from a sync.Pool and the threads of SgemmParallel from a pool of
// long-lived workers, so steady-state calls allocate nothing.
package kernels
