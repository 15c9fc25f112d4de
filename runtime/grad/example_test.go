package grad_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/grad"
	"github.com/gendl/gendl/runtime/tensor"
)

// A DeepDream-style step: gradient ascent on the image to raise the mean square of an
// intermediate layer's activations, with the gradient normalised as the book does.
func Example() {
	// A small frozen conv net: image [1, 3, 16, 16] -> Conv 3×3 -> Relu ("features") -> MaxPool.
	rng := rand.New(rand.NewPCG(1, 2))
	w := tensor.New(tensor.Float32, 8, 3, 3, 3)
	for i := range w.F32() {
		w.F32()[i] = float32(rng.NormFloat64() * 0.3)
	}
	b := onnx.NewBuilder("net", 17)
	b.Input("image", tensor.Float32, 1, 3, 16, 16)
	b.Initializer("w", w)
	b.NamedNode("conv", "Conv", []string{"image", "w"}, []string{"conv"}, onnx.AttrInts("pads", 1, 1, 1, 1))
	b.NamedNode("relu", "Relu", []string{"conv"}, []string{"features"})
	b.NamedNode("pool", "MaxPool", []string{"features"}, []string{"out"}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
	b.Output("out", tensor.Float32)
	m, err := b.Model()
	if err != nil {
		panic(err)
	}
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		panic(err)
	}

	// Gradients of the intermediate value "features" with respect to the input "image".
	g, err := grad.New(plan, []string{"features"}, []string{"image"})
	if err != nil {
		panic(err)
	}
	s := g.NewSession(engine.SessionOptions{Threads: 1})
	image := tensor.New(tensor.Float32, 1, 3, 16, 16)
	for i := range image.F32() {
		image.F32()[i] = float32(rng.Float64())
	}
	feeds := map[string]*tensor.Tensor{"image": image}
	loss := func(vals, seeds map[string]*tensor.Tensor) (float64, error) {
		return grad.MeanSquare(vals["features"], seeds["features"], 1)
	}
	var first, last float64
	for step := range 10 {
		l, grads, err := s.Step(feeds, loss)
		if err != nil {
			panic(err)
		}
		if step == 0 {
			first = l
		}
		last = l
		// image += 0.01 * g / mean|g|
		gx := grads["image"].F32()
		var norm float64
		for _, v := range gx {
			norm += math.Abs(float64(v))
		}
		scale := float32(0.01 / max(norm/float64(len(gx)), 1e-7))
		for i, v := range gx {
			image.F32()[i] += scale * v
		}
	}
	fmt.Println("loss increased:", last > first)
	// Output: loss increased: true
}
