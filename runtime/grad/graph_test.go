package grad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// he returns conv weights [m, c, k, k] drawn with He's scaling (std sqrt(2/fan_in)), so
// activations keep a scale of about 1 through a deep stack.
func he(rng *rand.Rand, m, c, k int) *tensor.Tensor {
	w := randn(rng, m, c, k, k)
	s := float32(math.Sqrt(2 / float64(c*k*k)))
	for i := range w.F32() {
		w.F32()[i] *= s
	}
	return w
}

// TestConvNetGraph: a small conv net with the preprocessing of the model-zoo VGG19 (Sub and
// Div by per-channel constants), Conv, BatchNormalization, Relu, MaxPool, a 1×1 Conv and an
// AveragePool branch joined by Concat, a strided Conv, LeakyRelu, GlobalAveragePool,
// Flatten and Gemm. The loss weighs an intermediate value (the Concat) and the output (the
// logits, which depend on the Concat: its gradient accumulates from both). The graph is
// piecewise linear, so kinks are detected and skipped (see fd_test.go).
func TestConvNetGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	c := fdCase{
		name: "convnet",
		inputs: []fdInput{
			wrt("x", randn(rng, 2, 3, 10, 10)),
			konst("mean", tensor.FromFloat32([]float32{0.485, 0.456, 0.406}, 1, 3, 1, 1)),
			konst("std", tensor.FromFloat32([]float32{0.229, 0.224, 0.225}, 1, 3, 1, 1)),
			konst("w1", he(rng, 4, 3, 3)), konst("b1", randn(rng, 4)),
			konst("scale", randUniform(rng, 0.5, 1.5, 4)), konst("shift", randn(rng, 4)),
			konst("mu", randn(rng, 4)), konst("var", randUniform(rng, 0.5, 2, 4)),
			konst("w2", he(rng, 3, 4, 1)),
			konst("w3", he(rng, 5, 7, 3)),
			konst("wf", randn(rng, 5, 6)), konst("bf", randn(rng, 6)),
		},
		nodes: func(b *onnx.Builder) {
			b.NamedNode("sub", "Sub", []string{"x", "mean"}, []string{"xs"})
			b.NamedNode("div", "Div", []string{"xs", "std"}, []string{"xn"})
			b.NamedNode("conv1", "Conv", []string{"xn", "w1", "b1"}, []string{"c1"}, onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode("bn", "BatchNormalization", []string{"c1", "scale", "shift", "mu", "var"}, []string{"n1"})
			b.NamedNode("relu1", "Relu", []string{"n1"}, []string{"r1"})
			b.NamedNode("pool1", "MaxPool", []string{"r1"}, []string{"p1"}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
			b.NamedNode("conv2", "Conv", []string{"p1", "w2"}, []string{"c2"})
			b.NamedNode("relu2", "Relu", []string{"c2"}, []string{"r2"})
			b.NamedNode("avg", "AveragePool", []string{"p1"}, []string{"a1"}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode("cat", "Concat", []string{"r2", "a1"}, []string{"cat"}, onnx.AttrInt("axis", 1))
			b.NamedNode("conv3", "Conv", []string{"cat", "w3"}, []string{"c3"}, onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode("leaky", "LeakyRelu", []string{"c3"}, []string{"l3"}, onnx.AttrFloat("alpha", 0.1))
			b.NamedNode("gap", "GlobalAveragePool", []string{"l3"}, []string{"g"})
			b.NamedNode("flat", "Flatten", []string{"g"}, []string{"f"})
			b.NamedNode("fc", "Gemm", []string{"f", "wf", "bf"}, []string{"logits"})
		},
		of:   []string{"cat", "logits"},
		kink: 2e-3, maxSkip: 0.25,
	}
	n := c.check(t, rng)
	if n < 450 { // 600 elements; most must be compared
		t.Errorf("only %d of 600 elements compared", n)
	}
}

// TestSmoothGraph: a graph of smooth ops (no kinks, every element compared): Tanh, Sigmoid,
// Softmax, LRN, Mul of two branches, Gemm and MatMul, ReduceMean and a Transpose.
func TestSmoothGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	c := fdCase{
		name: "smooth",
		inputs: []fdInput{
			wrt("x", randn(rng, 2, 4, 3, 3)), wrt("z", randn(rng, 2, 4)),
			konst("w", he(rng, 4, 4, 3)),
			konst("m", randn(rng, 36, 4)),
		},
		nodes: func(b *onnx.Builder) {
			b.NamedNode("conv", "Conv", []string{"x", "w"}, []string{"c"}, onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode("tanh", "Tanh", []string{"c"}, []string{"t"})
			b.NamedNode("lrn", "LRN", []string{"t"}, []string{"l"}, onnx.AttrInt("size", 3), onnx.AttrFloat("alpha", 0.4))
			b.NamedNode("sig", "Sigmoid", []string{"x"}, []string{"s"})
			b.NamedNode("mul", "Mul", []string{"l", "s"}, []string{"p"})
			b.NamedNode("flat", "Flatten", []string{"p"}, []string{"f"})
			b.NamedNode("mm", "MatMul", []string{"f", "m"}, []string{"h"})
			b.NamedNode("add", "Add", []string{"h", "z"}, []string{"hz"})
			b.NamedNode("tr", "Transpose", []string{"hz"}, []string{"ht"})
			b.NamedNode("sm", "Softmax", []string{"ht"}, []string{"prob"}, onnx.AttrInt("axis", 0))
			b.NamedNode("mean", "ReduceMean", []string{"p"}, []string{"pm"}, onnx.AttrInts("axes", 1))
		},
		of: []string{"prob", "pm", "t"},
	}
	c.check(t, rng)
}

// vggBlocks adds two VGG blocks (Conv 3×3 pad 1 + Relu, twice, then MaxPool 2×2) with
// channels c0 -> c1 -> c2, named as Keras does; it returns the initializers.
func vggBlocks(rng *rand.Rand, b *onnx.Builder, x string, chans []int) {
	in := x
	for blk := range len(chans) - 1 {
		for l := 1; l <= 2; l++ {
			name := caseName("block%d_conv%d", blk+1, l)
			cin := chans[blk]
			if l == 2 {
				cin = chans[blk+1]
			}
			b.Initializer(name+"_w", he(rng, chans[blk+1], cin, 3))
			b.Initializer(name+"_b", randUniform(rng, -0.1, 0.1, chans[blk+1]))
			b.NamedNode(name, "Conv", []string{in, name + "_w", name + "_b"}, []string{name}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode(name+"_relu", "Relu", []string{name}, []string{name + "_relu"})
			in = name + "_relu"
		}
		pool := caseName("block%d_pool", blk+1)
		b.NamedNode(pool, "MaxPool", []string{in}, []string{pool}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
		in = pool
	}
}

// TestVGGBlocks: two VGG19-shaped blocks; the gradient of an intermediate activation
// (block2_conv2's Relu, as style transfer and DeepDream use) and of the last pool with
// respect to the image, on a random subset of the image's elements.
func TestVGGBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	c := fdCase{
		name:   "vgg blocks",
		inputs: []fdInput{wrt("x", randn(rng, 1, 3, 16, 12))},
		nodes: func(b *onnx.Builder) {
			vggBlocks(rng, b, "x", []int{3, 8, 12})
		},
		of:   []string{"block2_conv2_relu", "block1_pool"},
		kink: 2e-3, maxSkip: 0.25, maxElem: 200, threads: 2,
	}
	if n := c.check(t, rng); n < 150 {
		t.Errorf("only %d of 200 elements compared", n)
	}
}
