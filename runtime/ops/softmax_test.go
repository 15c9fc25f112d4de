package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Tolerance of float32 softmax against a float64 reference: each output is a float32 rounding
// (2^-24) of a float64 computation whose inputs are float32 values, so 1e-6 relative holds with
// margin; the absolute term covers log-softmax values near 0.
const (
	mtSoftmaxRTol = 1e-6
	mtSoftmaxATol = 1e-6
)

// mtSoftmaxRef is the naive definition: for each line of the input along the normalised
// axes (all of axes [axis, rank) coerced to one when coerce2D, else just axis), e^x/sum(e^x) or
// its log, in float64 after subtracting the line's maximum.
func mtSoftmaxRef(x *tensor.Tensor, axis int, coerce2D, log bool) *tensor.Tensor {
	y := tensor.New(x.DType, x.Shape...)
	inLine := func(d int) bool { return d == axis || (coerce2D && d > axis) }
	// Group the input's flat indices by line: the key is the index with in-line dims zeroed.
	lines := map[int][]int{}
	var keys []int
	strides := tensor.Strides(x.Shape)
	o := 0
	forEachIndex(x.Shape, func(ix []int) {
		key := 0
		for d, k := range ix {
			if !inLine(d) {
				key += k * strides[d]
			}
		}
		if _, ok := lines[key]; !ok {
			keys = append(keys, key)
		}
		lines[key] = append(lines[key], o)
		o++
	})
	for _, key := range keys {
		m := math.Inf(-1)
		for _, i := range lines[key] {
			m = math.Max(m, x.Float64At(i))
		}
		s := 0.0
		for _, i := range lines[key] {
			s += math.Exp(x.Float64At(i) - m)
		}
		for _, i := range lines[key] {
			if log {
				mtSet(y, i, x.Float64At(i)-m-math.Log(s))
			} else {
				mtSet(y, i, math.Exp(x.Float64At(i)-m)/s)
			}
		}
	}
	return y
}

// mtCheckSoftmax tests Softmax or LogSoftmax on random shapes, axes and opsets against
// mtSoftmaxRef.
func mtCheckSoftmax(t *testing.T, c Constructor, opType string, log bool) {
	rng := rand.New(rand.NewPCG(15, 16))
	for trial := range 200 {
		shape := mtRandShape(rng, 4, 5)
		if len(shape) == 0 {
			shape = []int{3}
		}
		opset := []int64{11, 13}[trial%2]
		var attrs []*onnx.AttributeProto
		axis := -1 // opset 13's default
		if opset < 13 {
			axis = 1 // opset 1 and 11's default
		}
		if trial%3 != 0 {
			axis = rng.IntN(2*len(shape)) - len(shape)
			attrs = append(attrs, onnx.AttrInt("axis", int64(axis)))
		}
		if axis < 0 {
			axis += len(shape)
		}
		if axis >= len(shape) {
			continue // the default axis 1 on a 1-D input
		}
		dt := []tensor.DType{tensor.Float32, tensor.Float64}[trial%2]
		// Large values check that the maximum is subtracted before exponentiating.
		scale := []float64{1, 100, 1000}[trial%3]
		x := mtRandom(dt, shape, func() float64 { return scale * rng.NormFloat64() })
		op := mtMustBuild(t, c, mtNode(opType, opset, mtInputs(1), attrs...))
		y, err := mtRun(op, x)
		if err != nil {
			t.Fatalf("%v axis %d: %v", x, axis, err)
		}
		mtCompare(t, x.String(), y, mtSoftmaxRef(x, axis, opset < 13, log), mtSoftmaxATol, mtSoftmaxRTol)
	}
}

func TestSoftmaxRandom(t *testing.T) { mtCheckSoftmax(t, newSoftmax, "Softmax", false) }

// TestSoftmaxOpsetAxis pins the difference between opsets on one input: before 13 the default
// axis 1 of a [2, 2, 2] input normalises over the last 4 elements of each batch; from 13 the
// default axis -1 normalises pairs.
func TestSoftmaxOpsetAxis(t *testing.T) {
	x := tensor.FromFloat32([]float32{0, 0, 0, 0, 0, 0, 0, 0}, 2, 2, 2)
	for _, c := range []struct {
		opset int64
		want  float32
	}{{11, 0.25}, {13, 0.5}} {
		op := mtMustBuild(t, newSoftmax, mtNode("Softmax", c.opset, mtInputs(1)))
		y, err := mtRun(op, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range y.F32() {
			if v != c.want {
				t.Errorf("opset %d: element %d is %v, want %v", c.opset, i, v, c.want)
			}
		}
	}
}

func TestSoftmaxErrors(t *testing.T) {
	op := mtMustBuild(t, newSoftmax, mtNode("Softmax", 13, mtInputs(1), onnx.AttrInt("axis", 2)))
	_, err := mtRun(op, tensor.New(tensor.Float32, 2, 2))
	mtWantErr(t, "axis 2 of rank 2", err, `attribute "axis": axis 2 is out of range`)
	_, err = mtRun(op, tensor.New(tensor.Float32))
	mtWantErr(t, "scalar", err, "out of range for rank 0")
	mtCheckUnaryErrors(t, newSoftmax, "Softmax")
}
