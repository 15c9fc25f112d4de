package nn

import (
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/kernels/gonumblas"
)

// UseGendlBLAS makes Gorgonia and gorgonia.org/tensor compute their float32 matrix products
// (Sgemm: every MatMul of a training step) with gendl's SGEMM (package kernels, through
// kernels/gonumblas), split over GOMAXPROCS threads; every other BLAS routine stays gonum's
// pure-Go one, Gorgonia's default. It is pure Go, like the default; the products become 5–10x
// faster, a training step about 2–2.7x (char-LSTM, hidden 128, batch 128) or 2x (a small
// conv net), the rest of a step being Gorgonia's element-wise work (BenchmarkGorgoniaBLAS).
//
// The setting is global to the process (gorgonia.Use / tensor.Use) and read by every graph
// run without a lock, so call it before any graph runs, not while one is running. It is
// idempotent. UseGonumBLAS restores Gorgonia's default.
func UseGendlBLAS() { G.Use(gonumblas.Implementation{}) }

// UseGonumBLAS restores Gorgonia's default BLAS, gonum's pure-Go implementation (for
// comparisons and to rule out our kernels). The same caveats as for UseGendlBLAS apply.
func UseGonumBLAS() { G.Use(gonum.Implementation{}) }

// UsingGendlBLAS reports whether Gorgonia and tensor both use gendl's SGEMM.
func UsingGendlBLAS() bool {
	_, g := G.WhichBLAS().(gonumblas.Implementation)
	_, t := tensor.WhichBLAS().(gonumblas.Implementation)
	return g && t
}
