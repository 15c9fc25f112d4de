package imagegen

import (
	"fmt"
	"math/rand/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// TinyOptions size a Tiny model.
type TinyOptions struct {
	LatentDim int // default 2
	C, H, W   int // default 1, 4, 4
	Classes   int // classifier: default 10
	Features  int // classifier: default 8
	Seed      uint64
	Dataset   string
	// BatchSize fixes the batch dimension (0: symbolic "N").
	BatchSize int
}

// Tiny builds a small random model of the given kind that follows the contract: dense layers
// only (a decoder is Gemm -> Sigmoid -> Reshape, a generator the same with Tanh, an encoder two
// Gemm heads over the flattened image, a classifier Gemm -> Relu (features) -> Gemm
// (logits)). It is what the tests use, and an example of what an exporter writes.
func Tiny(kind Kind, opt TinyOptions) (*onnx.ModelProto, error) {
	if opt.LatentDim == 0 {
		opt.LatentDim = 2
	}
	if opt.C == 0 {
		opt.C, opt.H, opt.W = 1, 4, 4
	}
	if opt.Classes == 0 {
		opt.Classes = 10
	}
	if opt.Features == 0 {
		opt.Features = 8
	}
	info := Info{Kind: kind, LatentDim: opt.LatentDim, C: opt.C, H: opt.H, W: opt.W, Dataset: opt.Dataset,
		Config: []byte(fmt.Sprintf(`{"tiny":true,"seed":%d}`, opt.Seed))}
	if kind == Classifier {
		info.LatentDim = 0
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x696d67))
	randn := func(scale float64, shape ...int) *tensor.Tensor {
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32() {
			t.F32()[i] = float32(rng.NormFloat64() * scale)
		}
		return t
	}
	L, P := opt.LatentDim, opt.C*opt.H*opt.W
	batch := onnx.Sym("N")
	if opt.BatchSize > 0 {
		batch = onnx.Fixed(int64(opt.BatchSize))
	}
	b := onnx.NewBuilder("tiny_"+string(kind), 17)
	img := []onnx.Dim{batch, onnx.Fixed(int64(opt.C)), onnx.Fixed(int64(opt.H)), onnx.Fixed(int64(opt.W))}
	switch kind {
	case VAEDecoder, DCGANGenerator:
		b.InputDims(InputZ, tensor.Float32, batch, onnx.Fixed(int64(L)))
		b.Initializer("w", randn(1, L, P)).Initializer("b", randn(0.1, P))
		b.Initializer("shape", tensor.FromInt64([]int64{-1, int64(opt.C), int64(opt.H), int64(opt.W)}, 4))
		b.Node("Gemm", []string{InputZ, "w", "b"}, []string{"h"})
		act := "Sigmoid"
		if kind == DCGANGenerator {
			act = "Tanh"
		}
		b.Node(act, []string{"h"}, []string{"a"})
		b.Node("Reshape", []string{"a", "shape"}, []string{OutputImage})
		b.OutputDims(OutputImage, tensor.Float32, img...)
	case VAEEncoder:
		b.InputDims(InputImage, tensor.Float32, img...)
		b.Initializer("wm", randn(1, P, L)).Initializer("bm", randn(0.1, L))
		b.Initializer("wv", randn(0.1, P, L)).Initializer("bv", randn(0.1, L))
		b.Node("Flatten", []string{InputImage}, []string{"flat"})
		b.Node("Gemm", []string{"flat", "wm", "bm"}, []string{OutputZMean})
		b.Node("Gemm", []string{"flat", "wv", "bv"}, []string{OutputZLogVar})
		b.OutputDims(OutputZMean, tensor.Float32, batch, onnx.Fixed(int64(L)))
		b.OutputDims(OutputZLogVar, tensor.Float32, batch, onnx.Fixed(int64(L)))
	case Classifier:
		F, K := opt.Features, opt.Classes
		b.InputDims(InputImage, tensor.Float32, img...)
		b.Initializer("w1", randn(1, P, F)).Initializer("b1", randn(0.1, F))
		b.Initializer("w2", randn(1, F, K)).Initializer("b2", randn(0.1, K))
		b.Node("Flatten", []string{InputImage}, []string{"flat"})
		b.Node("Gemm", []string{"flat", "w1", "b1"}, []string{"h"})
		b.Node("Relu", []string{"h"}, []string{OutputFeatures})
		b.Node("Gemm", []string{OutputFeatures, "w2", "b2"}, []string{OutputLogits})
		b.OutputDims(OutputLogits, tensor.Float32, batch, onnx.Fixed(int64(K)))
		b.OutputDims(OutputFeatures, tensor.Float32, batch, onnx.Fixed(int64(F)))
	default:
		return nil, fmt.Errorf("imagegen: unknown model kind %q", kind)
	}
	if err := info.Apply(b); err != nil {
		return nil, err
	}
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("imagegen: %w", err)
	}
	return m, nil
}

// WriteTiny writes a Tiny model to path, atomically.
func WriteTiny(path string, kind Kind, opt TinyOptions) error {
	m, err := Tiny(kind, opt)
	if err != nil {
		return err
	}
	if err := onnx.EncodeFile(path, m); err != nil {
		return fmt.Errorf("imagegen: %w", err)
	}
	return nil
}
