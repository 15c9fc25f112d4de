package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// naiveLRN is the ONNX definition, element by element, with the channel window written as
// in the spec: [c - floor((size-1)/2), c + ceil((size-1)/2)].
func naiveLRN(x *tensor.Tensor, alpha, beta, bias float64, size int) []float64 {
	c := x.Shape[1]
	spatial := tensor.Numel(x.Shape[2:])
	want := make([]float64, x.Len())
	for i := range want {
		n, ch, j := i/(c*spatial), i/spatial%c, i%spatial
		lo := ch - int(math.Floor(float64(size-1)/2))
		hi := ch + int(math.Ceil(float64(size-1)/2))
		var ss float64
		for q := max(0, lo); q <= min(c-1, hi); q++ {
			v := x.Float64At((n*c+q)*spatial + j)
			ss += v * v
		}
		want[i] = x.Float64At(i) / math.Pow(bias+alpha/float64(size)*ss, beta)
	}
	return want
}

// TestLRNMatchesDefinition compares LRN with naiveLRN for odd and even sizes, default and
// explicit attributes, in float32 and float64. Both compute in float64; the float32 output is
// rounded once, so 1e-6 relative (plus 1e-12) is ample.
func TestLRNMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for trial := range 40 {
		size := 1 + rng.IntN(6)
		alpha, beta, bias := 1e-4, 0.75, 1.0
		attrs := []*onnx.AttributeProto{onnx.AttrInt("size", int64(size))}
		if trial%2 == 1 {
			alpha, beta, bias = float64(float32(0.5*rng.Float64())), float64(float32(rng.Float64())), float64(float32(1+rng.Float64()))
			attrs = append(attrs, onnx.AttrFloat("alpha", float32(alpha)), onnx.AttrFloat("beta", float32(beta)), onnx.AttrFloat("bias", float32(bias)))
		}
		op := nnMustBuild(t, newLRN, nnNode("LRN", 13, 1, 1, attrs...))
		shape := []int{1 + rng.IntN(2), 1 + rng.IntN(7)}
		for range trial % 3 {
			shape = append(shape, 1+rng.IntN(4))
		}
		dt := []tensor.DType{tensor.Float32, tensor.Float64}[trial/2%2]
		x := tensor.New(dt, shape...)
		for i := range x.Len() {
			nnSetFloat(x, i, float64(float32(3*rng.NormFloat64())))
		}
		out, err := nnRun(op, []*tensor.Tensor{x}, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveLRN(x, alpha, beta, bias, size)
		for i, w := range want {
			if got := out[0].Float64At(i); math.Abs(got-w) > 1e-12+1e-6*math.Abs(w) {
				t.Fatalf("trial %d shape %v size %d: y[%d] = %v, want %v", trial, shape, size, i, got, w)
			}
		}
	}
}

func TestLRNErrors(t *testing.T) {
	_, err := nnBuild(newLRN, nnNode("LRN", 13, 1, 1))
	nnWantErr(t, "no size", err, `"size": required attribute is missing`)
	_, err = nnBuild(newLRN, nnNode("LRN", 13, 1, 1, onnx.AttrInt("size", 0)))
	nnWantErr(t, "size 0", err, `"size": want a positive value`)
	op := nnMustBuild(t, newLRN, nnNode("LRN", 13, 1, 1, onnx.AttrInt("size", 3)))
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 3)}, 1)
	nnWantErr(t, "rank 1", err, `input "X": want rank at least 2`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Int64, 1, 3)}, 1)
	nnWantErr(t, "int64", err, `input "X": unsupported dtype int64`)
}
