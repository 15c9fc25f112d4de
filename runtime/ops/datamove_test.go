package ops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Test helpers of the shape op family (prefix sh), and the tests of datamove.go. Data movement
// is exact, so these tests compare element by element without tolerance.

// shAllDTypes is every dtype a tensor.Tensor holds.
var shAllDTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool}

// shNode returns a node of opType at opset with the given input slot names ("" for an absent
// optional input) and nOut outputs.
func shNode(opType string, opset int64, inputs []string, nOut int, attrs ...*onnx.AttributeProto) *Node {
	name, op := "test_"+strings.ToLower(opType), opType
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = fmt.Sprintf("y%d", i)
	}
	p := &onnx.NodeProto{Name: &name, OpType: &op, Input: inputs, Output: outs, Attribute: attrs}
	return &Node{Proto: p, Attrs: onnx.NewAttrs(p), Opset: opset, Consts: make([]*tensor.Tensor, len(inputs))}
}

// shBuild constructs the op as the engine does: constructor, then the sticky attribute error.
func shBuild(c Constructor, n *Node) (Op, error) {
	op, err := c(n)
	if err != nil {
		return nil, err
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// shMustBuild is shBuild for nodes that must be valid.
func shMustBuild(t *testing.T, c Constructor, n *Node) Op {
	t.Helper()
	op, err := shBuild(c, n)
	if err != nil {
		t.Fatalf("constructor: %v", err)
	}
	return op
}

// shRun runs op twice on the same nOut output tensors (a session reuses its buffers, which
// must not change the answer) and returns them. When the op infers types, shRun also checks
// that what Infer says for exactly known, rank-only and dtype-only input types holds for the
// outputs (an inference error where Run succeeded is a failure too).
func shRun(op Op, nOut int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, nOut)
	for i := range out {
		out[i] = &tensor.Tensor{}
	}
	for range 2 {
		if err := op.Run(&Ctx{Threads: 1}, in, out); err != nil {
			return nil, err
		}
	}
	if inf, ok := op.(Inferer); ok {
		if err := shCheckInfer(inf, in, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// shCheckInfer checks inf's types against the outputs that running on in produced.
func shCheckInfer(inf Inferer, in, out []*tensor.Tensor) error {
	for _, level := range []string{"exact", "rank only", "dtype only"} {
		types := make([]Type, len(in))
		for i, x := range in {
			if x == nil {
				continue
			}
			types[i] = TypeOf(x)
			switch level {
			case "rank only":
				types[i].Shape = unknownDims(x.Rank())
			case "dtype only":
				types[i] = Type{DType: x.DType}
			}
		}
		got, err := inf.Infer(types)
		if err != nil {
			return fmt.Errorf("Infer (%s input types) failed where Run succeeded: %w", level, err)
		}
		if len(got) != len(out) {
			return fmt.Errorf("Infer (%s): %d types for %d outputs", level, len(got), len(out))
		}
		for i, y := range out {
			if !got[i].Compatible(y) {
				return fmt.Errorf("Infer (%s): output %d: inferred %v, Run produced %v", level, i, got[i], y)
			}
		}
	}
	return nil
}

// shInferExact builds the op with every input after the first as a plan-time constant (as
// initializers are), runs it on in, and fails unless Infer, given the exact type of the first
// input, predicts every output's dtype and shape exactly.
func shInferExact(t *testing.T, c Constructor, n *Node, in ...*tensor.Tensor) {
	t.Helper()
	if len(in) > 1 {
		copy(n.Consts[1:], in[1:])
	}
	op := shMustBuild(t, c, n)
	out, err := shRun(op, n.NumOutputs(), in...)
	if err != nil {
		t.Fatalf("%s: %v", n.Proto.GetOpType(), err)
	}
	types := make([]Type, len(in))
	for i, x := range in {
		if x != nil {
			types[i] = TypeOf(x)
		}
	}
	got, err := op.(Inferer).Infer(types)
	if err != nil {
		t.Fatalf("%s: Infer: %v", n.Proto.GetOpType(), err)
	}
	for i, y := range out {
		if !got[i].Known() || got[i].DType != y.DType || !tensor.SameShape(got[i].Shape, y.Shape) {
			t.Errorf("%s: output %d: inferred %v, want exactly %v", n.Proto.GetOpType(), i, got[i], y)
		}
	}
}

// shRun1 is shRun for one output.
func shRun1(op Op, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	out, err := shRun(op, 1, in...)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// shWantErr fails unless err is non-nil and contains want.
func shWantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q, want one containing %q", what, err, want)
	}
}

// shRandTensor returns a tensor of dtype dt and the given shape with random elements.
func shRandTensor(rng *rand.Rand, dt tensor.DType, shape ...int) *tensor.Tensor {
	x := tensor.New(dt, shape...)
	for i := range x.Len() {
		shSet(x, i, rng.IntN(200)-100)
	}
	return x
}

// shSet sets element i of t to v converted to t's dtype.
func shSet(t *tensor.Tensor, i, v int) {
	switch d := t.Data.(type) {
	case []float32:
		d[i] = float32(v) + 0.25
	case []float64:
		d[i] = float64(v) - 0.125
	case []int64:
		d[i] = int64(v) << 20
	case []int32:
		d[i] = int32(v)
	case []int8:
		d[i] = int8(v)
	case []uint8:
		d[i] = uint8(v)
	case []bool:
		d[i] = v%2 == 0
	}
}

// shI64 returns an int64 tensor of rank 1 holding v.
func shI64(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }

// shGather returns a tensor of x's dtype and shape shape whose element at idx is x's element
// at offset src(idx), or fill (a scalar of x's element type) when src returns -1: the
// reference the data-movement ops are checked against.
func shGather(x *tensor.Tensor, shape []int, src func(idx []int) int, fill any) *tensor.Tensor {
	y := tensor.New(x.DType, shape...)
	i := 0
	forEachIndex(shape, func(idx []int) {
		s := src(idx)
		var v any
		if s < 0 {
			v = fill
		} else {
			v = scalarAt(x, s)
		}
		shPut(y, i, v)
		i++
	})
	return y
}

// shPut sets element i of t to v, a scalar of t's element type (nil: zero).
func shPut(t *tensor.Tensor, i int, v any) {
	if v == nil {
		return
	}
	switch d := t.Data.(type) {
	case []float32:
		d[i] = v.(float32)
	case []float64:
		d[i] = v.(float64)
	case []int64:
		d[i] = v.(int64)
	case []int32:
		d[i] = v.(int32)
	case []int8:
		d[i] = v.(int8)
	case []uint8:
		d[i] = v.(uint8)
	case []bool:
		d[i] = v.(bool)
	}
}

// shEqual fails unless got has want's dtype and shape and the same elements.
func shEqual(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got.DType != want.DType || !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	for i := range want.Len() {
		if g, w := scalarAt(got, i), scalarAt(want, i); g != w {
			t.Errorf("%s: element %d: got %v, want %v", what, i, g, w)
			return
		}
	}
}

// shRandShape returns a shape of rank in [minRank, maxRank] with dims in [1, maxDim].
func shRandShape(rng *rand.Rand, minRank, maxRank, maxDim int) []int {
	s := make([]int, minRank+rng.IntN(maxRank-minRank+1))
	for i := range s {
		s[i] = 1 + rng.IntN(maxDim)
	}
	return s
}

// TestCopyStridedRandom checks copyStrided against a direct loop on random views with
// positive, negative and permuted strides, for every dtype.
func TestCopyStridedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		shape := shRandShape(rng, 0, 4, 4)
		// Source: a random tensor with larger dims; view with random steps and offset.
		big := make([]int, len(shape))
		steps := make([]int, len(shape))
		for k, d := range shape {
			steps[k] = 1 + rng.IntN(2)
			if rng.IntN(3) == 0 {
				steps[k] = -steps[k]
			}
			big[k] = (d-1)*max(steps[k], -steps[k]) + 1 + rng.IntN(2)
		}
		src := shRandTensor(rng, dt, big...)
		bigStr := tensor.Strides(big)
		sStr := make([]int, len(shape))
		sOff := 0
		for k := range shape {
			sStr[k] = steps[k] * bigStr[k]
			if steps[k] < 0 {
				sOff += (big[k] - 1) * bigStr[k]
			}
		}
		// Destination: the view lands transposed into a contiguous tensor.
		perm := rng.Perm(len(shape))
		dShape := make([]int, len(shape))
		for k, p := range perm {
			dShape[k] = shape[p]
		}
		dStrT := tensor.Strides(dShape)
		dStr := make([]int, len(shape))
		for k, p := range perm {
			dStr[p] = dStrT[k]
		}
		dst := tensor.New(dt, dShape...)
		if err := copyStrided(dst.Data, 0, dStr, src.Data, sOff, sStr, shape); err != nil {
			t.Fatal(err)
		}
		want := tensor.New(dt, dShape...)
		forEachIndex(shape, func(idx []int) {
			s, d := sOff, 0
			for k, i := range idx {
				s += i * sStr[k]
				d += i * dStr[k]
			}
			shPut(want, d, scalarAt(src, s))
		})
		shEqual(t, fmt.Sprintf("case %d (%v %v steps %v perm %v)", iter, dt, shape, steps, perm), dst, want)
	}
}

func TestCopyStridedTypeMismatch(t *testing.T) {
	err := copyStrided([]float32{0}, 0, nil, []float64{1}, 0, nil, nil)
	shWantErr(t, "float32 <- float64", err, "element types differ")
}

// TestCollapseDims checks that a contiguous copy becomes one dimension and that unit
// dimensions disappear, while a transposed copy keeps its dimensions.
func TestCollapseDims(t *testing.T) {
	s := []int{2, 1, 3, 4}
	st := tensor.Strides(s)
	sh, ds, ss := collapseDims(s, st, st)
	if fmt.Sprint(sh, ds, ss) != "[24] [1] [1]" {
		t.Errorf("contiguous: got %v %v %v, want [24] [1] [1]", sh, ds, ss)
	}
	sh, _, _ = collapseDims([]int{3, 4}, []int{4, 1}, []int{1, 3})
	if fmt.Sprint(sh) != "[3 4]" {
		t.Errorf("transposed: got %v, want [3 4]", sh)
	}
}

// TestCopyTablesRandom checks copyTables against a direct loop, with holes (fill) in random
// places, for every dtype.
func TestCopyTablesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 100 {
		dt := shAllDTypes[iter%len(shAllDTypes)]
		in := shRandShape(rng, 0, 4, 4)
		x := shRandTensor(rng, dt, in...)
		str := tensor.Strides(in)
		out := make([]int, len(in))
		tab := make([][]int, len(in))
		for k := range in {
			out[k] = rng.IntN(5)
			tab[k] = make([]int, out[k])
			for o := range tab[k] {
				if rng.IntN(4) == 0 {
					tab[k][o] = -1
				} else {
					tab[k][o] = rng.IntN(in[k]) * str[k]
				}
			}
		}
		fill := scalarAt(shRandTensor(rng, dt, 1), 0)
		y := tensor.New(dt, out...)
		if err := copyTables(y.Data, x.Data, out, tab, fill); err != nil {
			t.Fatal(err)
		}
		want := shGather(x, out, func(idx []int) int {
			s := 0
			for k, o := range idx {
				if tab[k][o] < 0 {
					return -1
				}
				s += tab[k][o]
			}
			return s
		}, fill)
		shEqual(t, fmt.Sprintf("case %d (%v %v -> %v)", iter, dt, in, out), y, want)
	}
}

func TestCopyTablesFillMismatch(t *testing.T) {
	err := copyTables([]float32{0}, []float32{1}, []int{1}, [][]int{{-1}}, float64(2))
	shWantErr(t, "float64 fill for float32 data", err, "does not match")
}

func TestScalarFromFloat(t *testing.T) {
	for _, c := range []struct {
		dt   tensor.DType
		want any
	}{
		{tensor.Float32, float32(-2.75)}, {tensor.Float64, -2.75}, {tensor.Int64, int64(-2)},
		{tensor.Int32, int32(-2)}, {tensor.Int8, int8(-2)}, {tensor.Bool, true},
	} {
		got, err := scalarFromFloat(c.dt, -2.75)
		if err != nil || got != c.want {
			t.Errorf("%v: got %v (%T), %v; want %v (%T)", c.dt, got, got, err, c.want, c.want)
		}
	}
	if _, err := scalarFromFloat(tensor.Float16, 1); err == nil {
		t.Error("float16: no error")
	}
}
