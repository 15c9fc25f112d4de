package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// mtReduceRef reduces x over the axes marked in reduced by the definition: every input
// element is folded into the output element whose index is its own with reduced axes set to 0;
// finish turns the fold and the count of folded elements into the result.
func mtReduceRef(x *tensor.Tensor, reduced []bool, keepdims bool, init float64, fold func(acc, v float64) float64, finish func(acc float64, n int) float64) *tensor.Tensor {
	kept := make([]int, x.Rank())
	var out []int
	count := 1
	for d, n := range x.Shape {
		kept[d] = n
		if reduced[d] {
			kept[d] = 1
			count *= n
			if keepdims {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, n)
	}
	acc := make([]float64, tensor.Numel(kept))
	for i := range acc {
		acc[i] = init
	}
	i := 0
	forEachIndex(x.Shape, func(ix []int) {
		o := mtBroadcastOffset(kept, ix)
		acc[o] = fold(acc[o], x.Float64At(i))
		i++
	})
	y := tensor.New(x.DType, out...)
	for o, v := range acc {
		mtSet(y, o, finish(v, count))
	}
	return y
}

// mtReduceCase is one random reduction problem.
type mtReduceCase struct {
	x        *tensor.Tensor
	reduced  []bool
	keepdims bool
	attrs    []*onnx.AttributeProto
	inputs   []*tensor.Tensor
	names    []string
}

// mtRandReduce returns a random problem for an op whose axes are an input from opset
// axesInput (when opset >= axesInput) and an attribute before.
func mtRandReduce(rng *rand.Rand, dt tensor.DType, opset, axesInput int64, gen func() float64) mtReduceCase {
	shape := mtRandShape(rng, 4, 4)
	if rng.IntN(8) == 0 && len(shape) > 0 {
		shape[rng.IntN(len(shape))] = 0 // empty input
	}
	c := mtReduceCase{x: mtRandom(dt, shape, gen), reduced: make([]bool, len(shape)), keepdims: rng.IntN(2) == 0}
	var axes []int64
	for d := range shape {
		if rng.IntN(2) == 0 {
			c.reduced[d] = true
			a := int64(d)
			if rng.IntN(2) == 0 {
				a -= int64(len(shape)) // negative axes count from the end
			}
			axes = append(axes, a)
		}
	}
	rng.Shuffle(len(axes), func(i, j int) { axes[i], axes[j] = axes[j], axes[i] })
	if len(axes) == 0 { // no axes: every axis is reduced
		for d := range c.reduced {
			c.reduced[d] = true
		}
	}
	c.attrs = append(c.attrs, onnx.AttrInt("keepdims", int64(b2i(c.keepdims))))
	c.inputs, c.names = []*tensor.Tensor{c.x}, mtInputs(1)
	switch {
	case opset < axesInput && len(axes) > 0:
		c.attrs = append(c.attrs, onnx.AttrInts("axes", axes...))
	case opset >= axesInput && (len(axes) > 0 || rng.IntN(2) == 0):
		c.inputs = append(c.inputs, tensor.FromInt64(axes, len(axes)))
		c.names = mtInputs(2)
	}
	return c
}

// mtCheckReduce runs a reduction op on random problems at two opsets (axes as attribute and
// as input) against mtReduceRef.
func mtCheckReduce(t *testing.T, c Constructor, opType string, axesInput int64, dts []tensor.DType,
	init float64, fold func(acc, v float64) float64, finish func(acc float64, n int) float64, atol, rtol float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, uint64(axesInput)))
	for trial := range 300 {
		opset := []int64{11, axesInput}[trial%2]
		dt := dts[trial%len(dts)]
		gen := rng.NormFloat64
		if dt != tensor.Float32 && dt != tensor.Float64 {
			gen = func() float64 { return float64(rng.IntN(100) - 50) }
		}
		rc := mtRandReduce(rng, dt, opset, axesInput, gen)
		op := mtMustBuild(t, c, mtNode(opType, opset, rc.names, rc.attrs...))
		y, err := mtRun(op, rc.inputs...)
		if err != nil {
			if dt != tensor.Float32 && dt != tensor.Float64 && tensor.Numel(rc.x.Shape) == 0 {
				continue // the integer mean of an empty set is an error (TestReduceMeanErrors)
			}
			t.Fatalf("opset %d, %v, reduced %v: %v", opset, rc.x, rc.reduced, err)
		}
		want := mtReduceRef(rc.x, rc.reduced, rc.keepdims, init, fold, finish)
		mtCompare(t, rc.x.String(), y, want, atol, rtol)
	}
}

// mtCheckReduceErrors checks the errors every reduction gives.
func mtCheckReduceErrors(t *testing.T, c Constructor, opType string, axesInput int64) {
	t.Helper()
	x := tensor.New(tensor.Float32, 2, 3)
	op := mtMustBuild(t, c, mtNode(opType, axesInput, mtInputs(2)))
	_, err := mtRun(op, x, tensor.FromInt64([]int64{2}, 1))
	mtWantErr(t, opType+" axis 2 of rank 2", err, "axis 2 is out of range")
	_, err = mtRun(op, x, tensor.FromInt64([]int64{1, -1}, 2))
	mtWantErr(t, opType+" axes 1 and -1", err, "axis 1 is given twice")
	_, err = mtRun(op, x, tensor.New(tensor.Int32, 1))
	mtWantErr(t, opType+" int32 axes", err, `input "axes": want a 1-D int64 tensor`)
	_, err = mtRun(op, tensor.New(tensor.Bool, 2), nil)
	mtWantErr(t, opType+" bool", err, "dtype bool is not supported")
	old := mtMustBuild(t, c, mtNode(opType, axesInput-1, mtInputs(1), onnx.AttrInts("axes", -3)))
	_, err = mtRun(old, x)
	mtWantErr(t, opType+" attribute axis -3", err, "axis -3 is out of range")
	_, err = mtBuild(c, mtNode(opType, axesInput-1, mtInputs(2)))
	mtWantErr(t, opType+" axes input before its opset", err, "want 1 inputs")
	_, err = mtBuild(c, mtNode(opType, axesInput, mtInputs(1), onnx.AttrInts("axes", 0)))
	mtWantErr(t, opType+" axes attribute after its opset", err, "the axes are an input")
}

// mtCheckReduceNoop checks noop_with_empty_axes: without axes the input passes through.
func mtCheckReduceNoop(t *testing.T, c Constructor, opType string, axesInput int64) {
	t.Helper()
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	op := mtMustBuild(t, c, mtNode(opType, axesInput, mtInputs(2), onnx.AttrInt("noop_with_empty_axes", 1)))
	for _, axes := range []*tensor.Tensor{nil, tensor.FromInt64(nil, 0)} {
		y, err := mtRun(op, x, axes)
		if err != nil {
			t.Fatal(err)
		}
		mtCompare(t, opType+" noop", y, x, 0, 0)
	}
}

func TestReduceLayoutScalar(t *testing.T) {
	// A scalar reduces to itself: the empty set of axes means all of none.
	c := reduceConfig{keepdims: true}
	l, err := c.layout([]int{}, nil)
	if err != nil || l.noop || len(l.out) != 0 || l.count != 1 {
		t.Errorf("layout of a scalar: %+v, %v", l, err)
	}
}

func mtSum(acc, v float64) float64          { return acc + v }
func mtIdentity(acc float64, _ int) float64 { return acc }
