package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// TestGlobalAveragePool compares with a direct mean over the spatial dimensions for ranks 2 to
// 5 in float32 and float64. Both sum in float64; the tolerance 1e-6 relative to the mean |x|
// covers the float32 rounding of the result (2^-24).
func TestGlobalAveragePool(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	op := nnMustBuild(t, newGlobalAveragePool, nnNode("GlobalAveragePool", 22, 1, 1))
	for trial := range 40 {
		shape := []int{1 + rng.IntN(2), 1 + rng.IntN(3)}
		for range trial % 4 {
			shape = append(shape, 1+rng.IntN(5))
		}
		dt := []tensor.DType{tensor.Float32, tensor.Float64}[trial%2]
		x := tensor.New(dt, shape...)
		for i := range x.Len() {
			nnSetFloat(x, i, float64(float32(rng.NormFloat64())))
		}
		out, err := nnRun(op, []*tensor.Tensor{x}, 1)
		if err != nil {
			t.Fatal(err)
		}
		wantShape := append([]int{}, shape...)
		for i := 2; i < len(wantShape); i++ {
			wantShape[i] = 1
		}
		if !tensor.SameShape(out[0].Shape, wantShape) || out[0].DType != dt {
			t.Fatalf("shape %v: output %v, want %v%v", shape, out[0], dt, wantShape)
		}
		spatial := tensor.Numel(shape[2:])
		for p := range shape[0] * shape[1] {
			var sum, abs float64
			for j := range spatial {
				v := x.Float64At(p*spatial + j)
				sum += v
				abs += math.Abs(v)
			}
			want := sum / float64(spatial)
			if got := out[0].Float64At(p); math.Abs(got-want) > 1e-6*abs/float64(spatial) {
				t.Fatalf("shape %v: y[%d] = %v, want %v", shape, p, got, want)
			}
		}
	}
}

func TestGlobalAveragePoolErrors(t *testing.T) {
	op := nnMustBuild(t, newGlobalAveragePool, nnNode("GlobalAveragePool", 22, 1, 1))
	_, err := nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 4)}, 1)
	nnWantErr(t, "rank 1", err, `input "X": want rank at least 2`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Int32, 1, 1, 2)}, 1)
	nnWantErr(t, "int32", err, `input "X": unsupported dtype int32`)
}
