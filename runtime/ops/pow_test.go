package ops

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestPowRandom(t *testing.T) {
	op := mtMustBuild(t, newPow, mtNode("Pow", 15, mtInputs(2)))
	// Positive bases keep fractional exponents real.
	pos := func(r *rand.Rand) float64 { return r.Float64()*4 + 0.01 }
	mtCheckBinary(t, op, tensor.Float32, func(r *rand.Rand) float32 { return float32(pos(r)) },
		func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) })
	mtCheckBinary(t, op, tensor.Float64, pos, math.Pow)
	small := func(r *rand.Rand) int64 { return r.Int64N(15) - 4 }
	mtCheckBinary(t, op, tensor.Int64, func(r *rand.Rand) int64 { return 1 + r.Int64N(9) }, mtBigPow)
	mtCheckBinary(t, op, tensor.Int32, func(r *rand.Rand) int32 { return int32(small(r)) | 1 },
		func(a, b int32) int32 { return int32(mtBigPow(int64(a), int64(b))) })
}

// mtBigPow is a^b by math/big, wrapped to int64; for b < 0 it is 1/a^-b truncated toward zero.
func mtBigPow(a, b int64) int64 {
	if b < 0 {
		q := new(big.Int).Quo(big.NewInt(1), new(big.Int).Exp(big.NewInt(a), big.NewInt(-b), nil))
		return q.Int64()
	}
	p := new(big.Int).Exp(big.NewInt(a), big.NewInt(b), nil)
	// Wrap to 64 bits as two's complement.
	m := new(big.Int).And(p, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

// TestPowMixedTypes covers the type pairs of the pow_types conformance cases and more: the
// output has the base's dtype, and integer powers are exact beyond float64's 53 bits.
func TestPowMixedTypes(t *testing.T) {
	op := mtMustBuild(t, newPow, mtNode("Pow", 15, mtInputs(2)))
	for _, c := range []struct {
		name string
		x, y *tensor.Tensor
		want *tensor.Tensor
	}{
		{"float32^int64", tensor.FromFloat32([]float32{1, 2, 3}, 3), tensor.FromInt64([]int64{4, 5, 6}, 3),
			tensor.FromFloat32([]float32{1, 32, 729}, 3)},
		{"float32^int8 negative", tensor.FromFloat32([]float32{2, 4}, 2), &tensor.Tensor{DType: tensor.Int8, Shape: []int{1}, Data: []int8{-1}},
			tensor.FromFloat32([]float32{0.5, 0.25}, 2)},
		{"int64^float32 truncates", tensor.FromInt64([]int64{2, 3}, 2), tensor.FromFloat32([]float32{0.5}, 1),
			tensor.FromInt64([]int64{1, 1}, 2)},
		{"int32^uint8", &tensor.Tensor{DType: tensor.Int32, Shape: []int{2}, Data: []int32{-2, 5}}, &tensor.Tensor{DType: tensor.Uint8, Shape: []int{}, Data: []uint8{3}},
			&tensor.Tensor{DType: tensor.Int32, Shape: []int{2}, Data: []int32{-8, 125}}},
		// 3^39 = 4052555153018976267 is not a float64.
		{"int64^int64 exact", tensor.FromInt64([]int64{3, -1, -1, 2}, 4), tensor.FromInt64([]int64{39, -3, -2, -1}, 4),
			tensor.FromInt64([]int64{4052555153018976267, -1, 1, 0}, 4)},
		{"float64^float64", &tensor.Tensor{DType: tensor.Float64, Shape: []int{2}, Data: []float64{-8, 2}}, &tensor.Tensor{DType: tensor.Float64, Shape: []int{2}, Data: []float64{1.0 / 3, 2}},
			&tensor.Tensor{DType: tensor.Float64, Shape: []int{2}, Data: []float64{math.NaN(), 4}}},
	} {
		y, err := mtRun(op, c.x, c.y)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		mtCompare(t, c.name, y, c.want, 0, 0)
	}
}

func TestPowErrors(t *testing.T) {
	op := mtMustBuild(t, newPow, mtNode("Pow", 15, mtInputs(2)))
	_, err := mtRun(op, tensor.FromInt64([]int64{0, 2}, 2), tensor.FromInt64([]int64{-1}, 1))
	mtWantErr(t, "0^-1", err, "0 raised to a negative power")
	_, err = mtRun(op, tensor.New(tensor.Uint8, 2), tensor.New(tensor.Int64, 2))
	mtWantErr(t, "uint8 base", err, `input "X": dtype uint8 is not supported`)
	_, err = mtRun(op, tensor.New(tensor.Float32, 2), tensor.New(tensor.Bool, 2))
	mtWantErr(t, "bool exponent", err, `input "Y": dtype bool is not supported`)
	_, err = mtRun(op, tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 3))
	mtWantErr(t, "[2] with [3]", err, "does not broadcast")
	op7 := mtMustBuild(t, newPow, mtNode("Pow", 7, mtInputs(2)))
	_, err = mtRun(op7, tensor.New(tensor.Float32, 2), tensor.New(tensor.Int64, 2))
	mtWantErr(t, "opset 7 mixed types", err, "before opset 12")
}
