package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// Tolerance of the float32 element-wise maps against float64 references: the ops round a
// float64 result to float32 (relative error 2^-24 ≈ 6e-8), and references may use an
// algebraically equal but differently rounded formula (e^x - 1 rather than expm1). 1e-6 covers
// both with margin; the absolute term covers results that cancel to near zero.
const (
	mtUnaryRTol = 1e-6
	mtUnaryATol = 1e-6
)

// mtCheckUnary runs op on random float32 and float64 tensors of random shapes with values
// from gen and compares with ref, elementwise in float64.
func mtCheckUnary(t *testing.T, op Op, gen func(*rand.Rand) float64, ref func(float64) float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for range 20 {
			x := mtRandom(dt, mtRandShape(rng, 4, 5), func() float64 { return gen(rng) })
			y, err := mtRun(op, x)
			if err != nil {
				t.Fatalf("%v: %v", x, err)
			}
			want := tensor.New(dt, x.Shape...)
			for i := range x.Len() {
				mtSet(want, i, ref(x.Float64At(i)))
			}
			mtCompare(t, x.String(), y, want, mtUnaryATol, mtUnaryRTol)
		}
	}
}

// mtUniform returns a generator of values in [lo, hi).
func mtUniform(lo, hi float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return lo + (hi-lo)*r.Float64() }
}

// mtCheckUnaryErrors checks the errors of a float-only one-input op.
func mtCheckUnaryErrors(t *testing.T, c Constructor, opType string) {
	t.Helper()
	op := mtMustBuild(t, c, mtNode(opType, 13, mtInputs(1)))
	_, err := mtRun(op, tensor.New(tensor.Bool, 2))
	mtWantErr(t, opType+" on bool", err, "dtype bool is not supported")
	_, err = mtBuild(c, mtNode(opType, 13, []string{""}))
	mtWantErr(t, opType+" with an empty input", err, "input 0 is required")
	_, err = mtBuild(c, mtNode(opType, 13, mtInputs(2)))
	mtWantErr(t, opType+" with 2 inputs", err, "want 1 inputs, got 2")
}

func TestRunUnaryKeepsShape(t *testing.T) {
	op := mtMustBuild(t, newNeg, mtNode("Neg", 13, mtInputs(1)))
	for _, shape := range [][]int{{}, {0}, {2, 0, 3}, {1, 1, 1}} {
		x := tensor.New(tensor.Float32, shape...)
		y, err := mtRun(op, x)
		if err != nil || !tensor.SameShape(y.Shape, shape) || y.DType != tensor.Float32 {
			t.Errorf("Neg of %v: got %v, %v", x, y, err)
		}
	}
}
