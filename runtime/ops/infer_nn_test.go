package ops

// Tests of the plan-time type inference (Infer) of the NN ops (Conv, ConvTranspose, MaxPool,
// AveragePool, GlobalAveragePool, BatchNormalization, LRN) and the recurrent ops (LSTM, GRU,
// RNN): on fully known inputs Infer gives exactly what Run produces; on partially known
// inputs it does not fail, and what it claims holds for what Run produces; inconsistent
// inputs give an error naming the input.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// inferCase is one planned op with concrete inputs, drawn from the random cases the op's own
// tests use.
type inferCase struct {
	what    string
	op      Op
	in      []*tensor.Tensor // nil for an absent optional input
	present []bool           // which output slots have a name
}

// run runs the case with fresh outputs; absent outputs stay nil.
func (c *inferCase) run() ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, len(c.present))
	for i, p := range c.present {
		if p {
			out[i] = &tensor.Tensor{}
		}
	}
	return out, c.op.Run(&Ctx{Threads: 1}, c.in, out)
}

// types returns the exact types of the case's inputs (Unknown for absent ones), as the
// planner has them when every input is an initializer or a fully declared graph input.
func (c *inferCase) types() []Type {
	ts := make([]Type, len(c.in))
	for i, x := range c.in {
		if x != nil {
			ts[i] = TypeOf(x)
		}
	}
	return ts
}

func allPresent(n int) []bool {
	p := make([]bool, n)
	for i := range p {
		p[i] = true
	}
	return p
}

// inferCases draws n random cases of every op of the families.
func inferCases(t *testing.T, rng *rand.Rand, n int) []inferCase {
	t.Helper()
	var cases []inferCase
	for trial := range n {
		nd := 1 + trial%3

		c := randomConvCase(rng, nd)
		in := []*tensor.Tensor{
			nnRandom(rng, append([]int{c.n, c.group * c.cg}, c.in...)...),
			nnRandom(rng, append([]int{c.group * c.mg, c.cg}, c.kernel...)...),
		}
		if c.bias {
			in = append(in, nnRandom(rng, c.group*c.mg))
		}
		cases = append(cases, inferCase{fmt.Sprintf("Conv %+v", c), nnMustBuild(t, newConv, c.node()), in, allPresent(1)})

		ct := randomCTCase(rng, nd)
		in = []*tensor.Tensor{
			nnRandom(rng, append([]int{ct.n, ct.group * ct.cg}, ct.in...)...),
			nnRandom(rng, append([]int{ct.group * ct.cg, ct.mg}, ct.kernel...)...),
		}
		if ct.bias {
			in = append(in, nnRandom(rng, ct.group*ct.mg))
		}
		cases = append(cases, inferCase{fmt.Sprintf("ConvTranspose %+v", ct), nnMustBuild(t, newConvTranspose, ct.node()), in, allPresent(1)})

		p := randomPoolCase(rng, nd)
		dt := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int8, tensor.Uint8}[rng.IntN(4)]
		x := tensor.New(dt, append([]int{p.n, p.c}, p.in...)...)
		nOut := 1 + rng.IntN(2)
		cases = append(cases, inferCase{fmt.Sprintf("MaxPool %v %+v", dt, p),
			nnMustBuild(t, newMaxPool, nnNode("MaxPool", 12, 1, nOut, p.attrs()...)), []*tensor.Tensor{x}, allPresent(nOut)})
		xf := tensor.New([]tensor.DType{tensor.Float32, tensor.Float64}[rng.IntN(2)], x.Shape...)
		cases = append(cases, inferCase{fmt.Sprintf("AveragePool %+v", p),
			nnMustBuild(t, newAveragePool, nnNode("AveragePool", 19, 1, 1, p.attrs()...)), []*tensor.Tensor{xf}, allPresent(1)})

		x = bnRandomX(rng, xf.DType, 2+trial%4)
		cases = append(cases,
			inferCase{fmt.Sprintf("GlobalAveragePool %v", x), nnMustBuild(t, newGlobalAveragePool, nnNode("GlobalAveragePool", 22, 1, 1)),
				[]*tensor.Tensor{x}, allPresent(1)},
			inferCase{fmt.Sprintf("LRN %v", x), nnMustBuild(t, newLRN, nnNode("LRN", 13, 1, 1, onnx.AttrInt("size", int64(1+rng.IntN(4))))),
				[]*tensor.Tensor{x}, allPresent(1)})
		opset, nOut := []int64{7, 9, 14, 15}[trial%4], 1
		var attrs []*onnx.AttributeProto
		pshape := x.Shape[1:2]
		switch {
		case opset == 7 && rng.IntN(2) == 0:
			attrs, pshape = append(attrs, onnx.AttrInt("spatial", 0)), x.Shape[1:]
		case opset == 15 && rng.IntN(2) == 0:
			attrs, nOut = append(attrs, onnx.AttrInt("training_mode", 1)), 1+rng.IntN(3)
		}
		bp := bnParams(rng, pshape)
		cases = append(cases, inferCase{fmt.Sprintf("BatchNormalization opset %d %v params %v", opset, x, pshape),
			nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", opset, 5, nOut, attrs...)),
			[]*tensor.Tensor{x, bp[0], bp[1], bp[2], bp[3]}, allPresent(nOut)})

		for _, r := range []struct {
			cons         Constructor
			op           string
			gates, nActs int
			cell         bool
		}{{newLSTM, "LSTM", 4, 3, true}, {newGRU, "GRU", 3, 2, false}, {newRNN, "RNN", 1, 1, false}} {
			rp := randRNNProblem(rng, r.op, r.gates, r.nActs, r.cell)
			np, in := rp.node()
			op, err := rnnPlan(r.cons, np, rp.opset, nil)
			if err != nil {
				t.Fatalf("%v: %v", rp, err)
			}
			present := make([]bool, len(np.GetOutput()))
			for i, name := range np.GetOutput() {
				present[i] = name != ""
			}
			cases = append(cases, inferCase{rp.String(), op, in, present})
		}
	}
	return cases
}

// typesEqual reports whether two types are the same, dimension for dimension.
func typesEqual(a, b Type) bool {
	return a.DType == b.DType && a.Ranked == b.Ranked && slices.Equal(a.Shape, b.Shape)
}

// TestInferNNExact checks, on the random cases of the ops' own tests, that Infer on the exact
// input types gives exactly the types of what Run produces: inference and execution compute
// the output shape with the same function, and this pins that they call it the same way.
func TestInferNNExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	for _, c := range inferCases(t, rng, 150) {
		out, err := c.run()
		if err != nil {
			t.Fatalf("%s: run: %v", c.what, err)
		}
		got, err := c.op.(Inferer).Infer(c.types())
		if err != nil {
			t.Fatalf("%s: Infer: %v", c.what, err)
		}
		if len(got) != len(c.present) {
			t.Fatalf("%s: Infer gave %d types for %d outputs", c.what, len(got), len(c.present))
		}
		for i, y := range out {
			if y != nil && !typesEqual(got[i], TypeOf(y)) {
				t.Fatalf("%s: output %d: Infer gave %v, Run produced %v", c.what, i, got[i], y)
			}
		}
	}
}

// blur forgets part of what is known of the type of a present input: with probability 1/6
// everything, 1/6 the rank, and otherwise each dimension with probability 1/3.
func blur(rng *rand.Rand, t Type) Type {
	if !t.Ranked {
		return t // an absent input
	}
	switch rng.IntN(6) {
	case 0:
		return Unknown
	case 1:
		return Type{DType: t.DType}
	}
	s := slices.Clone(t.Shape)
	for i := range s {
		if rng.IntN(3) == 0 {
			s[i] = -1
		}
	}
	return Type{DType: t.DType, Shape: s, Ranked: true}
}

// TestInferNNPartial checks that Infer accepts partially known inputs (random dimensions,
// ranks or whole types forgotten) without error, and that what it then claims holds for what
// Run produces: a wrong claim would make the planner reject or mis-plan a valid model.
func TestInferNNPartial(t *testing.T) {
	rng := rand.New(rand.NewPCG(83, 84))
	for _, c := range inferCases(t, rng, 100) {
		out, err := c.run()
		if err != nil {
			t.Fatalf("%s: run: %v", c.what, err)
		}
		for range 5 {
			in := c.types()
			for i := range in {
				in[i] = blur(rng, in[i])
			}
			got, err := c.op.(Inferer).Infer(in)
			if err != nil {
				t.Fatalf("%s: Infer(%v): %v", c.what, in, err)
			}
			if len(got) != len(c.present) {
				t.Fatalf("%s: Infer(%v) gave %d types for %d outputs", c.what, in, len(got), len(c.present))
			}
			for i, y := range out {
				if y != nil && !got[i].Compatible(y) {
					t.Fatalf("%s: output %d: Infer(%v) gave %v, Run produced %v", c.what, i, in, got[i], y)
				}
			}
		}
	}
}

// TestInferNNUnknownBatch checks that an unknown batch size in X (the usual dynamic
// dimension of an exported model) keeps every other output dimension known.
func TestInferNNUnknownBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(85, 86))
	for _, c := range inferCases(t, rng, 60) {
		out, err := c.run()
		if err != nil {
			t.Fatalf("%s: run: %v", c.what, err)
		}
		in := c.types()
		// The batch axis of X: 0, or 1 for the recurrent ops in layout 0 ([seq, batch, in]).
		batchAxis, yBatch := 0, func(int) int { return 0 }
		if rec := recurrentOf(c.op); rec != nil && rec.layout == 0 {
			batchAxis = 1
			yBatch = func(slot int) int { // Y [seq, dirs, batch, H]; states [dirs, batch, H]
				if slot == 0 {
					return 2
				}
				return 1
			}
		}
		in[0].Shape[batchAxis] = -1
		// Other inputs can give the batch size away (sequence_lens, initial states): forget them.
		if recurrentOf(c.op) != nil {
			for i := 4; i < min(7, len(in)); i++ {
				in[i] = Unknown
			}
		}
		got, err := c.op.(Inferer).Infer(in)
		if err != nil {
			t.Fatalf("%s: Infer(%v): %v", c.what, in, err)
		}
		for i, y := range out {
			if y == nil {
				continue
			}
			want := TypeOf(y)
			if _, ok := c.op.(*batchNorm); !ok || i == 0 { // running_mean and running_var have no batch
				want.Shape[yBatch(i)] = -1
			}
			if !typesEqual(got[i], want) {
				t.Fatalf("%s: output %d: Infer(%v) gave %v, want %v", c.what, i, in, got[i], want)
			}
		}
	}
}

// recurrentOf returns the shared part of a recurrent op, or nil for other ops.
func recurrentOf(op Op) *recurrent {
	switch op := op.(type) {
	case *lstm:
		return &op.rec
	case *gru:
		return &op.rec
	case *rnn:
		return &op.rec
	}
	return nil
}

// Shorthands for the tables below: f32(2, -1) is float32 [2 ?].
func f32(dims ...int) Type { return Type{DType: tensor.Float32, Shape: dims, Ranked: true} }
func i64(dims ...int) Type { return Type{DType: tensor.Int64, Shape: dims, Ranked: true} }

var anyF32 = Type{DType: tensor.Float32}

// inferTable is one Infer call on a node built with nnNode: its inputs, and the outputs or
// the error (a substring) it must give.
type inferTable struct {
	name  string
	cons  Constructor
	op    string
	opset int64
	nOut  int
	attrs []*onnx.AttributeProto
	in    []Type
	want  []Type // nil when an error is expected
	err   string
}

func (c *inferTable) check(t *testing.T) {
	t.Helper()
	op := nnMustBuild(t, c.cons, nnNode(c.op, c.opset, len(c.in), c.nOut, c.attrs...))
	got, err := op.(Inferer).Infer(c.in)
	if c.want == nil {
		nnWantErr(t, c.name, err, c.err)
		return
	}
	if err != nil {
		t.Errorf("%s: Infer: %v", c.name, err)
		return
	}
	if len(got) != len(c.want) || !slices.EqualFunc(got, c.want, typesEqual) {
		t.Errorf("%s: Infer(%v) (-want +got):\n-%v\n+%v", c.name, c.in, c.want, got)
	}
}

// TestInferNNKnownParts pins what Infer keeps from partially known inputs, worked out by hand
// from the ONNX output-size formulas.
func TestInferNNKnownParts(t *testing.T) {
	ints := onnx.AttrInts
	cases := []inferTable{
		// Conv: out = floor((in + pads - ((k-1)*d + 1)) / s) + 1.
		{"Conv pads 1, dynamic batch", newConv, "Conv", 11, 1, []*onnx.AttributeProto{ints("pads", 1, 1, 1, 1)},
			[]Type{f32(-1, 3, 32, 32), f32(8, 3, 3, 3)}, []Type{f32(-1, 8, 32, 32)}, ""},
		{"Conv unknown height, stride 2", newConv, "Conv", 11, 1, []*onnx.AttributeProto{ints("strides", 2, 2)},
			[]Type{f32(1, 3, -1, 32), f32(8, 3, 3, 3), f32(8)}, []Type{f32(1, 8, -1, 15)}, ""},
		{"Conv unranked X takes W's rank", newConv, "Conv", 11, 1, nil,
			[]Type{anyF32, f32(8, 3, 3, 3)}, []Type{f32(-1, 8, -1, -1)}, ""},
		{"Conv M from B", newConv, "Conv", 11, 1, nil,
			[]Type{f32(2, 3, 5, 5), f32(-1, 3, 3, 3), f32(6)}, []Type{f32(2, 6, 3, 3)}, ""},
		{"Conv kernel_shape stands in for W", newConv, "Conv", 11, 1, []*onnx.AttributeProto{ints("kernel_shape", 3, 3)},
			[]Type{f32(2, 3, 5, 7), Unknown}, []Type{f32(2, -1, 3, 5)}, ""},
		{"Conv nothing known", newConv, "Conv", 11, 1, nil, []Type{Unknown, Unknown}, []Type{anyF32}, ""},
		// SAME_UPPER: out = ceil(in / s), whatever the kernel.
		{"Conv SAME_UPPER, unknown W", newConv, "Conv", 11, 1, []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_UPPER"), ints("strides", 2)},
			[]Type{f32(1, 4, 9), Unknown}, []Type{f32(1, -1, 5)}, ""},
		// ConvTranspose: output_shape gives the spatial sizes without X's.
		{"ConvTranspose output_shape", newConvTranspose, "ConvTranspose", 11, 1, []*onnx.AttributeProto{ints("strides", 3, 2), ints("output_shape", 10, 8)},
			[]Type{f32(-1, 1, -1, -1), f32(1, 2, 3, 3)}, []Type{f32(-1, 2, 10, 8)}, ""},
		// out = s*(in-1) + output_padding + (k-1)*d + 1 - pads = 2*4 + 1 + 2 + 1 - 2 = 10.
		{"ConvTranspose group 2", newConvTranspose, "ConvTranspose", 11, 1, []*onnx.AttributeProto{ints("strides", 2), ints("output_padding", 1), ints("pads", 1, 1), onnx.AttrInt("group", 2)},
			[]Type{f32(-1, 4, 5), f32(4, 3, 3)}, []Type{f32(-1, 6, 10)}, ""},
		{"MaxPool SAME_UPPER with Indices", newMaxPool, "MaxPool", 12, 2, []*onnx.AttributeProto{ints("kernel_shape", 3, 3), ints("strides", 2, 2), onnx.AttrString("auto_pad", "SAME_UPPER")},
			[]Type{{DType: tensor.Uint8, Shape: []int{-1, 3, 7, -1}, Ranked: true}}, []Type{{DType: tensor.Uint8, Shape: []int{-1, 3, 4, -1}, Ranked: true}, i64(-1, 3, 4, -1)}, ""},
		// ceil_mode: ceil((5 + 0 - 2) / 2) + 1 = 3.
		{"AveragePool unranked X, ceil_mode", newAveragePool, "AveragePool", 19, 1, []*onnx.AttributeProto{ints("kernel_shape", 2), ints("strides", 2), onnx.AttrInt("ceil_mode", 1)},
			[]Type{Unknown}, []Type{{Shape: []int{-1, -1, -1}, Ranked: true}}, ""},
		{"AveragePool ceil_mode", newAveragePool, "AveragePool", 19, 1, []*onnx.AttributeProto{ints("kernel_shape", 2), ints("strides", 2), onnx.AttrInt("ceil_mode", 1)},
			[]Type{f32(1, -1, 5)}, []Type{f32(1, -1, 3)}, ""},
		{"GlobalAveragePool", newGlobalAveragePool, "GlobalAveragePool", 22, 1, nil,
			[]Type{f32(-1, 5, -1, -1)}, []Type{f32(-1, 5, 1, 1)}, ""},
		{"GlobalAveragePool unranked", newGlobalAveragePool, "GlobalAveragePool", 22, 1, nil, []Type{anyF32}, []Type{anyF32}, ""},
		{"LRN", newLRN, "LRN", 13, 1, []*onnx.AttributeProto{onnx.AttrInt("size", 3)}, []Type{f32(-1, 5, 2)}, []Type{f32(-1, 5, 2)}, ""},
		{"BatchNormalization C from scale", newBatchNorm, "BatchNormalization", 15, 1, nil,
			[]Type{f32(-1, -1, 4, 4), f32(3), Unknown, Unknown, Unknown}, []Type{f32(-1, 3, 4, 4)}, ""},
		{"BatchNormalization training", newBatchNorm, "BatchNormalization", 15, 3, []*onnx.AttributeProto{onnx.AttrInt("training_mode", 1)},
			[]Type{f32(-1, 3), f32(3), f32(3), {DType: tensor.Float64, Shape: []int{3}, Ranked: true}, f32(3)},
			[]Type{f32(-1, 3), {DType: tensor.Float64, Shape: []int{3}, Ranked: true}, f32(3)}, ""},
		// LSTM layout 0: Y [seq, dirs, batch, H], states [dirs, batch, H]; H = 12/4 from W.
		{"LSTM hidden from W", newLSTM, "LSTM", 14, 3, nil,
			[]Type{anyF32, f32(1, 12, 2), Unknown}, []Type{f32(-1, 1, -1, 3), f32(1, -1, 3), f32(1, -1, 3)}, ""},
		{"LSTM batch from initial_h", newLSTM, "LSTM", 14, 2, []*onnx.AttributeProto{onnx.AttrString("direction", "bidirectional")},
			[]Type{f32(7, -1, 2), Unknown, Unknown, Unknown, Unknown, f32(2, 5, 4)}, []Type{f32(7, 2, 5, 4), f32(2, 5, 4)}, ""},
		// GRU layout 1: X [batch, seq, in], Y [batch, seq, dirs, H], Y_h [batch, dirs, H].
		{"GRU layout 1", newGRU, "GRU", 14, 2, []*onnx.AttributeProto{onnx.AttrInt("layout", 1), onnx.AttrInt("hidden_size", 3)},
			[]Type{f32(4, -1, 2), Unknown, Unknown}, []Type{f32(4, -1, 1, 3), f32(4, 1, 3)}, ""},
		{"RNN batch from sequence_lens", newRNN, "RNN", 7, 1, nil,
			[]Type{f32(6, -1, 2), f32(1, 5, 2), f32(1, 5, 5), Unknown, {DType: tensor.Int32, Shape: []int{3}, Ranked: true}},
			[]Type{f32(6, 1, 3, 5)}, ""},
	}
	for _, c := range cases {
		c.check(t)
	}
}

// TestInferNNErrors checks that inputs that cannot be right are rejected at plan time with an
// error naming the input, also when only part of their types is known.
func TestInferNNErrors(t *testing.T) {
	ints := onnx.AttrInts
	f64 := Type{DType: tensor.Float64, Shape: []int{1, 1, 3, 3}, Ranked: true}
	cases := []inferTable{
		{"Conv float64 X", newConv, "Conv", 11, 1, nil, []Type{f64, f32(1, 1, 2, 2)}, nil, `input "X": dtype float64 is not supported`},
		{"Conv X rank 2", newConv, "Conv", 11, 1, nil, []Type{f32(1, 3), Unknown}, nil, `input "X": want rank 3 to 5`},
		{"Conv W rank 2, X unranked", newConv, "Conv", 11, 1, nil, []Type{Unknown, f32(1, 3)}, nil, `input "W": want rank 3 to 5`},
		{"Conv W rank", newConv, "Conv", 11, 1, nil, []Type{f32(-1, 1, 3, 3), f32(1, 1, 3)}, nil, `input "W": want rank 4 like X`},
		{"Conv channels", newConv, "Conv", 11, 1, nil, []Type{f32(-1, 3, -1, -1), f32(2, 2, 1, 1)}, nil, `input "W": want shape [M, C/group = 3`},
		{"Conv group", newConv, "Conv", 11, 1, []*onnx.AttributeProto{onnx.AttrInt("group", 2)}, []Type{Unknown, f32(3, 2, 1, 1)}, nil, `input "W": 3 output channels are not divisible by group 2`},
		{"Conv B", newConv, "Conv", 11, 1, nil, []Type{Unknown, f32(2, 1, 1, 1), f32(3)}, nil, `input "B": want shape [2], got [3]`},
		{"Conv B rank", newConv, "Conv", 11, 1, nil, []Type{Unknown, Unknown, f32(3, 1)}, nil, `input "B": want shape [M], got [3 1]`},
		{"Conv kernel_shape", newConv, "Conv", 11, 1, []*onnx.AttributeProto{ints("kernel_shape", 3, 3)}, []Type{Unknown, f32(1, 1, 2, -1)}, nil, `kernel_shape [3 3] does not match W's spatial shape [2 ?]`},
		{"Conv attributes' rank", newConv, "Conv", 11, 1, []*onnx.AttributeProto{ints("strides", 1)}, []Type{f32(-1, 1, -1, -1), Unknown}, nil, `input "X": the attributes describe 1 spatial dimensions, the input has 2`},
		{"Conv too small", newConv, "Conv", 11, 1, nil, []Type{f32(-1, 1, 2, -1), f32(1, 1, 3, 3)}, nil, `input "X": spatial dimension 0: input size 2 with pads 0+0 is smaller than the kernel's extent 3`},
		{"ConvTranspose W channels", newConvTranspose, "ConvTranspose", 11, 1, nil, []Type{f32(-1, 2, 3, 3), f32(3, 1, 2, 2)}, nil, `input "W": want shape [C = 2`},
		{"ConvTranspose group", newConvTranspose, "ConvTranspose", 11, 1, []*onnx.AttributeProto{onnx.AttrInt("group", 2)}, []Type{Unknown, f32(3, 1, 2, 2)}, nil, `input "X": 3 channels are not divisible by group 2`},
		{"ConvTranspose B", newConvTranspose, "ConvTranspose", 11, 1, []*onnx.AttributeProto{onnx.AttrInt("group", 2)}, []Type{Unknown, f32(-1, 3, 2, 2), f32(3)}, nil, `input "B": want shape [6], got [3]`},
		{"ConvTranspose pads", newConvTranspose, "ConvTranspose", 11, 1, []*onnx.AttributeProto{ints("pads", 3, 0, 3, 0)}, []Type{f32(-1, 1, 2, 2), f32(1, 1, 2, 2)}, nil, `pads 3+3 exceed the full output size 3`},
		{"MaxPool rank", newMaxPool, "MaxPool", 12, 1, []*onnx.AttributeProto{ints("kernel_shape", 2, 2)}, []Type{f32(1, 3, 3)}, nil, `input "X": want rank 4`},
		{"MaxPool int64", newMaxPool, "MaxPool", 12, 1, []*onnx.AttributeProto{ints("kernel_shape", 2, 2)}, []Type{{DType: tensor.Int64}}, nil, `input "X": dtype int64 is not supported`},
		{"AveragePool uint8", newAveragePool, "AveragePool", 19, 1, []*onnx.AttributeProto{ints("kernel_shape", 2)}, []Type{{DType: tensor.Uint8}}, nil, `input "X": dtype uint8 is not supported`},
		{"AveragePool too small", newAveragePool, "AveragePool", 19, 1, []*onnx.AttributeProto{ints("kernel_shape", 3)}, []Type{f32(-1, -1, 2)}, nil, `input "X": spatial dimension 0: input size 2`},
		{"GlobalAveragePool rank 1", newGlobalAveragePool, "GlobalAveragePool", 22, 1, nil, []Type{f32(4)}, nil, `input "X": want rank at least 2`},
		{"LRN int32", newLRN, "LRN", 13, 1, []*onnx.AttributeProto{onnx.AttrInt("size", 3)}, []Type{{DType: tensor.Int32}}, nil, `input "X": dtype int32 is not supported`},
		{"LRN rank 1", newLRN, "LRN", 13, 1, []*onnx.AttributeProto{onnx.AttrInt("size", 3)}, []Type{f32(-1)}, nil, `input "X": want rank at least 2`},
		{"BatchNormalization scale", newBatchNorm, "BatchNormalization", 15, 1, nil, []Type{f32(-1, 3, -1, -1), f32(4), Unknown, Unknown, Unknown}, nil, `input "scale": want shape [3], got [4]`},
		{"BatchNormalization B against scale, X unranked", newBatchNorm, "BatchNormalization", 15, 1, nil, []Type{Unknown, f32(3), f32(4), Unknown, Unknown}, nil, `input "B": want shape [3], got [4]`},
		{"BatchNormalization int64 mean", newBatchNorm, "BatchNormalization", 15, 1, nil, []Type{Unknown, Unknown, Unknown, i64(3), Unknown}, nil, `input "input_mean": dtype int64 is not supported`},
		{"BatchNormalization spatial 0", newBatchNorm, "BatchNormalization", 7, 1, []*onnx.AttributeProto{onnx.AttrInt("spatial", 0)}, []Type{f32(-1, 3, 2), f32(3), Unknown, Unknown, Unknown}, nil, `input "scale": want shape [3 2], got [3]`},
		{"LSTM X input size", newLSTM, "LSTM", 14, 1, nil, []Type{f32(-1, -1, 5), f32(1, 12, 2), Unknown}, nil, `input "X": input_size 5 does not match W's 2`},
		{"LSTM X rank", newLSTM, "LSTM", 14, 1, nil, []Type{f32(6, 2), Unknown, Unknown}, nil, `input "X": want rank 3`},
		{"LSTM hidden_size", newLSTM, "LSTM", 14, 1, []*onnx.AttributeProto{onnx.AttrInt("hidden_size", 4)}, []Type{Unknown, Unknown, f32(1, 12, 3)}, nil, `input "R": want shape [1 16 4] (hidden_size 4), got [1 12 3]`},
		{"LSTM bidirectional", newLSTM, "LSTM", 14, 1, []*onnx.AttributeProto{onnx.AttrString("direction", "bidirectional")}, []Type{Unknown, f32(1, -1, -1), Unknown}, nil, `input "W": want shape [2 ? ?], got [1 ? ?]`},
		{"LSTM B against W's blocks", newLSTM, "LSTM", 14, 1, nil, []Type{Unknown, f32(1, 12, 2), Unknown, f32(1, 16)}, nil, `input "B": want shape [1 24], got [1 16]`},
		{"LSTM initial_h", newLSTM, "LSTM", 14, 1, nil, []Type{f32(2, 3, -1), Unknown, f32(1, 12, 3), Unknown, Unknown, f32(1, 2, 3)}, nil, `input "initial_h": want shape [1 3 3], got [1 2 3]`},
		{"LSTM initial_c", newLSTM, "LSTM", 14, 1, nil, []Type{Unknown, Unknown, f32(1, 12, 3), Unknown, Unknown, f32(1, 2, 3), f32(1, 4, 3)}, nil, `input "initial_c": want shape [1 2 3], got [1 4 3]`},
		{"LSTM P", newLSTM, "LSTM", 14, 1, nil, []Type{Unknown, Unknown, f32(1, 12, 3), Unknown, Unknown, Unknown, Unknown, f32(1, 12)}, nil, `input "P": want shape [1 9], got [1 12]`},
		{"LSTM float64 W", newLSTM, "LSTM", 14, 1, nil, []Type{Unknown, {DType: tensor.Float64}, Unknown}, nil, `input "W": dtype float64 is not supported`},
		{"GRU sequence_lens dtype", newGRU, "GRU", 14, 1, nil, []Type{Unknown, Unknown, Unknown, Unknown, f32(3)}, nil, `input "sequence_lens": dtype float32 is not supported`},
		{"GRU sequence_lens shape", newGRU, "GRU", 14, 1, nil, []Type{f32(-1, 3, -1), Unknown, Unknown, Unknown, i64(2)}, nil, `input "sequence_lens": want shape [3], got [2]`},
		{"RNN R", newRNN, "RNN", 14, 1, nil, []Type{Unknown, f32(1, 4, 2), f32(1, 4, 3)}, nil, `input "R": want shape [1 3 3], got [1 4 3]`},
	}
	for _, c := range cases {
		c.check(t)
	}
}

// TestShapeChecksScalarInputs checks that a scalar where a vector is due is an error, at run
// time and at plan time, and not taken for an absent optional input: the shape checks use a
// nil shape for "absent", and a scalar tensor's shape is nil too (the engine's fuzzing found
// BatchNormalization and LSTM reading such scalars out of range; FuzzMutate seeds
// 77086d52b946a167 and e2a068b79516aa98).
func TestShapeChecksScalarInputs(t *testing.T) {
	// Scalars as the ONNX decoder makes them: shape nil.
	scalar := &tensor.Tensor{DType: tensor.Float32, Data: []float32{1}}
	rng := rand.New(rand.NewPCG(87, 88))

	conv := nnMustBuild(t, newConv, nnNode("Conv", 11, 3, 1))
	ct := nnMustBuild(t, newConvTranspose, nnNode("ConvTranspose", 11, 3, 1))
	bn := nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", 15, 5, 1))
	x4, w4 := nnRandom(rng, 1, 2, 3, 3), nnRandom(rng, 2, 2, 1, 1)
	bp := bnParams(rng, []int{2})
	runs := []struct {
		name string
		op   Op
		in   []*tensor.Tensor
		want string
	}{
		{"Conv", conv, []*tensor.Tensor{x4, w4, scalar}, `input "B": want shape [2], got []`},
		{"ConvTranspose", ct, []*tensor.Tensor{x4, w4, scalar}, `input "B": want shape [2], got []`},
		{"BatchNormalization", bn, []*tensor.Tensor{x4, bp[0], scalar, bp[2], bp[3]}, `input "B": want shape [2], got []`},
	}
	for _, r := range runs {
		_, err := nnRun(r.op, r.in, 1)
		nnWantErr(t, r.name+" Run", err, r.want)
		_, err = r.op.(Inferer).Infer((&inferCase{in: r.in}).types())
		nnWantErr(t, r.name+" Infer", err, r.want)
	}

	// LSTM: seq 2, batch 3, input 2, hidden 3.
	p := &rnnProblem{op: "LSTM", gates: 4, seq: 2, batch: 3, input: 2, hidden: 3, direction: "forward", opset: 14, outputs: []bool{true}}
	p.x, p.w, p.r = rnnUniform(rng, 12), rnnUniform(rng, 24), rnnUniform(rng, 36)
	p.b, p.lens, p.p = rnnUniform(rng, 24), []int32{2, 1, 2}, rnnUniform(rng, 9)
	np, in := p.node()
	op, err := rnnPlan(newLSTM, np, 14, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		slot int
		x    *tensor.Tensor
		want string
	}{
		{3, scalar, `input "B": want shape [1 24], got []`},
		{4, &tensor.Tensor{DType: tensor.Int64, Data: []int64{1}}, `input "sequence_lens": want shape [3], got []`},
		{7, scalar, `input "P": want shape [1 9], got []`},
	} {
		in := slices.Clone(in)
		in[c.slot] = c.x
		rnnWantErr(t, op.Run(&Ctx{Threads: 1}, in, []*tensor.Tensor{{}}), c.want)
		_, err := op.(Inferer).Infer((&inferCase{in: in}).types())
		rnnWantErr(t, err, c.want)
	}
}
