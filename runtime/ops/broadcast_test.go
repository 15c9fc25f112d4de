package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Test helpers of the math op family (prefix mt), and the tests of broadcast.go.

// mtNode returns a node of opType at opset with the given input slot names ("" for an absent
// input) and one output.
func mtNode(opType string, opset int64, inputs []string, attrs ...*onnx.AttributeProto) *Node {
	name, op := "test_"+strings.ToLower(opType), opType
	p := &onnx.NodeProto{Name: &name, OpType: &op, Input: inputs, Output: []string{"y"}, Attribute: attrs}
	return &Node{Proto: p, Attrs: onnx.NewAttrs(p), Opset: opset, Consts: make([]*tensor.Tensor, len(inputs))}
}

// mtInputs returns n input slot names.
func mtInputs(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("x%d", i)
	}
	return s
}

// mtBuild constructs the op as the engine does: constructor, then the sticky attribute error.
func mtBuild(c Constructor, n *Node) (Op, error) {
	op, err := c(n)
	if err != nil {
		return nil, err
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// mtMustBuild is mtBuild for nodes that must be valid.
func mtMustBuild(t testing.TB, c Constructor, n *Node) Op {
	t.Helper()
	op, err := mtBuild(c, n)
	if err != nil {
		t.Fatalf("constructor: %v", err)
	}
	return op
}

// mtRun runs a one-output op twice on the same output tensor (a session reuses its buffers,
// which must not change the answer) and returns the output. When the run succeeds and the op
// has plan-time inference, it also checks that Infer accepts the inputs' types, exactly and
// with every dimension unknown, and that the output is compatible with what it infers.
func mtRun(op Op, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	out := []*tensor.Tensor{{}}
	for range 2 {
		if err := op.Run(&Ctx{Threads: 1}, in, out); err != nil {
			return nil, err
		}
	}
	if inf, ok := op.(Inferer); ok {
		exact := make([]Type, len(in))
		vague := make([]Type, len(in))
		for i, t := range in {
			if t == nil {
				continue
			}
			exact[i] = TypeOf(t)
			vague[i] = TypeOf(t)
			for d := range vague[i].Shape {
				vague[i].Shape[d] = -1
			}
		}
		for _, types := range [][]Type{exact, vague} {
			got, err := inf.Infer(types)
			if err != nil {
				return nil, fmt.Errorf("Infer(%v) fails on inputs that run: %w", types, err)
			}
			if len(got) != 1 || !got[0].Compatible(out[0]) {
				return nil, fmt.Errorf("Infer(%v) = %v, but the output is %v", types, got, out[0])
			}
		}
	}
	return out[0], nil
}

// mtWantErr fails unless err is non-nil and contains want.
func mtWantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q, want one containing %q", what, err, want)
	}
}

// mtRandom returns a tensor of dtype dt with values from gen.
func mtRandom(dt tensor.DType, shape []int, gen func() float64) *tensor.Tensor {
	t := tensor.New(dt, shape...)
	for i := range t.Len() {
		mtSet(t, i, gen())
	}
	return t
}

// mtSet stores v (converted like a Go conversion) at flat index i.
func mtSet(t *tensor.Tensor, i int, v float64) {
	switch d := t.Data.(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []int64:
		d[i] = int64(v)
	case []int32:
		d[i] = int32(v)
	case []int8:
		d[i] = int8(v)
	case []uint8:
		d[i] = uint8(v)
	case []bool:
		d[i] = v != 0
	}
}

// mtRandShape returns a random shape of rank 0 to maxRank with dimensions 1 to maxDim.
func mtRandShape(rng *rand.Rand, maxRank, maxDim int) []int {
	s := make([]int, rng.IntN(maxRank+1))
	for i := range s {
		s[i] = 1 + rng.IntN(maxDim)
	}
	return s
}

// mtRandBroadcast returns k random input shapes that broadcast together: each is a suffix of
// a common shape with some dimensions replaced by 1.
func mtRandBroadcast(rng *rand.Rand, k int) [][]int {
	full := mtRandShape(rng, 4, 4)
	shapes := make([][]int, k)
	for j := range shapes {
		s := append([]int{}, full[rng.IntN(len(full)+1):]...)
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = 1
			}
		}
		shapes[j] = s
	}
	// Make sure at least one input has the full rank now and then.
	if rng.IntN(2) == 0 {
		shapes[rng.IntN(k)] = full
	}
	return shapes
}

// mtBroadcastOffset returns the flat offset in a tensor of shape in of the element that
// broadcasting maps to output index idx: the naive definition, right-aligned, size-1 dims
// pinned to 0.
func mtBroadcastOffset(in, idx []int) int {
	off := 0
	shift := len(idx) - len(in)
	for i, d := range in {
		k := idx[shift+i]
		if d == 1 {
			k = 0
		}
		off = off*d + k
	}
	return off
}

// mtClose reports whether |got-want| <= atol + rtol*|want|, with NaNs equal to NaNs and
// infinities equal to themselves.
func mtClose(got, want, atol, rtol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return got == want
	}
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

// mtCompare checks got's dtype, shape and elements against want, with the given tolerances.
func mtCompare(t *testing.T, what string, got, want *tensor.Tensor, atol, rtol float64) {
	t.Helper()
	if got.DType != want.DType || !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	bad := 0
	for i := range got.Len() {
		g, w := got.Float64At(i), want.Float64At(i)
		if !mtClose(g, w, atol, rtol) {
			if bad < 3 {
				t.Errorf("%s: element %d: got %v, want %v (atol %g, rtol %g)", what, i, g, w, atol, rtol)
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d elements differ in all", what, bad)
	}
}

func TestBroadcastShape(t *testing.T) {
	for _, c := range []struct {
		a, b, want []int
	}{
		{[]int{}, []int{}, []int{}},
		{[]int{3, 4}, []int{}, []int{3, 4}},
		{[]int{3, 4, 5}, []int{5}, []int{3, 4, 5}},
		{[]int{3, 1, 5}, []int{4, 1}, []int{3, 4, 5}},
		{[]int{1}, []int{2, 0}, []int{2, 0}},
		{[]int{0, 1}, []int{1, 7}, []int{0, 7}},
	} {
		got, err := broadcastShape([]string{"A", "B"}, c.a, c.b)
		if err != nil || !tensor.SameShape(got, c.want) {
			t.Errorf("broadcastShape(%v, %v) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	_, err := broadcastShape([]string{"A", "B"}, []int{3, 4}, []int{3})
	mtWantErr(t, "[3 4] with [3]", err, `input "B" [3] does not broadcast`)
	_, err = broadcastShape([]string{"A", "B"}, []int{2, 0}, []int{3, 1})
	mtWantErr(t, "[2 0] with [3 1]", err, "does not broadcast")
}

// TestBcastPlanOffsets checks, on random broadcasts of one to three inputs, that the runs
// visit every output element once, in order, with the input elements the naive definition
// gives.
func TestBcastPlanOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		k := 1 + trial%3
		shapes := mtRandBroadcast(rng, k)
		names := []string{"a", "b", "c"}[:k]
		out, err := broadcastShape(names, shapes...)
		if err != nil {
			t.Fatal(err)
		}
		n := tensor.Numel(out)
		// Each input element holds its own flat index; the kernel writes them to dst.
		idx := make([][]int, k)
		for j, s := range shapes {
			idx[j] = make([]int, tensor.Numel(s))
			for i := range idx[j] {
				idx[j][i] = i
			}
		}
		got := make([][3]int, n)
		p := newBcastPlan(out, shapes...)
		switch k {
		case 1:
			bcast1(p, got, idx[0], func(dst [][3]int, a []int) {
				for i := range dst {
					dst[i][0] = a[min(i, len(a)-1)]
				}
			})
		case 2:
			bcast2(p, got, idx[0], idx[1], func(dst [][3]int, a, b []int) {
				for i := range dst {
					dst[i] = [3]int{a[min(i, len(a)-1)], b[min(i, len(b)-1)]}
				}
			})
		case 3:
			bcast3(p, got, idx[0], idx[1], idx[2], func(dst [][3]int, a, b, c []int) {
				for i := range dst {
					dst[i] = [3]int{a[min(i, len(a)-1)], b[min(i, len(b)-1)], c[min(i, len(c)-1)]}
				}
			})
		}
		o := 0
		forEachIndex(out, func(ix []int) {
			for j, s := range shapes {
				if want := mtBroadcastOffset(s, ix); got[o][j] != want {
					t.Fatalf("shapes %v -> %v: output %v, input %d: offset %d, want %d", shapes, out, ix, j, got[o][j], want)
				}
			}
			o++
		})
	}
}

// TestBcastPlanCollapse pins the fast paths: how many runs common broadcasts take.
func TestBcastPlanCollapse(t *testing.T) {
	for _, c := range []struct {
		a, b []int
		dims int // collapsed dimensions, so the number of runs is the product of all but the last
	}{
		{[]int{2, 3, 4}, []int{2, 3, 4}, 1}, // same shape: one run
		{[]int{2, 3, 4}, []int{}, 1},        // scalar: one run
		{[]int{2, 3, 4}, []int{1, 1, 1}, 1}, // scalar of rank 3
		{[]int{2, 3, 4}, []int{4}, 2},       // suffix: 6 runs of 4
		{[]int{2, 3, 4}, []int{3, 4}, 2},    // suffix: 2 runs of 12
		{[]int{8, 3, 5, 5}, []int{3, 1, 1}, 3},
		{[]int{1, 1}, []int{1}, 0}, // one element
	} {
		out, err := broadcastShape([]string{"a", "b"}, c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if p := newBcastPlan(out, c.a, c.b); len(p.dims) != c.dims {
			t.Errorf("%v with %v: collapsed to %v, want %d dimensions", c.a, c.b, p.dims, c.dims)
		}
	}
}

// mtCheckBinary runs op on 200 random broadcasts of two inputs of dtype dt (element type T,
// values from gen) and compares each output element with ref applied to the two input
// elements the naive broadcast picks. ref computes in T like the kernel, so the comparison is
// exact: this checks broadcasting and dispatch, and the kernel's formula against ref's.
func mtCheckBinary[T numericElem](t *testing.T, op Op, dt tensor.DType, gen func(*rand.Rand) T, ref func(a, b T) T) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, uint64(dt)))
	for range 200 {
		shapes := mtRandBroadcast(rng, 2)
		a, b := tensor.New(dt, shapes[0]...), tensor.New(dt, shapes[1]...)
		for i := range dataOf[T](a) {
			dataOf[T](a)[i] = gen(rng)
		}
		for i := range dataOf[T](b) {
			dataOf[T](b)[i] = gen(rng)
		}
		y, err := mtRun(op, a, b)
		if err != nil {
			t.Fatalf("%v %v with %v: %v", dt, a, b, err)
		}
		out, _ := broadcastShape([]string{"A", "B"}, a.Shape, b.Shape)
		if y.DType != dt || !tensor.SameShape(y.Shape, out) {
			t.Fatalf("%v with %v: got %v, want %v%s", a, b, y, dt, tensor.ShapeString(out))
		}
		o := 0
		forEachIndex(out, func(ix []int) {
			av := dataOf[T](a)[mtBroadcastOffset(a.Shape, ix)]
			bv := dataOf[T](b)[mtBroadcastOffset(b.Shape, ix)]
			if got, want := dataOf[T](y)[o], ref(av, bv); got != want {
				t.Fatalf("%v with %v at %v: f(%v, %v) = %v, want %v", a, b, ix, av, bv, got, want)
			}
			o++
		})
	}
}

// mtGenFloat returns a generator of float values in [-10, 10) of type T.
func mtGenFloat[T floatElem](rng *rand.Rand) T { return T(rng.Float64()*20 - 10) }

// mtGenInt returns a generator of any value of the integer type T (wrapping from int64).
func mtGenInt[T int64 | int32 | int8 | uint8](rng *rand.Rand) T { return T(rng.Int64()) }

// mtCheckArith runs mtCheckBinary for every dtype of the arithmetic ops, with ref written once
// per type family.
func mtCheckArith(t *testing.T, op Op, fref func(a, b float64) float64, iref func(a, b int64) int64, igen func(*rand.Rand) int64) {
	t.Helper()
	mtCheckBinary(t, op, tensor.Float32, mtGenFloat[float32], func(a, b float32) float32 { return float32(fref(float64(a), float64(b))) })
	mtCheckBinary(t, op, tensor.Float64, mtGenFloat[float64], fref)
	mtCheckBinary(t, op, tensor.Int64, func(r *rand.Rand) int64 { return igen(r) }, iref)
	mtCheckBinary(t, op, tensor.Int32, func(r *rand.Rand) int32 { return int32(igen(r)) }, func(a, b int32) int32 { return int32(iref(int64(a), int64(b))) })
	mtCheckBinary(t, op, tensor.Int8, func(r *rand.Rand) int8 { return int8(igen(r)) }, func(a, b int8) int8 { return int8(iref(int64(a), int64(b))) })
	mtCheckBinary(t, op, tensor.Uint8, func(r *rand.Rand) uint8 { return uint8(igen(r)) }, func(a, b uint8) uint8 { return uint8(iref(int64(a), int64(b))) })
}

// mtCheckBinaryErrors checks the errors every same-dtype broadcasting binary op gives.
func mtCheckBinaryErrors(t *testing.T, c Constructor, opType string) {
	t.Helper()
	op := mtMustBuild(t, c, mtNode(opType, 14, mtInputs(2)))
	_, err := mtRun(op, tensor.New(tensor.Float32, 3, 4), tensor.New(tensor.Float32, 3))
	mtWantErr(t, opType+" [3 4] with [3]", err, "does not broadcast")
	_, err = mtRun(op, tensor.New(tensor.Float32, 3), tensor.New(tensor.Float64, 3))
	mtWantErr(t, opType+" float32 with float64", err, "want the same dtype")
	_, err = mtRun(op, tensor.New(tensor.Bool, 3), tensor.New(tensor.Bool, 3))
	mtWantErr(t, opType+" bool", err, "dtype bool is not supported")
	_, err = mtBuild(c, mtNode(opType, 14, []string{"a", ""}))
	mtWantErr(t, opType+" with an empty input", err, "input 1 is required")
	_, err = mtBuild(c, mtNode(opType, 14, mtInputs(3)))
	mtWantErr(t, opType+" with 3 inputs", err, "want 2 inputs")
}

func TestInferBroadcast(t *testing.T) {
	r := func(s ...int) Type { return Type{Shape: s, Ranked: true} }
	for _, c := range []struct {
		a, b   Type
		want   []int
		ranked bool
	}{
		{r(3, -1), r(4), []int{3, 4}, true},     // the unknown must be 1 or 4
		{r(-1, 1), r(1, 5), []int{-1, 5}, true}, // unknown against 1 stays unknown
		{r(2, 3), r(-1, -1, 1), []int{-1, 2, 3}, true},
		{r(), r(), []int{}, true},
		{r(3), Type{}, nil, false}, // unranked input: unranked output
	} {
		got, ranked, err := inferBroadcast([]string{"A", "B"}, c.a, c.b)
		if err != nil || ranked != c.ranked || !tensor.SameShape(got, c.want) {
			t.Errorf("inferBroadcast(%v, %v) = %v, %v, %v; want %v, %v", c.a, c.b, got, ranked, err, c.want, c.ranked)
		}
	}
	_, _, err := inferBroadcast([]string{"A", "B"}, r(3, -1), r(4, 2))
	mtWantErr(t, "[3 ?] with [4 2]", err, `input "B" [4 2] does not broadcast`)
}

// TestMathInferErrors checks that plan-time inference rejects what a run would reject, for the
// errors that do not depend on values.
func TestMathInferErrors(t *testing.T) {
	f := func(s ...int) Type { return Type{DType: tensor.Float32, Shape: s, Ranked: true} }
	i64 := Type{DType: tensor.Int64}
	for _, c := range []struct {
		c      Constructor
		node   *Node
		in     []Type
		substr string
	}{
		{newAdd, mtNode("Add", 14, mtInputs(2)), []Type{f(3, 4), f(3)}, "does not broadcast"},
		{newAdd, mtNode("Add", 14, mtInputs(2)), []Type{f(3), i64}, "want the same dtype"},
		{newAdd, mtNode("Add", 14, mtInputs(2)), []Type{{DType: tensor.Bool}, {}}, "dtype bool is not supported"},
		{newExp, mtNode("Exp", 13, mtInputs(1)), []Type{i64}, "dtype int64 is not supported"},
		{newLess, mtNode("Less", 13, mtInputs(2)), []Type{f(2), f(3)}, "does not broadcast"},
		{newWhere, mtNode("Where", 16, mtInputs(3)), []Type{f(2), f(2), f(2)}, `input "condition"`},
		{newMax, mtNode("Max", 13, mtInputs(2)), []Type{f(2), i64}, "want the same dtype"},
		{newPow, mtNode("Pow", 7, mtInputs(2)), []Type{f(2), i64}, "before opset 12"},
		{newClip, mtNode("Clip", 13, mtInputs(2)), []Type{f(2), f(2)}, `input "min": want a scalar`},
		{newSoftmax, mtNode("Softmax", 13, mtInputs(1), onnx.AttrInt("axis", 3)), []Type{f(2, 2)}, "out of range"},
		{newGemm, mtNode("Gemm", 13, mtInputs(3)), []Type{f(2, 3), f(4, 5), {}}, "inner dimensions differ"},
		{newGemm, mtNode("Gemm", 13, mtInputs(3)), []Type{f(2, 3), f(3, 5), f(2, 4)}, `input "C"`},
		{newGemm, mtNode("Gemm", 13, mtInputs(2)), []Type{f(2, 3, 1), {}}, "want rank 2"},
		{newMatMul, mtNode("MatMul", 13, mtInputs(2)), []Type{f(2, 3), f(4, 5)}, "inner dimensions differ"},
		{newMatMul, mtNode("MatMul", 13, mtInputs(2)), []Type{f(2, 2, 3), f(3, 3, 5)}, "does not broadcast"},
		{newArgMax, mtNode("ArgMax", 13, mtInputs(1), onnx.AttrInt("axis", 2)), []Type{f(2, 2)}, "out of range"},
		{newReduceSum, mtNode("ReduceSum", 11, mtInputs(1), onnx.AttrInts("axes", 2)), []Type{f(2, 2)}, "out of range"},
		{newCastLike, mtNode("CastLike", 15, mtInputs(2)), []Type{f(2), {DType: tensor.Float16}}, "not supported"},
	} {
		op := mtMustBuild(t, c.c, c.node)
		_, err := op.(Inferer).Infer(c.in)
		mtWantErr(t, fmt.Sprintf("%s.Infer(%v)", c.node.Proto.GetOpType(), c.in), err, c.substr)
	}
}

// TestMathInferUnknown checks that inference accepts unknown inputs and says what it can.
func TestMathInferUnknown(t *testing.T) {
	f := func(s ...int) Type { return Type{DType: tensor.Float32, Shape: s, Ranked: true} }
	axes := tensor.FromInt64([]int64{-1}, 1)
	sumConst := mtNode("ReduceSum", 13, mtInputs(2), onnx.AttrInt("keepdims", 0))
	sumConst.Consts[1] = axes
	for _, c := range []struct {
		c    Constructor
		node *Node
		in   []Type
		want Type
	}{
		{newAdd, mtNode("Add", 14, mtInputs(2)), []Type{{}, {}}, Type{}},
		{newMatMul, mtNode("MatMul", 13, mtInputs(2)), []Type{f(-1, 2, 3), f(3, -1)}, f(-1, 2, -1)},
		{newMatMul, mtNode("MatMul", 13, mtInputs(2)), []Type{f(3), f(5, 3, 4)}, f(5, 4)},
		{newGemm, mtNode("Gemm", 13, mtInputs(2), onnx.AttrInt("transA", 1)), []Type{f(3, -1), {}}, f(-1, -1)},
		{newReduceSum, sumConst, []Type{f(2, -1, 4)}, f(2, -1)},
		{newReduceSum, mtNode("ReduceSum", 13, mtInputs(2)), []Type{f(2, 1, 4), {}}, f(-1, 1, -1)},
		{newReduceMean, mtNode("ReduceMean", 13, mtInputs(1), onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 0)), []Type{f(2, 3)}, f(3)},
		{newArgMax, mtNode("ArgMax", 13, mtInputs(1), onnx.AttrInt("keepdims", 0)), []Type{f(-1, 3)}, Type{DType: tensor.Int64, Shape: []int{3}, Ranked: true}},
		{newCast, mtNode("Cast", 13, mtInputs(1), onnx.AttrInt("to", int64(tensor.Int8))), []Type{f(2)}, Type{DType: tensor.Int8, Shape: []int{2}, Ranked: true}},
		{newLess, mtNode("Less", 13, mtInputs(2)), []Type{f(2, 1), {DType: tensor.Float32}}, Type{DType: tensor.Bool}},
	} {
		op := mtMustBuild(t, c.c, c.node)
		got, err := op.(Inferer).Infer(c.in)
		if err != nil || len(got) != 1 || got[0].String() != c.want.String() {
			t.Errorf("%s.Infer(%v) = %v, %v; want %v", c.node.Proto.GetOpType(), c.in, got, err, c.want)
		}
	}
}
