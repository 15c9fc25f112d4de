// Command genexample writes examples/convnet: a small convolutional network in ONNX (random
// weights from a fixed seed), one input and the outputs gendl computes for it, as an ONNX
// test_data_set folder. It exists so that the README's first command has a model to run.
//
//	go run ./scripts/genexample [-dir examples/convnet]
//
// The expected outputs are gendl's own; the ONNX Runtime tests
// (go test -tags ort ./runtime/ortcheck) check that ONNX Runtime agrees with them, so the
// committed files are verified by a runtime nobody here wrote.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/runtime/testset"
)

func main() {
	dir := flag.String("dir", "examples/convnet", "output folder")
	seed := flag.Uint64("seed", 1, "random seed for weights and input")
	flag.Parse()
	if err := run(*dir, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genexample:", err)
		os.Exit(1)
	}
}

func randn(r *rand.Rand, scale float32, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = scale * float32(r.NormFloat64())
	}
	return t
}

func uniform(r *rand.Rand, lo, hi float32, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32() {
		t.F32()[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

// model: x [N,3,32,32] -> Conv 3->16 3x3 pad 1 -> BatchNorm -> Relu -> MaxPool 2
// -> Conv 16->32 4x4 stride 2 pad 1 -> LeakyRelu(0.2) -> ConvTranspose 32->8 4x4 stride 2 pad 1
// -> Sigmoid -> GlobalAveragePool -> Flatten -> Gemm 8->10 -> Softmax.
// Outputs: probs [N,10] and the feature map "features" [N,8,16,16].
func build(r *rand.Rand) (*onnx.ModelProto, error) {
	b := onnx.NewBuilder("convnet", 17)
	b.Doc("gendl example: a small conv net with random weights (scripts/genexample)")
	b.Metadata("gendl.example", "convnet")
	b.InputDims("image", tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Fixed(32), onnx.Fixed(32))
	b.Initializer("conv1.w", randn(r, 0.27, 16, 3, 3, 3)).Initializer("conv1.b", randn(r, 0.1, 16))
	b.Initializer("bn.scale", uniform(r, 0.5, 1.5, 16)).Initializer("bn.bias", randn(r, 0.1, 16))
	b.Initializer("bn.mean", randn(r, 0.1, 16)).Initializer("bn.var", uniform(r, 0.5, 1.5, 16))
	b.Initializer("conv2.w", randn(r, 0.09, 32, 16, 4, 4)).Initializer("conv2.b", randn(r, 0.1, 32))
	b.Initializer("deconv.w", randn(r, 0.09, 32, 8, 4, 4)).Initializer("deconv.b", randn(r, 0.1, 8))
	b.Initializer("fc.w", randn(r, 0.35, 10, 8)).Initializer("fc.b", randn(r, 0.1, 10))

	b.Node("Conv", []string{"image", "conv1.w", "conv1.b"}, []string{"c1"},
		onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))
	b.Node("BatchNormalization", []string{"c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, []string{"bn1"},
		onnx.AttrFloat("epsilon", 1e-5))
	b.Node("Relu", []string{"bn1"}, []string{"r1"})
	b.Node("MaxPool", []string{"r1"}, []string{"p1"}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
	b.Node("Conv", []string{"p1", "conv2.w", "conv2.b"}, []string{"c2"},
		onnx.AttrInts("kernel_shape", 4, 4), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1))
	b.Node("LeakyRelu", []string{"c2"}, []string{"l2"}, onnx.AttrFloat("alpha", 0.2))
	b.Node("ConvTranspose", []string{"l2", "deconv.w", "deconv.b"}, []string{"d3"},
		onnx.AttrInts("kernel_shape", 4, 4), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1))
	b.Node("Sigmoid", []string{"d3"}, []string{"features"})
	b.Node("GlobalAveragePool", []string{"features"}, []string{"g"})
	b.Node("Flatten", []string{"g"}, []string{"f"})
	b.Node("Gemm", []string{"f", "fc.w", "fc.b"}, []string{"logits"}, onnx.AttrInt("transB", 1))
	b.Node("Softmax", []string{"logits"}, []string{"probs"}, onnx.AttrInt("axis", -1))
	b.OutputDims("probs", tensor.Float32, onnx.Sym("N"), onnx.Fixed(10))
	b.OutputDims("features", tensor.Float32, onnx.Sym("N"), onnx.Fixed(8), onnx.Fixed(16), onnx.Fixed(16))
	return b.Model()
}

func run(dir string, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	m, err := build(r)
	if err != nil {
		return err
	}
	ds := filepath.Join(dir, "test_data_set_0")
	if err := os.MkdirAll(ds, 0o755); err != nil {
		return err
	}
	modelPath := filepath.Join(dir, "model.onnx")
	if err := onnx.EncodeFile(modelPath, m); err != nil {
		return err
	}
	x := uniform(r, 0, 1, 2, 3, 32, 32)
	if err := onnx.EncodeTensorFile(filepath.Join(ds, "input_0.pb"), onnx.FromTensor("image", x)); err != nil {
		return err
	}
	p, err := engine.LoadFile(modelPath, engine.Options{})
	if err != nil {
		return err
	}
	got, err := p.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{"image": x})
	if err != nil {
		return err
	}
	if err := testset.WriteOutputs(p, got, ds); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", modelPath, ds)
	return nil
}
