package grad

import (
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
)

// randPool draws a pool geometry: 1 to 3 spatial dims, kernel, strides, pads smaller than the
// kernel, dilations (opset 19 for AveragePool), ceil_mode and auto_pad.
func randPool(rng *rand.Rand, k int, dilate bool) (in []int, attrs []*onnx.AttributeProto) {
	nd := 1 + k%3
	var ks, ss, ds, ps []int
	for range nd {
		kk := 1 + rng.IntN(3)
		ks = append(ks, kk)
		ss = append(ss, 1+rng.IntN(2))
		d := 1
		if dilate {
			d = 1 + rng.IntN(2)
		}
		ds = append(ds, d)
		size := (kk-1)*d + 1 + map[int]int{1: 5, 2: 3, 3: 1}[nd] + rng.IntN(3)
		in = append(in, size)
	}
	for i := range 2 * nd {
		ps = append(ps, rng.IntN(ks[i%nd])) // pads < kernel
	}
	attrs = []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", ints(ks...)...), onnx.AttrInts("strides", ints(ss...)...)}
	if dilate {
		attrs = append(attrs, onnx.AttrInts("dilations", ints(ds...)...))
	}
	switch rng.IntN(4) {
	case 0:
		attrs = append(attrs, onnx.AttrString("auto_pad", []string{"SAME_UPPER", "SAME_LOWER", "VALID"}[rng.IntN(3)]))
	default:
		attrs = append(attrs, onnx.AttrInts("pads", ints(ps...)...), onnx.AttrInt("ceil_mode", int64(rng.IntN(2))))
	}
	return in, attrs
}

func TestMaxPoolGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for k := range 18 {
		in, attrs := randPool(rng, k, true)
		shape := append([]int{1 + rng.IntN(2), 1 + rng.IntN(3)}, in...)
		outs := []string{"y"}
		if k%2 == 1 {
			outs = append(outs, "idx") // the Indices output carries no gradient
		}
		// Values 0.05 apart: with eps = 0.01 no perturbation changes an arg-max.
		c := fdCase{name: caseName("maxpool%d %v", k, shape), inputs: []fdInput{wrt("x", randDistinct(rng, 0.05, shape...))},
			of: []string{"y"}, nodes: node("MaxPool", []string{"x"}, outs, attrs...)}
		c.check(t, rng)
	}
}

func TestAveragePoolGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for k := range 18 {
		in, attrs := randPool(rng, k, k%2 == 0)
		attrs = append(attrs, onnx.AttrInt("count_include_pad", int64(rng.IntN(2))))
		opset := int64(17)
		if k%2 == 0 {
			opset = 19 // dilations
		}
		shape := append([]int{1 + rng.IntN(2), 1 + rng.IntN(3)}, in...)
		c := fdCase{name: caseName("averagepool%d %v", k, shape), opset: opset, inputs: []fdInput{wrt("x", randn(rng, shape...))},
			of: []string{"y"}, nodes: node("AveragePool", []string{"x"}, []string{"y"}, attrs...)}
		c.check(t, rng)
	}
}

func TestGlobalAveragePoolGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, shape := range [][]int{{2, 3, 4}, {1, 4, 3, 5}, {2, 2, 2, 3, 2}} {
		c := fdCase{name: caseName("globalaveragepool %v", shape), inputs: []fdInput{wrt("x", randn(rng, shape...))},
			of: []string{"y"}, nodes: node("GlobalAveragePool", []string{"x"}, []string{"y"})}
		c.check(t, rng)
	}
}
