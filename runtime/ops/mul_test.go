package ops

import (
	"math/rand/v2"
	"testing"
)

func TestMulRandom(t *testing.T) {
	op := mtMustBuild(t, newMul, mtNode("Mul", 14, mtInputs(2)))
	// Go's integer arithmetic wraps like the two's complement C and numpy use.
	mtCheckArith(t, op, func(a, b float64) float64 { return a * b }, func(a, b int64) int64 { return a * b }, func(r *rand.Rand) int64 { return r.Int64() })
}

func TestMulErrors(t *testing.T) { mtCheckBinaryErrors(t, newMul, "Mul") }
