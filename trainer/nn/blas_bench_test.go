package nn

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/layers"
	"github.com/gendl/gendl/trainer/loop"
)

// BenchmarkGorgoniaBLAS times one Gorgonia training step (forward and backward, no optimizer
// update) with Gorgonia's default BLAS (blas=gonum) and with gendl's SGEMM (blas=gendl):
//
//   - model=lstm: the char-LSTM of this package built from Gorgonia's own ops
//     (Options.Reference), hidden 128, vocabulary 60, 40 steps, batch 128, target "next";
//   - model=conv: an MNIST-shaped conv net on a batch of 64 28×28 images: Conv2d 1→16 5×5
//     stride 2 pad 2 + bias + relu, Conv2d 16→32 3×3 pad 1 + bias + relu, dense 6272→10 +
//     bias, softmax cross-entropy summed over the batch. impl=gorgonia builds it from
//     Gorgonia's own ops (G.Conv2d: im2col and the products through Gorgonia's BLAS);
//     impl=layers from trainer/layers, as the VAE, GAN and classifier trainers do (custom
//     conv ops on gendl's kernels, the dense product through gendl's BLAS, set as the
//     trainers set it). TestLayersConvNetSameLoss checks that both compute the same loss and
//     gradients from the same parameters and batch.
//
// gorgonia.Use is global: each sub-benchmark sets the BLAS and restores the previous one.
// Besides wall time it reports the process's CPU time per step (user+system, all threads:
// cpu-ms/op) and GFLOP/s per wall second over one FLOP count per model (the matrix products
// only: 2mnk forward, twice that backward; the same count for both conv impls). Compare with
// benchstat, e.g.
//
//	go test ./trainer/nn -run '^$' -bench 'GorgoniaBLAS/model=conv' -benchtime 10x -count 4 -cpu 1 > /tmp/blas.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/blas.txt
func BenchmarkGorgoniaBLAS(b *testing.B) {
	type variant struct{ name, graph, blas string }
	models := []struct {
		name     string
		variants []variant
	}{
		{"lstm", []variant{{"blas=gonum", "lstm", "gonum"}, {"blas=gendl", "lstm", "gendl"}}},
		{"conv", []variant{
			{"impl=gorgonia/blas=gonum", "conv", "gonum"},
			{"impl=gorgonia/blas=gendl", "conv", "gendl"},
			{"impl=layers", "conv-layers", "gendl"},
		}},
	}
	for _, m := range models {
		b.Run("model="+m.name, func(b *testing.B) {
			for _, v := range m.variants {
				b.Run(v.name, func(b *testing.B) {
					prevG, prevT := G.WhichBLAS(), tensor.WhichBLAS()
					defer func() { G.Use(prevG); tensor.Use(prevT) }()
					if v.blas == "gendl" {
						UseGendlBLAS()
					} else {
						UseGonumBLAS()
					}
					step, flops := benchStep(b, v.graph)
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := loop.CPUTime()
					for range b.N {
						step()
					}
					cpu := loop.CPUTime() - cpu0
					b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
					b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				})
			}
		})
	}
}

// benchSteps caches one graph per model across sub-benchmarks (the BLAS is read when a graph
// runs, not when it is built); they live until the test binary exits.
var benchSteps = struct {
	sync.Mutex
	steps map[string]func()
	flops map[string]float64
}{steps: map[string]func(){}, flops: map[string]float64{}}

func benchStep(b *testing.B, model string) (step func(), flops float64) {
	benchSteps.Lock()
	defer benchSteps.Unlock()
	if s, ok := benchSteps.steps[model]; ok {
		return s, benchSteps.flops[model]
	}
	var err error
	switch model {
	case "lstm":
		step, flops, err = lstmBenchStep()
	case "conv":
		step, flops, err = convBenchStep(newConvNetFrom)
	case "conv-layers":
		step, flops, err = convBenchStep(newLayersConvNet)
	default:
		err = fmt.Errorf("no benchmark graph %q", model)
	}
	if err != nil {
		b.Fatal(err)
	}
	benchSteps.steps[model], benchSteps.flops[model] = step, flops
	return step, flops
}

func lstmBenchStep() (func(), float64, error) {
	cfg := charlstm.Tiny()
	cfg.Vocabulary = ""
	for r := rune(32); len([]rune(cfg.Vocabulary)) < 60; r++ {
		cfg.Vocabulary += string(r)
	}
	cfg.Hidden, cfg.MaxLen, cfg.Target = 128, 40, charlstm.TargetNext
	const batch = 128
	rng := rand.New(rand.NewPCG(1, 2))
	p, err := charlstm.NewParams(cfg, rng)
	if err != nil {
		return nil, 0, err
	}
	// the reference graph (Gorgonia's own ops): the fused ops do not use Gorgonia's BLAS
	net, err := New(cfg, DenseParams(cfg, p), Options{Batch: batch, Gradients: true, Reference: true})
	if err != nil {
		return nil, 0, err
	}
	x, y := blasBatch(cfg, batch, rng)
	step := func() {
		if _, err := net.Run(x, y); err != nil {
			panic(err)
		}
	}
	return step, StepFLOPs(cfg, batch), nil
}

// blasBatch returns a random batch of cfg (no padding).
func blasBatch(cfg charlstm.Config, batch int, rng *rand.Rand) (x, y []int32) {
	x = make([]int32, cfg.MaxLen*batch)
	y = make([]int32, batch)
	if cfg.Target == charlstm.TargetShifted {
		y = make([]int32, cfg.MaxLen*batch)
	}
	for i := range x {
		x[i] = int32(rng.IntN(cfg.VocabSize()))
	}
	for i := range y {
		y[i] = int32(rng.IntN(cfg.VocabSize()))
	}
	return x, y
}

// convNet is the conv net of BenchmarkGorgoniaBLAS, built once with gradients.
type convNet struct {
	g      *G.ExprGraph
	vm     G.VM
	loss   *G.Node
	params G.Nodes
	grads  G.Nodes
}

// convData is one draw of convNet's batch and parameters, in flat float32 slices; both
// builds (newConvNetFrom, newLayersConvNet) copy them, so they run on equal inputs.
type convData struct {
	batch                  int
	x, y                   []float32 // [batch, 1, 28, 28] images, [batch, 10] one-hot targets
	w1, b1, w2, b2, wd, bd []float32 // [16 1 5 5] [16] [32 16 3 3] [32] [6272 10] [10]
}

func newConvData(batch int, rng *rand.Rand) convData {
	randS := func(scale float64, n int) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(scale * rng.NormFloat64())
		}
		return d
	}
	onehot := make([]float32, batch*10)
	for i := range batch {
		onehot[i*10+rng.IntN(10)] = 1
	}
	// the draw order of the original benchmark: x, w1, b1, w2, b2, wd, bd
	d := convData{batch: batch, y: onehot}
	d.x = randS(1, batch*28*28)
	d.w1, d.b1 = randS(0.2, 16*25), randS(0.1, 16)
	d.w2, d.b2 = randS(0.1, 32*16*9), randS(0.1, 32)
	d.wd, d.bd = randS(0.01, 32*14*14*10), randS(0.1, 10)
	return d
}

// denseOf returns a tensor of the given shape on a copy of data.
func denseOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), data...)))
}

func newConvNet(batch int, rng *rand.Rand) (*convNet, error) {
	return newConvNetFrom(newConvData(batch, rng))
}

// newConvNetFrom builds the net from Gorgonia's own ops (G.Conv2d, bias by BroadcastAdd,
// G.Rectify), as BenchmarkGorgoniaBLAS's impl=gorgonia.
func newConvNetFrom(d convData) (*convNet, error) {
	g := G.NewGraph()
	f32 := tensor.Float32
	batch := d.batch
	x := G.NewTensor(g, f32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"), G.WithValue(denseOf(d.x, batch, 1, 28, 28)))
	y := G.NewMatrix(g, f32, G.WithShape(batch, 10), G.WithName("y"), G.WithValue(denseOf(d.y, batch, 10)))
	w1 := G.NewTensor(g, f32, 4, G.WithShape(16, 1, 5, 5), G.WithName("w1"), G.WithValue(denseOf(d.w1, 16, 1, 5, 5)))
	b1 := G.NewTensor(g, f32, 4, G.WithShape(1, 16, 1, 1), G.WithName("b1"), G.WithValue(denseOf(d.b1, 1, 16, 1, 1)))
	w2 := G.NewTensor(g, f32, 4, G.WithShape(32, 16, 3, 3), G.WithName("w2"), G.WithValue(denseOf(d.w2, 32, 16, 3, 3)))
	b2 := G.NewTensor(g, f32, 4, G.WithShape(1, 32, 1, 1), G.WithName("b2"), G.WithValue(denseOf(d.b2, 1, 32, 1, 1)))
	wd := G.NewMatrix(g, f32, G.WithShape(32*14*14, 10), G.WithName("wd"), G.WithValue(denseOf(d.wd, 32*14*14, 10)))
	bd := G.NewMatrix(g, f32, G.WithShape(1, 10), G.WithName("bd"), G.WithValue(denseOf(d.bd, 1, 10)))

	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil {
			err = e
		}
		return n
	}
	h := must(G.Conv2d(x, w1, tensor.Shape{5, 5}, []int{2, 2}, []int{2, 2}, []int{1, 1}))
	h = must(G.BroadcastAdd(h, b1, nil, []byte{0, 2, 3}))
	h = must(G.Rectify(h))
	h = must(G.Conv2d(h, w2, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	h = must(G.BroadcastAdd(h, b2, nil, []byte{0, 2, 3}))
	h = must(G.Rectify(h))
	h = must(G.Reshape(h, tensor.Shape{batch, 32 * 14 * 14}))
	h = must(G.Mul(h, wd))
	h = must(G.BroadcastAdd(h, bd, nil, []byte{0}))
	if err != nil {
		return nil, err
	}
	return finishConvNet(g, h, y, G.Nodes{w1, b1, w2, b2, wd, bd})
}

// newLayersConvNet builds the same net as newConvNetFrom on trainer/layers, as the image
// trainers do: layers.Conv2d (custom ops on gendl's kernels, bias fused), layers.ReLU,
// layers.Flatten and layers.Dense (G.Mul, so Gorgonia's BLAS, + bias). The loss is the same
// Gorgonia expression as newConvNetFrom's (trainer/layers has none; trainer/classifier's
// SoftmaxXentSum cannot be imported here, as trainer/classifier imports this package): it is a
// [batch, 10] sliver of the step either way.
func newLayersConvNet(d convData) (*convNet, error) {
	g := G.NewGraph()
	f32 := tensor.Float32
	batch := d.batch
	x := G.NewTensor(g, f32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"), G.WithValue(denseOf(d.x, batch, 1, 28, 28)))
	y := G.NewMatrix(g, f32, G.WithShape(batch, 10), G.WithName("y"), G.WithValue(denseOf(d.y, batch, 10)))
	w1 := G.NewTensor(g, f32, 4, G.WithShape(16, 1, 5, 5), G.WithName("w1"), G.WithValue(denseOf(d.w1, 16, 1, 5, 5)))
	b1 := G.NewVector(g, f32, G.WithShape(16), G.WithName("b1"), G.WithValue(denseOf(d.b1, 16)))
	w2 := G.NewTensor(g, f32, 4, G.WithShape(32, 16, 3, 3), G.WithName("w2"), G.WithValue(denseOf(d.w2, 32, 16, 3, 3)))
	b2 := G.NewVector(g, f32, G.WithShape(32), G.WithName("b2"), G.WithValue(denseOf(d.b2, 32)))
	wd := G.NewMatrix(g, f32, G.WithShape(32*14*14, 10), G.WithName("wd"), G.WithValue(denseOf(d.wd, 32*14*14, 10)))
	bd := G.NewMatrix(g, f32, G.WithShape(layers.BiasRow(10)...), G.WithName("bd"), G.WithValue(denseOf(d.bd, layers.BiasRow(10)...)))

	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil {
			err = e
		}
		return n
	}
	h := must(layers.Conv2d(x, w1, b1, layers.ConvSpec{Stride: [2]int{2, 2}, Pads: [4]int{2, 2, 2, 2}}))
	h = must(layers.ReLU(h))
	h = must(layers.Conv2d(h, w2, b2, layers.ConvSpec{Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}}))
	h = must(layers.ReLU(h))
	h = must(layers.Flatten(h))
	h = must(layers.Dense(h, wd, bd))
	if err != nil {
		return nil, err
	}
	return finishConvNet(g, h, y, G.Nodes{w1, b1, w2, b2, wd, bd})
}

// finishConvNet adds the loss to logits [batch, 10] — the summed softmax cross-entropy
// -Σ y·log softmax(logits) — and its gradients with respect to params.
func finishConvNet(g *G.ExprGraph, logits, y *G.Node, params G.Nodes) (*convNet, error) {
	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil {
			err = e
		}
		return n
	}
	h := must(G.SoftMax(logits, 1))
	h = must(G.Log(h))
	h = must(G.HadamardProd(h, y))
	h = must(G.Sum(h))
	loss := must(G.Neg(h))
	if err != nil {
		return nil, err
	}
	grads, err := G.Grad(loss, params...)
	if err != nil {
		return nil, err
	}
	return &convNet{g: g, vm: G.NewTapeMachine(g), loss: loss, params: params, grads: grads}, nil
}

// run computes the loss and the gradients once.
func (n *convNet) run() (float32, error) {
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return 0, err
	}
	return n.loss.Value().Data().(float32), nil
}

// convStepFLOPs counts the matrix products of convNet's step at the given batch: each
// conv is a [pixels, C·kh·kw]·[C·kh·kw, out] product; the first conv's input gradient
// is not needed, but Gorgonia may compute it, so it is not counted.
func convStepFLOPs(batch int) float64 {
	B := float64(batch)
	conv1 := 2 * B * 14 * 14 * 25 * 16
	conv2 := 2 * B * 14 * 14 * 144 * 32
	dense := 2 * B * 6272 * 10
	return 2*conv1 + 3*conv2 + 3*dense
}

func convBenchStep(build func(convData) (*convNet, error)) (func(), float64, error) {
	const batch = 64
	net, err := build(newConvData(batch, rand.New(rand.NewPCG(3, 4))))
	if err != nil {
		return nil, 0, err
	}
	step := func() {
		if _, err := net.run(); err != nil {
			panic(err)
		}
	}
	return step, convStepFLOPs(batch), nil
}
