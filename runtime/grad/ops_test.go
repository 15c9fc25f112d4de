package grad

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func TestUnaryGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	shape := []int{2, 3, 5}
	cases := []struct {
		op    string
		x     *tensor.Tensor
		attrs []*onnx.AttributeProto
	}{
		{"Relu", randAway(rng, 0.1, shape...), nil},
		{"LeakyRelu", randAway(rng, 0.1, shape...), []*onnx.AttributeProto{onnx.AttrFloat("alpha", 0.2)}},
		{"LeakyRelu", randAway(rng, 0.1, shape...), nil},
		{"Sigmoid", randn(rng, shape...), nil},
		{"Tanh", randn(rng, shape...), nil},
		{"Elu", randAway(rng, 0.1, shape...), []*onnx.AttributeProto{onnx.AttrFloat("alpha", 0.7)}},
		{"Selu", randAway(rng, 0.1, shape...), nil},
		{"Neg", randn(rng, shape...), nil},
		{"Exp", randn(rng, shape...), nil},
		{"Log", randUniform(rng, 0.5, 3, shape...), nil},
		{"Sqrt", randUniform(rng, 0.5, 3, shape...), nil},
		{"Identity", randn(rng, shape...), nil},
		{"Softmax", randn(rng, shape...), nil},
		{"Softmax", randn(rng, shape...), []*onnx.AttributeProto{onnx.AttrInt("axis", 1)}},
		{"Softmax", randn(rng, shape...), []*onnx.AttributeProto{onnx.AttrInt("axis", 0)}},
		{"LogSoftmax", randn(rng, shape...), []*onnx.AttributeProto{onnx.AttrInt("axis", 1)}},
		{"LogSoftmax", randn(rng, shape...), nil},
		{"LRN", randn(rng, 2, 5, 3, 2), []*onnx.AttributeProto{onnx.AttrInt("size", 3), onnx.AttrFloat("alpha", 0.5), onnx.AttrFloat("beta", 0.75), onnx.AttrFloat("bias", 2)}},
		{"LRN", randn(rng, 1, 6, 4), []*onnx.AttributeProto{onnx.AttrInt("size", 4), onnx.AttrFloat("alpha", 0.3), onnx.AttrFloat("beta", 0.6)}},
		{"LRN", randn(rng, 1, 4, 2, 3), []*onnx.AttributeProto{onnx.AttrInt("size", 5)}}, // the defaults: nearly the identity
	}
	for _, opset := range []int64{11, 17} { // Softmax coerces to 2-D before opset 13
		for i, tc := range cases {
			c := fdCase{name: caseName("%s#%d opset %d", tc.op, i, opset), opset: opset, inputs: []fdInput{wrt("x", tc.x.Clone())},
				of: []string{"y"}, nodes: node(tc.op, []string{"x"}, []string{"y"}, tc.attrs...)}
			c.check(t, rng)
		}
	}
}

func TestClipGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	// Elements at least 0.1 from the bounds -0.5 and 0.7.
	x := tensor.New(tensor.Float32, 3, 7)
	for i := range x.F32() {
		v := rng.Float64()*4 - 2
		for abs(v+0.5) < 0.1 || abs(v-0.7) < 0.1 {
			v = rng.Float64()*4 - 2
		}
		x.F32()[i] = float32(v)
	}
	cases := []fdCase{
		{name: "clip attrs", opset: 9, nodes: node("Clip", []string{"x"}, []string{"y"}, onnx.AttrFloat("min", -0.5), onnx.AttrFloat("max", 0.7))},
		{name: "clip inputs", opset: 13, nodes: node("Clip", []string{"x", "lo", "hi"}, []string{"y"}),
			inputs: []fdInput{konst("lo", scalar32(-0.5)), konst("hi", scalar32(0.7))}},
		{name: "clip max only", opset: 13, nodes: node("Clip", []string{"x", "", "hi"}, []string{"y"}),
			inputs: []fdInput{konst("hi", scalar32(0.7))}},
		{name: "clip min > max", opset: 13, nodes: node("Clip", []string{"x", "hi", "lo"}, []string{"y"}),
			inputs: []fdInput{konst("lo", scalar32(-0.5)), konst("hi", scalar32(0.7))}},
		{name: "clip fed bounds", opset: 13, nodes: node("Clip", []string{"x", "lo", "hi"}, []string{"y"}),
			inputs: []fdInput{feed("lo", scalar32(-0.5)), feed("hi", scalar32(0.7))}},
	}
	for _, c := range cases {
		c.inputs = append([]fdInput{wrt("x", x.Clone())}, c.inputs...)
		c.of = []string{"y"}
		c.check(t, rng)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestBatchNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, shape := range [][]int{{2, 3, 4, 5}, {3, 4}, {1, 2, 3, 2, 2}} {
		c := shape[1]
		params := []fdInput{konst("scale", randn(rng, c)), konst("b", randn(rng, c)), konst("mean", randn(rng, c)),
			konst("var", randUniform(rng, 0.2, 2, c))}
		for _, opset := range []int64{9, 15} {
			tc := fdCase{name: caseName("batchnorm %v opset %d", shape, opset), opset: opset,
				inputs: append([]fdInput{wrt("x", randn(rng, shape...))}, params...), of: []string{"y"},
				nodes: node("BatchNormalization", []string{"x", "scale", "b", "mean", "var"}, []string{"y"}, onnx.AttrFloat("epsilon", 1e-3))}
			tc.check(t, rng)
		}
	}
	// Opset 7, spatial = 0: one set of parameters per element of a sample.
	shape := []int{2, 3, 2, 2}
	params := []fdInput{konst("scale", randn(rng, 3, 2, 2)), konst("b", randn(rng, 3, 2, 2)), konst("mean", randn(rng, 3, 2, 2)),
		konst("var", randUniform(rng, 0.2, 2, 3, 2, 2))}
	tc := fdCase{name: "batchnorm spatial=0", opset: 7, inputs: append([]fdInput{wrt("x", randn(rng, shape...))}, params...), of: []string{"y"},
		nodes: node("BatchNormalization", []string{"x", "scale", "b", "mean", "var"}, []string{"y"}, onnx.AttrInt("spatial", 0))}
	tc.check(t, rng)
}

func TestBinaryGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	shapes := [][2][]int{
		{{2, 3, 4}, {2, 3, 4}},
		{{2, 3, 4}, {4}},
		{{2, 1, 4}, {3, 1}},
		{{1, 3, 1, 2}, {2, 1, 5, 1}},
		{{2, 3}, {}},
		{{}, {3, 2}},
		{{1, 3, 4, 4}, {1, 3, 1, 1}},
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		for i, s := range shapes {
			a, b := randn(rng, s[0]...), randn(rng, s[1]...)
			if op == "Div" { // |B| in [1, 2]: the quotient's derivatives stay small
				b = randUniform(rng, 1, 2, s[1]...)
				for j := range b.F32() {
					if rng.IntN(2) == 0 {
						b.F32()[j] = -b.F32()[j]
					}
				}
			}
			// Differentiate A and B, A only (B fed), B only (A constant).
			variants := [][]fdInput{{wrt("a", a), wrt("b", b)}, {wrt("a", a), feed("b", b)}, {konst("a", a), wrt("b", b)}}
			for v, in := range variants {
				c := fdCase{name: caseName("%s %v %v #%d", op, s[0], s[1], v), inputs: in, of: []string{"y"},
					nodes: node(op, []string{"a", "b"}, []string{"y"})}
				c.check(t, rng)
			}
			_ = i
		}
	}
}

func TestGemmGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	m, k, n := 3, 4, 5
	for ta := range 2 {
		for tb := range 2 {
			for ci, cShape := range [][]int{nil, {}, {n}, {m, 1}, {m, n}} {
				aShape, bShape := []int{m, k}, []int{k, n}
				if ta == 1 {
					aShape = []int{k, m}
				}
				if tb == 1 {
					bShape = []int{n, k}
				}
				in := []fdInput{wrt("a", randn(rng, aShape...)), wrt("b", randn(rng, bShape...))}
				names := []string{"a", "b"}
				if cShape != nil {
					in = append(in, wrt("c", randn(rng, cShape...)))
					names = append(names, "c")
				}
				c := fdCase{name: caseName("gemm transA=%d transB=%d C=%v", ta, tb, cShape), inputs: in, of: []string{"y"},
					nodes: node("Gemm", names, []string{"y"}, onnx.AttrInt("transA", int64(ta)), onnx.AttrInt("transB", int64(tb)),
						onnx.AttrFloat("alpha", 0.7), onnx.AttrFloat("beta", 1.3))}
				if ci == 2 {
					c.threads = 2
				}
				c.check(t, rng)
			}
		}
	}
}

func TestMatMulGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, s := range [][2][]int{
		{{3, 4}, {4, 5}},
		{{4}, {4, 5}},
		{{3, 4}, {4}},
		{{4}, {4}},
		{{2, 3, 4}, {4, 2}},
		{{2, 1, 3, 4}, {3, 4, 5}},
		{{3, 4}, {2, 4, 5}},
	} {
		c := fdCase{name: caseName("matmul %v %v", s[0], s[1]), inputs: []fdInput{wrt("a", randn(rng, s[0]...)), wrt("b", randn(rng, s[1]...))},
			of: []string{"y"}, nodes: node("MatMul", []string{"a", "b"}, []string{"y"})}
		c.check(t, rng)
	}
}

func TestReduceGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	x := func() fdInput { return wrt("x", randn(rng, 2, 3, 4)) }
	cases := []fdCase{
		{name: "reducesum attrs", opset: 11, inputs: []fdInput{x()}, nodes: node("ReduceSum", []string{"x"}, []string{"y"}, onnx.AttrInts("axes", 1))},
		{name: "reducesum all", opset: 11, inputs: []fdInput{x()}, nodes: node("ReduceSum", []string{"x"}, []string{"y"}, onnx.AttrInt("keepdims", 0))},
		{name: "reducesum input", opset: 13, inputs: []fdInput{x(), konst("axes", i64(-1, 0))}, nodes: node("ReduceSum", []string{"x", "axes"}, []string{"y"}, onnx.AttrInt("keepdims", 0))},
		{name: "reducesum noop", opset: 13, inputs: []fdInput{x()}, nodes: node("ReduceSum", []string{"x"}, []string{"y"}, onnx.AttrInt("noop_with_empty_axes", 1))},
		{name: "reducemean attrs", opset: 17, inputs: []fdInput{x()}, nodes: node("ReduceMean", []string{"x"}, []string{"y"}, onnx.AttrInts("axes", 0, 2))},
		{name: "reducemean input", opset: 18, inputs: []fdInput{x(), konst("axes", i64(1))}, nodes: node("ReduceMean", []string{"x", "axes"}, []string{"y"}, onnx.AttrInt("keepdims", 0))},
		{name: "reducemean all", opset: 18, inputs: []fdInput{x()}, nodes: node("ReduceMean", []string{"x"}, []string{"y"})},
	}
	for _, c := range cases {
		c.of = []string{"y"}
		c.check(t, rng)
	}
}

func TestShapeGrads(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	x := func(shape ...int) fdInput { return wrt("x", randn(rng, shape...)) }
	cases := []fdCase{
		{name: "reshape", inputs: []fdInput{x(2, 3, 4), konst("s", i64(0, -1, 2))}, nodes: node("Reshape", []string{"x", "s"}, []string{"y"})},
		{name: "flatten", inputs: []fdInput{x(2, 3, 4)}, nodes: node("Flatten", []string{"x"}, []string{"y"}, onnx.AttrInt("axis", 2))},
		{name: "squeeze attrs", opset: 11, inputs: []fdInput{x(2, 1, 4, 1)}, nodes: node("Squeeze", []string{"x"}, []string{"y"}, onnx.AttrInts("axes", 1))},
		{name: "squeeze input", opset: 13, inputs: []fdInput{x(2, 1, 4, 1)}, nodes: node("Squeeze", []string{"x"}, []string{"y"})},
		{name: "unsqueeze attrs", opset: 11, inputs: []fdInput{x(2, 4)}, nodes: node("Unsqueeze", []string{"x"}, []string{"y"}, onnx.AttrInts("axes", 0, 2))},
		{name: "unsqueeze input", opset: 13, inputs: []fdInput{x(2, 4), konst("axes", i64(-1))}, nodes: node("Unsqueeze", []string{"x", "axes"}, []string{"y"})},
		{name: "dropout opset 7", opset: 7, inputs: []fdInput{x(2, 3)}, nodes: node("Dropout", []string{"x"}, []string{"y"}, onnx.AttrFloat("ratio", 0.3))},
		{name: "dropout opset 13 with mask", opset: 13, inputs: []fdInput{x(2, 3)}, nodes: node("Dropout", []string{"x"}, []string{"y", "mask"})},
		{name: "transpose default", inputs: []fdInput{x(2, 3, 4)}, nodes: node("Transpose", []string{"x"}, []string{"y"})},
		{name: "transpose perm", inputs: []fdInput{x(2, 3, 4, 5)}, nodes: node("Transpose", []string{"x"}, []string{"y"}, onnx.AttrInts("perm", 2, 0, 3, 1))},
		{name: "transpose 1-D", inputs: []fdInput{x(5)}, nodes: node("Transpose", []string{"x"}, []string{"y"})},
		{name: "concat axis 1", inputs: []fdInput{x(2, 3, 2), wrt("z", randn(rng, 2, 1, 2)), konst("k", randn(rng, 2, 2, 2))},
			nodes: node("Concat", []string{"x", "k", "z", "x"}, []string{"y"}, onnx.AttrInt("axis", 1))},
		{name: "concat axis -1", inputs: []fdInput{x(2, 3), wrt("z", randn(rng, 2, 4))}, nodes: node("Concat", []string{"z", "x"}, []string{"y"}, onnx.AttrInt("axis", -1))},
		{name: "concat axis 0", inputs: []fdInput{x(2, 3), wrt("z", randn(rng, 1, 3))}, nodes: node("Concat", []string{"x", "z"}, []string{"y"}, onnx.AttrInt("axis", 0))},
	}
	for _, c := range cases {
		c.of = []string{"y"}
		c.check(t, rng)
	}
}

func TestPadGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, mode := range []string{"constant", "reflect", "edge", "wrap"} {
		cases := []fdCase{
			{name: "pad input " + mode, opset: 19, inputs: []fdInput{wrt("x", randn(rng, 2, 3, 4)), konst("p", i64(0, 2, 1, 1, 2, 3))},
				nodes: node("Pad", []string{"x", "p"}, []string{"y"}, onnx.AttrString("mode", mode))},
			{name: "pad crop " + mode, opset: 19, inputs: []fdInput{wrt("x", randn(rng, 2, 5, 4)), konst("p", i64(0, -1, 2, 0, 2, -2))},
				nodes: node("Pad", []string{"x", "p"}, []string{"y"}, onnx.AttrString("mode", mode))},
			{name: "pad axes " + mode, opset: 19, inputs: []fdInput{wrt("x", randn(rng, 1, 2, 3, 4)), konst("p", i64(1, 2, 3, 1)), konst("axes", i64(-1, 2))},
				nodes: node("Pad", []string{"x", "p", "", "axes"}, []string{"y"}, onnx.AttrString("mode", mode))},
		}
		if mode != "wrap" {
			cases = append(cases, fdCase{name: "pad attrs " + mode, opset: 9, inputs: []fdInput{wrt("x", randn(rng, 1, 2, 3, 3))},
				nodes: node("Pad", []string{"x"}, []string{"y"}, onnx.AttrString("mode", mode), onnx.AttrInts("pads", 0, 0, 2, 1, 0, 0, 1, 2), onnx.AttrFloat("value", 1.5))})
		}
		for _, c := range cases {
			c.of = []string{"y"}
			c.check(t, rng)
		}
	}
}
