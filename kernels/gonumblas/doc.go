// Package gonumblas plugs gendl's SGEMM into code written against gonum's BLAS interfaces
// (gonum.org/v1/gonum/blas), above all Gorgonia: gorgonia.Use and tensor.Use take a BLAS
// that is blas.Float32, blas.Float64, blas.Complex64 and blas.Complex128 at once.
//
// Implementation embeds gonum's pure-Go gonum.Implementation, so it has every BLAS routine,
// and overrides Sgemm with kernels.SgemmParallel: gonum's row-major convention is the one of
// package kernels, so the arguments map one to one (blas.Trans and blas.ConjTrans are both
// a transpose for real matrices; lda, ldb and ldc are the row strides as stored). Everything
// else, including Sgemv (a memory-bound matrix-vector product, for which packing panels would
// only add traffic) and all float64 and complex routines, is gonum's.
//
// Invalid arguments panic with gonum's own messages: Sgemm checks them as gonum does and hands
// a call that gonum would reject to gonum, which panics.
//
// Two behaviours differ from gonum's Sgemm, both in the direction of the reference BLAS:
// every product term is computed, so a zero in A does not hide a NaN or Inf in B (gonum skips
// zero elements of A), and the summation order (and so the rounding) is that of the blocked
// kernel, not gonum's.
//
// This package imports no Gorgonia: only trainer/... may. The trainer installs it with
// gorgonia.Use(gonumblas.Implementation{}) (trainer/nn.UseGendlBLAS).
package gonumblas
