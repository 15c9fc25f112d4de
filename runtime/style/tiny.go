package style

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TinyOptions shape TinyInception.
type TinyOptions struct {
	// Seed seeds the weights.
	Seed uint64
	// Meta is the metadata_props (nil: what `gendl-train import tfjs` writes for
	// InceptionV3: the [-1, 1] preprocessing and the Keras layer names).
	Meta map[string]string
	// InputChannels is the declared input's channel count (0: 3); NHWC declares the input
	// [N, H, W, 3] and transposes it. Both make invalid models, for error tests.
	InputChannels int64
	NHWC          bool
	// OmitMixed3 leaves out mixed3, so that the network lacks a default layer.
	OmitMixed3 bool
}

// TinyInception is a small network named as a Keras InceptionV3 converted by `gendl-train
// import tfjs`: input_1 [N, 3, H, W] in [-1, 1], a stem of Conv-BatchNormalization-Relu
// layers activation_1..activation_5 (stride 2 at the first) with max-pools, and blocks
// mixed0..mixed3 that concatenate a 1x1 and a 3x3 branch (a max-pool before mixed3).
//
// It is for tests and examples: random He-scaled weights, a few channels wide, any H, W >= 32.
func TinyInception(o TinyOptions) (*onnx.ModelProto, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 3))
	b := onnx.NewBuilder("tiny_inception", 13)
	inC := o.InputChannels
	if inC == 0 {
		inC = 3
	}
	if o.NHWC {
		b.InputDims("input_1", tensor.Float32, onnx.Sym("N"), onnx.Sym("H"), onnx.Sym("W"), onnx.Fixed(3))
	} else {
		b.InputDims("input_1", tensor.Float32, onnx.Sym("N"), onnx.Fixed(inC), onnx.Sym("H"), onnx.Sym("W"))
	}
	k := 0
	conv := func(in string, cin, cout, kernel, stride int, out string) {
		k++
		w := tensor.New(tensor.Float32, cout, cin, kernel, kernel)
		bound := math.Sqrt(6 / float64(cin*kernel*kernel))
		for i := range w.F32() {
			w.F32()[i] = float32((2*rng.Float64() - 1) * bound)
		}
		name := fmt.Sprintf("conv2d_%d", k)
		b.Initializer(name+"/kernel", w)
		pad := int64(kernel / 2)
		b.Node("Conv", []string{in, name + "/kernel"}, []string{name}, onnx.AttrInts("kernel_shape", int64(kernel), int64(kernel)),
			onnx.AttrInts("strides", int64(stride), int64(stride)), onnx.AttrInts("pads", pad, pad, pad, pad))
		bn := fmt.Sprintf("batch_normalization_%d", k)
		for _, p := range []struct {
			suffix string
			lo, hi float64
		}{{"gamma", 0.5, 1.5}, {"beta", -0.1, 0.1}, {"mean", -0.1, 0.1}, {"var", 0.5, 1.5}} {
			v := tensor.New(tensor.Float32, cout)
			for i := range v.F32() {
				v.F32()[i] = float32(p.lo + (p.hi-p.lo)*rng.Float64())
			}
			b.Initializer(bn+"/"+p.suffix, v)
		}
		b.Node("BatchNormalization", []string{name, bn + "/gamma", bn + "/beta", bn + "/mean", bn + "/var"}, []string{bn}, onnx.AttrFloat("epsilon", 1e-3))
		b.Node("Relu", []string{bn}, []string{out})
	}
	pool := func(in, out string) {
		b.Node("MaxPool", []string{in}, []string{out}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
	}
	in := "input_1"
	if o.NHWC {
		b.Node("Transpose", []string{in}, []string{"nchw"}, onnx.AttrInts("perm", 0, 3, 1, 2))
		in = "nchw"
	}
	conv(in, 3, 4, 3, 2, "activation_1")
	conv("activation_1", 4, 4, 3, 1, "activation_2")
	conv("activation_2", 4, 6, 3, 1, "activation_3")
	pool("activation_3", "max_pooling2d_1")
	conv("max_pooling2d_1", 6, 6, 1, 1, "activation_4")
	conv("activation_4", 6, 8, 3, 1, "activation_5")
	pool("activation_5", "max_pooling2d_2")
	prev, prevC := "max_pooling2d_2", 8
	mixes := 4
	if o.OmitMixed3 {
		mixes = 3
	}
	for m := range mixes {
		if m == 3 {
			pool(prev, "max_pooling2d_3")
			prev = "max_pooling2d_3"
		}
		a, c := fmt.Sprintf("activation_%d", 6+2*m), fmt.Sprintf("activation_%d", 7+2*m)
		conv(prev, prevC, 4, 1, 1, a)
		conv(prev, prevC, 4, 3, 1, c)
		out := fmt.Sprintf("mixed%d", m)
		b.Node("Concat", []string{a, c}, []string{out}, onnx.AttrInt("axis", 1))
		prev, prevC = out, 8
	}
	b.OutputDims(prev, tensor.Float32, onnx.Sym("N"), onnx.Fixed(8), onnx.Sym("h"), onnx.Sym("w"))
	meta := o.Meta
	if meta == nil {
		meta = map[string]string{
			"preprocessing": "RGB, NCHW float32, scaled to [-1, 1]: x/127.5 - 1 (Keras inception_v3.preprocess_input)",
			"keras_layers":  "input_1,conv2d_1,activation_1,activation_2,activation_3,max_pooling2d_1,activation_4,activation_5,max_pooling2d_2,mixed0,mixed1,mixed2,max_pooling2d_3,mixed3",
		}
	}
	for _, key := range []string{"preprocessing", "keras_layers", "source"} {
		if v, ok := meta[key]; ok {
			b.Metadata(key, v)
		}
	}
	return b.Model()
}
