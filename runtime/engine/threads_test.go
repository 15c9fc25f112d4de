package engine_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// threadsConvNet is a small conv net whose every product is large enough (over 2^21 flops)
// for kernels.SgemmParallel to split it: x [2 16 32 32] -> Conv 3x3 (32) -> Relu, which
// feeds a MatMul by [32 64] (output "mm") and a 1x1 Conv (48) -> ConvTranspose 2x2 stride 2
// (8) -> Conv 3x3 stride 4 (4) -> Flatten [2 1024] -> Gemm transB (768) -> Gemm (1024),
// output "fc": the two Gemms have M = 2 (the small-M path, bands of columns).
func threadsConvNet(t *testing.T) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, 32))
	w := func(scale float64, shape ...int) *tensor.Tensor {
		x := randn(rng, shape...)
		for i := range x.F32() {
			x.F32()[i] *= float32(scale)
		}
		return x
	}
	b := onnx.NewBuilder("threads_convnet", 17)
	b.Input("x", tensor.Float32, 2, 16, 32, 32)
	b.Initializer("w1", w(1/12.0, 32, 16, 3, 3))
	b.Initializer("b1", w(0.1, 32))
	b.Initializer("m1", w(1/6.0, 32, 64))
	b.Initializer("w2", w(1/6.0, 48, 32, 1, 1))
	b.Initializer("w3", w(1/7.0, 48, 8, 2, 2))
	b.Initializer("b3", w(0.1, 8))
	b.Initializer("w4", w(1/9.0, 4, 8, 3, 3))
	b.Initializer("w5", w(1/32.0, 768, 1024))
	b.Initializer("b5", w(0.1, 768))
	b.Initializer("w6", w(1/28.0, 768, 1024))
	b.Node("Conv", []string{"x", "w1", "b1"}, []string{"c1"}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))
	b.Node("Relu", []string{"c1"}, []string{"r1"})
	b.Node("MatMul", []string{"r1", "m1"}, []string{"mm"})
	b.Node("Conv", []string{"r1", "w2"}, []string{"c2"}, onnx.AttrInts("kernel_shape", 1, 1))
	b.Node("ConvTranspose", []string{"c2", "w3", "b3"}, []string{"ct"}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
	b.Node("Conv", []string{"ct", "w4"}, []string{"c4"}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1), onnx.AttrInts("strides", 4, 4))
	b.Node("Flatten", []string{"c4"}, []string{"flat"}, onnx.AttrInt("axis", 1))
	b.Node("Gemm", []string{"flat", "w5", "b5"}, []string{"g5"}, onnx.AttrInt("transB", 1))
	b.Node("Gemm", []string{"g5", "w6"}, []string{"fc"})
	b.Output("mm", tensor.Float32, 2, 32, 32, 64)
	b.Output("fc", tensor.Float32, 2, 1024)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// threadsLSTM is one LSTM layer whose input projection (40 steps x batch 16 rows, 4*64
// gates, 32 inputs) is split over threads.
func threadsLSTM(t *testing.T) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(33, 34))
	b := onnx.NewBuilder("threads_lstm", 14)
	b.Input("x", tensor.Float32, 40, 16, 32)
	b.Initializer("w", randn(rng, 1, 256, 32))
	b.Initializer("r", randn(rng, 1, 256, 64))
	b.Initializer("b", randn(rng, 1, 512))
	b.Node("LSTM", []string{"x", "w", "r", "b"}, []string{"y", "yh"}, onnx.AttrInt("hidden_size", 64))
	b.Output("y", tensor.Float32, 40, 1, 16, 64)
	b.Output("yh", tensor.Float32, 1, 16, 64)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestThreadsBitwise: a session with 2 or 3 threads gives bitwise the results of one thread
// on a conv net (Conv, ConvTranspose, MatMul, Gemm) and an LSTM, as kernels.SgemmParallel
// promises for every product it splits.
func TestThreadsBitwise(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(*testing.T) *onnx.ModelProto
		shape []int
	}{
		{"convnet", threadsConvNet, []int{2, 16, 32, 32}},
		{"lstm", threadsLSTM, []int{40, 16, 32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(t, tc.model(t))
			feeds := map[string]*tensor.Tensor{"x": randn(rand.New(rand.NewPCG(35, 36)), tc.shape...)}
			want, err := p.NewSession(engine.SessionOptions{Threads: 1}).Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{2, 3} {
				got, err := p.NewSession(engine.SessionOptions{Threads: threads}).Run(feeds)
				if err != nil {
					t.Fatal(err)
				}
				for name, w := range want {
					g := got[name]
					if !tensor.SameShape(g.Shape, w.Shape) {
						t.Fatalf("threads=%d: %s has shape %v, want %v", threads, name, g.Shape, w.Shape)
					}
					for i, v := range w.F32() {
						if math.Float32bits(g.F32()[i]) != math.Float32bits(v) || math.IsNaN(float64(v)) {
							t.Fatalf("threads=%d: %s[%d] = %v, one thread %v", threads, name, i, g.F32()[i], v)
						}
					}
				}
			}
		})
	}
}
