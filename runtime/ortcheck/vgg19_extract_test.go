//go:build ort

package ortcheck

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/runtime/testset"
)

// The feature extractors of models/vgg19 against ONNX Runtime: the extractor must give in
// gendl what it gives in ORT, and what ORT computes for the same layers inside the source
// model (fed the image preprocessed in Go). Tolerance per layer:
// |gendl-ort| <= max(netATol, vggScaleTol*max|ort|) + netRTol*|ort|: the random nets'
// tolerance, its absolute part raised for layers of large magnitude. The zoo's
// torch-normalised inputs are O(1) and its activations reach ~20; the Keras 'caffe' inputs
// are +-128 and their activations reach ~1000, with values that cancel to near zero whose
// float32 error is relative to the layer's scale, not to their own.
//
// vggScaleTol: float32's epsilon (6e-8) times the growth of rounding over 16 layers of sums
// of up to 4608 products (observed: under 1e-6 of the layer's largest value) leaves a margin
// of ten at 1e-5.
const vggScaleTol = 1e-5

// vggImage returns an RGB image in [0, 255], float32 [n, 3, h, w].
func vggImage(seed uint64, n, h, w int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 255))
	t := tensor.New(tensor.Float32, n, 3, h, w)
	for i := range t.F32() {
		t.F32()[i] = float32(rng.Float64() * 255)
	}
	return t
}

// toNHWC transposes [N,C,H,W] to [N,H,W,C].
func toNHWC(x *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := tensor.New(tensor.Float32, n, h, w, c)
	for i := range n {
		for ch := range c {
			for y := range h {
				for xx := range w {
					out.F32()[((i*h+y)*w+xx)*c+ch] = x.F32()[((i*c+ch)*h+y)*w+xx]
				}
			}
		}
	}
	return out
}

// exposeValues declares values of m as extra graph outputs (type float32, shape unknown), so
// that ORT returns them.
func exposeValues(m *onnx.ModelProto, values []string) {
	for _, v := range values {
		tt := &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(tensor.Float32))}
		m.Graph.Output = append(m.Graph.Output, &onnx.ValueInfoProto{Name: proto.String(v),
			Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: tt}}})
	}
}

// compareVGGLayers checks got[layer] against want[layer] within the net tolerance.
func compareVGGLayers(t *testing.T, what string, layers []string, got, want map[string]*tensor.Tensor) {
	t.Helper()
	var me maxErr
	var scale float64
	for _, name := range layers {
		g, w := got[name], want[name]
		if g == nil || w == nil {
			t.Fatalf("%s: layer %s missing", what, name)
		}
		var largest float64
		for j := range w.Len() {
			largest = max(largest, abs(w.Float64At(j)))
		}
		atol := max(netATol, vggScaleTol*largest)
		scale = max(scale, largest)
		r := testset.Compare(name, g, w, netRTol, atol)
		if r.Err != nil {
			t.Errorf("%s: %v", what, r.Err)
			continue
		}
		for j := range g.Len() {
			gv, wv := g.Float64At(j), w.Float64At(j)
			d := gv - wv
			if d < 0 {
				d = -d
			}
			me.abs = max(me.abs, d)
			me.used = max(me.used, d/(atol+netRTol*abs(wv)))
		}
	}
	t.Logf("%s: %d layers agree (largest |ort| %.3g): %v", what, len(layers), scale, &me)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// extractorVsORT runs the extractor x in gendl and in ORT on img and compares every output;
// it returns ORT's outputs.
func extractorVsORT(t *testing.T, x *onnx.ModelProto, img *tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	p, err := loadPair(x)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Destroy()
	feeds := map[string]*tensor.Tensor{vgg19.InputName: img}
	got, want, err := p.run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	g, w := map[string]*tensor.Tensor{}, map[string]*tensor.Tensor{}
	var layers []string
	for i, o := range p.plan.Outputs {
		g[o.Name], w[o.Name] = got[i], want[i]
		layers = append(layers, o.Name)
	}
	compareVGGLayers(t, fmt.Sprintf("extractor %s: gendl vs ORT", tensor.ShapeString(img.Shape)), layers, g, w)
	return w
}

// sourceInORT runs the source model m in ORT with the layers' values exposed, fed img
// preprocessed as l says, and returns the layers by Keras name.
func sourceInORT(t *testing.T, m *onnx.ModelProto, l *vgg19.Layout, layers []string, img *tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	vals, err := l.Values(layers)
	if err != nil {
		t.Fatal(err)
	}
	exposeValues(m, vals)
	defer func() { m.Graph.Output = m.Graph.Output[:len(m.Graph.Output)-len(vals)] }()
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	om, err := newORTModel(m, data)
	if err != nil {
		t.Fatalf("ORT cannot load the source model: %v", err)
	}
	defer om.Destroy()
	x, err := l.InputPreprocessing.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	if l.NHWC {
		x = toNHWC(x)
	}
	out, err := om.run(map[string]*tensor.Tensor{l.Input: x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]*tensor.Tensor{}
	for i, name := range layers {
		res[name] = out[vals[i]]
	}
	return res
}

// TestVGG19ExtractorVsORT checks the feature extractor of a full-size VGG19 in the zoo's
// vgg19-7 layout (random weights, 143.7M parameters, head included): gendl and ORT agree on
// the extractor at 224x224 and at other sizes, and ORT's extractor outputs equal ORT's own
// intermediate values of the source model. It builds and runs the 575 MB model, so -short
// skips it.
func TestVGG19ExtractorVsORT(t *testing.T) {
	requireORT(t)
	if testing.Short() {
		t.Skip("-short: builds and runs a full-size VGG19")
	}
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(netSeed, 19)), vgg19.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := vgg19.Analyze(m, vgg19.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := vgg19.DefaultLayers()
	x, err := l.Extract(layers, vgg19.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := vggImage(1, 1, 224, 224)
	ortX := extractorVsORT(t, x, img)
	compareVGGLayers(t, "ORT: extractor vs the zoo model's values", layers, ortX, sourceInORT(t, m, l, layers, img))
	for _, s := range [][3]int{{1, 64, 80}, {2, 96, 128}} {
		extractorVsORT(t, x, vggImage(2, s[0], s[1], s[2]))
	}
}

// TestVGG19KerasExtractorVsORT does the same for a Keras-to-ONNX-style VGG19 (NHWC input,
// BGR 'caffe' preprocessing, biases as separate Adds; block 1 width 8, for speed), every
// feature layer, at 48x64 and batch 2: this checks the extractor's channel swap and
// mean subtraction against ORT running the original graph.
func TestVGG19KerasExtractorVsORT(t *testing.T) {
	requireORT(t)
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(netSeed, 20)), vgg19.ZooOptions{Flavor: vgg19.FlavorKeras, Channels: 8})
	if err != nil {
		t.Fatal(err)
	}
	l, err := vgg19.Analyze(m, vgg19.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Network != vgg19.Caffe || !l.NHWC {
		t.Fatalf("keras layout: preprocessing %v, NHWC %v", l.Network, l.NHWC)
	}
	layers := vgg19.LayerNames()
	x, err := l.Extract(layers, vgg19.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := vggImage(3, 2, 48, 64)
	ortX := extractorVsORT(t, x, img)
	compareVGGLayers(t, "ORT: extractor vs the Keras model's values", layers, ortX, sourceInORT(t, m, l, layers, img))
}

// vggFeatureFLOPs counts 2 * multiply-adds of the convs up to deepest (an index in
// vgg19.Layers) at h x w, batch 1, block 1 width 64.
func vggFeatureFLOPs(deepest, h, w int) float64 {
	var f float64
	c := 3
	for _, ly := range vgg19.Layers()[:deepest+1] {
		if ly.Kind == vgg19.Pool {
			h, w = h/2, w/2
			continue
		}
		cout := 64 * ly.Channels
		f += 2 * float64(c*cout*9) * float64(h*w)
		c = cout
	}
	return f
}

// BenchmarkVGG19Features times the style-transfer extractor (default layers, through
// block5_conv2) of a full-size zoo-layout VGG19 in gendl and ORT, one thread each (or
// GENDL_BENCH_THREADS), at 224x224 and at the book's style-transfer size, 400x533.
//
//	go test -tags ort ./runtime/ortcheck -run XXX -bench VGG19Features -benchtime 3x
func BenchmarkVGG19Features(b *testing.B) {
	requireORT(b)
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(netSeed, 19)), vgg19.ZooOptions{NoHead: true})
	if err != nil {
		b.Fatal(err)
	}
	x, err := vgg19.Extract(m, nil, vgg19.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m = nil
	data, err := onnx.Encode(x)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := engine.New(x, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	deepest := vgg19.LayerIndex("block5_conv2")
	for _, size := range [][2]int{{224, 224}, {400, 533}} {
		h, w := size[0], size[1]
		feeds := map[string]*tensor.Tensor{vgg19.InputName: vggImage(4, 1, h, w)}
		flops := vggFeatureFLOPs(deepest, h, w)
		for _, threads := range benchThreads(b) {
			b.Run(fmt.Sprintf("%dx%d/threads=%d", h, w, threads), func(b *testing.B) {
				om, err := newORTModelThreads(x, data, threads)
				if err != nil {
					b.Fatal(err)
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
}
