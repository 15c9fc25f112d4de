//go:build ort

package ortcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Benchmarks of scripts/bench-runtime.sh beside the VGG19 ones (vgg_bench_test.go): a
// DCGAN-style generator and a char-LSTM step, each run by gendl and ORT on the same model
// bytes, with the same thread count (GENDL_BENCH_THREADS), the same input, FLOPs counted
// from the layer shapes, allocations per run reported. TestDCGANVsORT checks that the
// benchmarked generators compute the same thing in both.

// dcgan describes a generator: Gemm latent -> ch[0]*side*side, Reshape to [N, ch[0], side,
// side], Relu, then one ConvTranspose (kernel 4, stride 2, pads 1: doubles the side) per
// further entry of ch, Relu between them, Tanh after the last (the book's and Radford et
// al.'s DCGAN generator without batch normalisation, which inference folds into the
// weights anyway).
type dcgan struct {
	name   string
	batch  int
	latent int
	side   int
	ch     []int
}

var dcgans = []dcgan{
	// MNIST-sized: 7 -> 14 -> 28, one output channel.
	{"mnist28", 1, 100, 7, []int{128, 64, 1}},
	{"mnist28", 16, 100, 7, []int{128, 64, 1}},
	// 64x64 RGB: 8 -> 16 -> 32 -> 64.
	{"rgb64", 1, 100, 8, []int{256, 128, 64, 3}},
	{"rgb64", 16, 100, 8, []int{256, 128, 64, 3}},
}

func (d dcgan) String() string { return fmt.Sprintf("%s/batch=%d", d.name, d.batch) }

// outSide is the side of the generated image.
func (d dcgan) outSide() int { return d.side << (len(d.ch) - 1) }

// flops counts 2 * multiply-adds of the Gemm and the ConvTransposes (each input pixel of a
// ConvTranspose scatters Cin*Cout*16 products).
func (d dcgan) flops() float64 {
	f := 2 * float64(d.latent) * float64(d.ch[0]*d.side*d.side)
	side := d.side
	for i := 1; i < len(d.ch); i++ {
		f += 2 * float64(d.ch[i-1]) * float64(d.ch[i]) * 16 * float64(side*side)
		side *= 2
	}
	return f * float64(d.batch)
}

// build makes the generator with He-uniform weights from rng (opset 17).
func (d dcgan) build(rng *rand.Rand) (*onnx.ModelProto, error) {
	b := onnx.NewBuilder("dcgan_"+d.name, 17)
	b.Input("z", tensor.Float32, int64(d.batch), int64(d.latent))
	units := d.ch[0] * d.side * d.side
	b.Initializer("fc_w", randTensor(rng, []int{d.latent, units}, math.Sqrt(6/float64(d.latent))))
	b.Initializer("fc_b", randTensor(rng, []int{units}, 0.01))
	b.Node("Gemm", []string{"z", "fc_w", "fc_b"}, []string{"fc"})
	shape := tensor.New(tensor.Int64, 4)
	copy(shape.I64(), []int64{-1, int64(d.ch[0]), int64(d.side), int64(d.side)})
	b.Initializer("shape", shape)
	b.Node("Reshape", []string{"fc", "shape"}, []string{"map"})
	b.Node("Relu", []string{"map"}, []string{"map_relu"})
	cur := "map_relu"
	for i := 1; i < len(d.ch); i++ {
		layer := fmt.Sprintf("deconv%d", i)
		fanIn := d.ch[i-1] * 4 // each output pixel sums 2x2 taps per input channel
		b.Initializer(layer+"_w", randTensor(rng, []int{d.ch[i-1], d.ch[i], 4, 4}, math.Sqrt(6/float64(fanIn))))
		b.Initializer(layer+"_b", randTensor(rng, []int{d.ch[i]}, 0.01))
		b.Node("ConvTranspose", []string{cur, layer + "_w", layer + "_b"}, []string{layer},
			onnx.AttrInts("kernel_shape", 4, 4), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1))
		act, out := "Relu", layer+"_relu"
		if i == len(d.ch)-1 {
			act, out = "Tanh", "image"
		}
		b.Node(act, []string{layer}, []string{out})
		cur = out
	}
	s := int64(d.outSide())
	b.Output("image", tensor.Float32, int64(d.batch), int64(d.ch[len(d.ch)-1]), s, s)
	return b.Model()
}

// lstmStep is one step of the char-LSTM (charLSTMFile: one layer, hidden 128, 60 characters,
// MatMul+Add head and Softmax) at a batch size: the sampling workload at batch 1, and a
// batch of 128 sequences advanced together.
type lstmStep struct{ batch int }

func (l lstmStep) String() string { return fmt.Sprintf("hidden=128/vocab=60/batch=%d", l.batch) }

// flops counts 2 * multiply-adds of the gates (4H x (V + H) per sequence) and the head (V x H).
func (l lstmStep) flops(v, h int) float64 {
	return 2 * float64(l.batch) * float64(4*h*(v+h)+v*h)
}

// benchPair runs the gendl and ORT sub-benchmarks of one model for each thread count of
// benchThreads, as benchVGG does.
func benchPair(b *testing.B, m *onnx.ModelProto, feeds map[string]*tensor.Tensor, flops float64) {
	requireORT(b)
	data, err := onnx.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, threads := range benchThreads(b) {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			om, err := newORTModelThreads(m, data, threads)
			if err != nil {
				b.Fatalf("ORT: %v", err)
			}
			defer om.Destroy()
			b.Run("gendl", func(b *testing.B) {
				s := plan.NewSession(engine.SessionOptions{Threads: threads})
				timeLoop(b, flops, threads, func() error { _, err := s.Run(feeds); return err })
			})
			b.Run("ort", func(b *testing.B) {
				timeLoop(b, flops, threads, func() error { _, err := om.run(feeds, nil); return err })
			})
		})
	}
}

// BenchmarkDCGAN times one forward pass of each generator of dcgans.
func BenchmarkDCGAN(b *testing.B) {
	for _, d := range dcgans {
		b.Run(d.String(), func(b *testing.B) {
			m, err := d.build(rand.New(rand.NewPCG(netSeed, uint64(d.side))))
			if err != nil {
				b.Fatal(err)
			}
			z := randTensor(rand.New(rand.NewPCG(netSeed, 3)), []int{d.batch, d.latent}, 1)
			benchPair(b, m, map[string]*tensor.Tensor{"z": z}, d.flops())
		})
	}
}

// BenchmarkLSTMStep times one step of a char-LSTM (one-hot input, carried state) at batch 1
// and 128.
func BenchmarkLSTMStep(b *testing.B) {
	cfg, m := charLSTMFile(b, 1, 128)
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	V, H := cfg.VocabSize(), cfg.Hidden
	for _, l := range []lstmStep{{1}, {128}} {
		b.Run(l.String(), func(b *testing.B) {
			// The exported model's inputs are the one-hot characters [T, N, V] and the states
			// [1, N, H] of each layer: one step is T = 1, the batch is N.
			rng := rand.New(rand.NewPCG(netSeed, uint64(l.batch)))
			feeds := map[string]*tensor.Tensor{}
			for i, in := range plan.Inputs {
				if i == 0 {
					x := tensor.New(tensor.Float32, 1, l.batch, V)
					for j := range l.batch {
						x.F32()[j*V+rng.IntN(V)] = 1
					}
					feeds[in.Name] = x
					continue
				}
				feeds[in.Name] = randTensor(rng, []int{1, l.batch, H}, 0.5)
			}
			benchPair(b, m, feeds, l.flops(V, H))
		})
	}
}

// TestDCGANVsORT checks that the benchmarked generators agree with ORT (tolerance of the
// random nets: netATol + netRTol*|ort|).
func TestDCGANVsORT(t *testing.T) {
	requireORT(t)
	for _, d := range dcgans {
		t.Run(d.String(), func(t *testing.T) {
			m, err := d.build(rand.New(rand.NewPCG(netSeed, uint64(d.side))))
			if err != nil {
				t.Fatal(err)
			}
			pr, err := loadPair(m)
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Destroy()
			feeds := map[string]*tensor.Tensor{"z": randTensor(rand.New(rand.NewPCG(netSeed, 3)), []int{d.batch, d.latent}, 1)}
			got, want, err := pr.run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			var me maxErr
			if err := compareNet(pr, got, want, &me); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s agrees: %v", d, &me)
		})
	}
}
