package dream

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TinyOptions shape TinyModel.
type TinyOptions struct {
	// Seed draws the weights.
	Seed uint64
	// Smooth uses Tanh instead of Relu and average instead of max pooling, so that the loss
	// is differentiable everywhere (finite-difference tests).
	Smooth bool
	// PointWise makes every convolution 1x1 with stride 1 and no pooling, so that each
	// activation pixel depends on its own input pixel only: tiles then give exactly the
	// whole image's gradient.
	PointWise bool
}

// TinyModel returns a small random network shaped like Keras's InceptionV3 for tests and
// examples: input "input_1" [N, 3, H, W] in [-1, 1] (H, W >= 19, or any size with
// PointWise), a strided stem (conv2d_1 3x3/2, BatchNormalization, activation_1, a 3x3/2 pool)
// and six "mixed" blocks named as Keras names them, mixed0..mixed5, each a Concat of a 1x1
// branch, a 1x1 -> 3x3 branch and an average-pool -> 1x1 branch; mixed3 halves the size as
// InceptionV3's does. mixed2..mixed5 are graph outputs. Weights are random (He-scaled) and a
// few channels wide, so a forward and backward pass at 64x64 takes milliseconds.
func TinyModel(opt TinyOptions) (*onnx.ModelProto, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 0x74696e79))
	b := onnx.NewBuilder("tiny_inception", 13)
	b.Metadata("preprocessing", "RGB, NCHW float32, scaled to [-1, 1]: x/127.5 - 1")
	b.InputDims("input_1", tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Sym("H"), onnx.Sym("W"))
	act := "Relu"
	pool := "MaxPool"
	if opt.Smooth {
		act, pool = "Tanh", "AveragePool"
	}
	nconv := 0
	// conv adds conv2d_k (k x k, stride s, "same" padding if same) + activation_k.
	conv := func(in string, cin, cout, k, s int, same bool) string {
		if opt.PointWise {
			k, s = 1, 1
		}
		nconv++
		name := fmt.Sprintf("conv2d_%d", nconv)
		w := tensor.New(tensor.Float32, cout, cin, k, k)
		std := math.Sqrt(2 / float64(cin*k*k))
		for i := range w.F32() {
			w.F32()[i] = float32(rng.NormFloat64() * std)
		}
		bias := tensor.New(tensor.Float32, cout)
		for i := range bias.F32() {
			bias.F32()[i] = float32(0.1 * rng.NormFloat64())
		}
		b.Initializer(name+"/kernel", w).Initializer(name+"/bias", bias)
		pad := int64(0)
		if same {
			pad = int64(k / 2)
		}
		b.NamedNode(name, "Conv", []string{in, name + "/kernel", name + "/bias"}, []string{name},
			onnx.AttrInts("kernel_shape", int64(k), int64(k)), onnx.AttrInts("strides", int64(s), int64(s)),
			onnx.AttrInts("pads", pad, pad, pad, pad))
		a := fmt.Sprintf("activation_%d", nconv)
		b.NamedNode(a, act, []string{name}, []string{a})
		return a
	}
	x := conv("input_1", 3, 6, 3, 2, false)
	// batch_normalization_1 after the stem's activation (inference: scale, bias, mean, var).
	bn := func(t []float32) *tensor.Tensor { return tensor.FromFloat32(t, len(t)) }
	n6 := func(v float32) []float32 { return []float32{v, v * 1.1, v * 0.9, v, v * 1.2, v * 0.8} }
	b.Initializer("bn/gamma", bn(n6(1))).Initializer("bn/beta", bn(n6(0.05))).
		Initializer("bn/mean", bn(n6(0.1))).Initializer("bn/var", bn(n6(0.5)))
	b.NamedNode("batch_normalization_1", "BatchNormalization", []string{x, "bn/gamma", "bn/beta", "bn/mean", "bn/var"},
		[]string{"batch_normalization_1"}, onnx.AttrFloat("epsilon", 1e-3))
	x = "batch_normalization_1"
	if !opt.PointWise {
		b.NamedNode("max_pooling2d_1", pool, []string{x}, []string{"max_pooling2d_1"},
			onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("strides", 2, 2))
		x = "max_pooling2d_1"
	}
	c := 6
	for k := range 6 {
		s := 1
		if k == 3 {
			s = 2 // mixed3 reduces the size, as InceptionV3's does
		}
		b1 := conv(x, c, 4, 1, s, false)
		b2 := conv(conv(x, c, 4, 1, 1, false), 4, 4, 3, s, true)
		b3 := x
		if !opt.PointWise {
			name := fmt.Sprintf("average_pooling2d_%d", k+1)
			b.NamedNode(name, "AveragePool", []string{x}, []string{name},
				onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("strides", int64(s), int64(s)),
				onnx.AttrInts("pads", 1, 1, 1, 1), onnx.AttrInt("count_include_pad", 0))
			b3 = name
		}
		b3 = conv(b3, c, 4, 1, 1, false)
		name := fmt.Sprintf("mixed%d", k)
		b.NamedNode(name, "Concat", []string{b1, b2, b3}, []string{name}, onnx.AttrInt("axis", 1))
		x, c = name, 12
	}
	for _, o := range []string{"mixed5", "mixed2", "mixed3", "mixed4"} {
		b.OutputDims(o, tensor.Float32, onnx.Sym("N"), onnx.Fixed(12), onnx.UnknownDim, onnx.UnknownDim)
	}
	return b.Model()
}
