package vgg19

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/runtime/testset"
)

// tinyChannels is block 1's width in the default tests: every layer is 1/16 of VGG19's, so
// a whole network runs in milliseconds while keeping VGG19's layout.
const tinyChannels = 4

// Tolerance of extractor-vs-source comparisons, per layer:
// |got-want| <= extractTol*(max|want| + |want|), relative to the layer's scale. Both sides
// run the same gendl kernels on the same weights, and the inputs are bit-identical
// (Preprocessing.Apply rounds as the graph's Mul and Add), so the zoo and Caffe2 flavors
// agree exactly (logged). FlavorKeras adds half its biases with a separate Add, which the
// extractor folds into the Conv: a rounding per layer (float32 eps 6e-8 on sums of up to 4608
// products), carried through 16 layers; observed up to 1e-6 of the layer's largest value,
// which 1e-5 bounds with a margin of ten.
const extractTol = 1e-5

func tinyZoo(t testing.TB, o ZooOptions) *onnx.ModelProto {
	t.Helper()
	if o.Channels == 0 {
		o.Channels = tinyChannels
	}
	m, err := BuildZoo(rand.New(rand.NewPCG(19, uint64(o.Flavor))), o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randImage returns a float32 [n,3,h,w] image uniform in [0, 255].
func randImage(rng *rand.Rand, n, h, w int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, n, 3, h, w)
	for i := range t.F32() {
		t.F32()[i] = float32(rng.Float64() * 255)
	}
	return t
}

// nhwc transposes [N,C,H,W] to [N,H,W,C].
func nhwc(x *tensor.Tensor) *tensor.Tensor {
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

func TestLayerNames(t *testing.T) {
	names := LayerNames()
	if len(names) != 21 {
		t.Fatalf("%d layers, want 21 (16 convs + 5 pools)", len(names))
	}
	var convs, pools int
	for _, l := range Layers() {
		if l.Kind == Conv {
			convs++
		} else {
			pools++
		}
	}
	if convs != 16 || pools != 5 {
		t.Errorf("%d convs and %d pools, want 16 and 5", convs, pools)
	}
	for i, want := range map[int]string{0: "block1_conv1", 2: "block1_pool", 3: "block2_conv1", 10: "block3_pool", 19: "block5_conv4", 20: "block5_pool"} {
		if names[i] != want {
			t.Errorf("layer %d is %q, want %q", i, names[i], want)
		}
	}
	if got := ParseLayers(""); !slices.Equal(got, DefaultLayers()) {
		t.Errorf("ParseLayers(\"\") = %v, want the defaults", got)
	}
	if got := ParseLayers(" block1_conv1 ,block5_conv2,"); !slices.Equal(got, []string{"block1_conv1", "block5_conv2"}) {
		t.Errorf("ParseLayers = %v", got)
	}
}

// checkZooNames checks that Analyze maps every Keras name of a zoo-layout model to the zoo's
// value: the k-th conv's Relu output, the b-th pool's output.
func checkZooNames(t *testing.T, l *Layout, width int) {
	t.Helper()
	if len(l.Layers) != 21 {
		t.Fatalf("found %d layers, want 21: %v", len(l.Layers), l.Names())
	}
	k := 0
	for _, ly := range l.Layers {
		want := ZooPoolName(ly.Block - 1)
		if ly.Kind == Conv {
			want = ZooReluName(k)
			if ly.Weight != strings.Replace(ZooConvName(k), "_fwd", "_weight", 1) || ly.Out != width*ly.Channels {
				t.Errorf("%s: weight %q, %d channels", ly.Name, ly.Weight, ly.Out)
			}
			k++
		}
		if ly.Value != want {
			t.Errorf("%s -> %q, want %q", ly.Name, ly.Value, want)
		}
	}
	if l.Exporter != ExporterZoo || l.Network != Torch || l.InputPreprocessing != Torch || l.Input != ZooInput || l.NHWC || l.Width != width {
		t.Errorf("layout: exporter %q, network %v, input %q (NHWC %v), width %d", l.Exporter, l.Network, l.Input, l.NHWC, l.Width)
	}
}

func TestAnalyzeZoo(t *testing.T) {
	l, err := Analyze(tinyZoo(t, ZooOptions{Height: 64, Width: 80}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkZooNames(t, l, tinyChannels)
	if !l.Head {
		t.Error("the zoo model's classifier head was not noticed")
	}
	vals, err := l.Values([]string{"block5_conv2", "block1_conv1"})
	if err != nil || !slices.Equal(vals, []string{ZooReluName(13), ZooReluName(0)}) {
		t.Errorf("Values = %v, %v", vals, err)
	}
}

// TestAnalyzeZooFullWidth names the layers of a full-width (64-channel) zoo-layout VGG19's
// features: 20M random parameters, built in about a second.
func TestAnalyzeZooFullWidth(t *testing.T) {
	m, err := BuildZoo(rand.New(rand.NewPCG(19, 0)), ZooOptions{NoHead: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Analyze(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkZooNames(t, l, StandardWidth)
	if l.Layers[20].Out != 512 || l.Head {
		t.Errorf("block5_pool has %d channels (want 512), head %v (want none)", l.Layers[20].Out, l.Head)
	}
}

func TestAnalyzeFlavors(t *testing.T) {
	for _, tc := range []struct {
		flavor   Flavor
		exporter string
		pre      Preprocessing
		input    string
		nhwc     bool
		value5_2 string
	}{
		{FlavorCaffe2, ExporterCaffe2, Caffe, "data_0", false, "conv5_2_2"},
		{FlavorKeras, ExporterKeras, Caffe, "input_1", true, "vgg19/block5_conv2/Relu:0"},
	} {
		l, err := Analyze(tinyZoo(t, ZooOptions{Flavor: tc.flavor}), Options{})
		if err != nil {
			t.Fatalf("flavor %d: %v", tc.flavor, err)
		}
		ly, err := l.Find("block5_conv2")
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Layers) != 21 || l.Exporter != tc.exporter || l.Network != tc.pre || l.Input != tc.input || l.NHWC != tc.nhwc || ly.Value != tc.value5_2 || !l.Head {
			t.Errorf("flavor %d: %d layers, exporter %q, preprocessing %v, input %q NHWC %v, block5_conv2 = %q, head %v",
				tc.flavor, len(l.Layers), l.Exporter, l.Network.Name, l.Input, l.NHWC, ly.Value, l.Head)
		}
		t.Log(l.Summary())
	}
}

// runSource runs a source model on img (RGB [0,255], NCHW) preprocessed in Go as its
// layout says, returning the values of the Keras layers.
func runSource(t *testing.T, m *onnx.ModelProto, l *Layout, img *tensor.Tensor, layers []string) map[string]*tensor.Tensor {
	t.Helper()
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := l.InputPreprocessing.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	if l.NHWC {
		x = nhwc(x)
	}
	vals, err := l.Values(layers)
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{l.Input: x}, vals...)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]*tensor.Tensor{}
	for i, name := range layers {
		res[name] = out[vals[i]]
	}
	return res
}

func runExtractor(t *testing.T, x *onnx.ModelProto, img *tensor.Tensor, names ...string) map[string]*tensor.Tensor {
	t.Helper()
	plan, err := engine.New(x, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{InputName: img}, names...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareLayers(t *testing.T, what string, got, want map[string]*tensor.Tensor, layers []string) {
	t.Helper()
	var worst float64
	for _, name := range layers {
		g, w := got[name], want[name]
		if g == nil || w == nil {
			t.Fatalf("%s: %s missing (got %v, want %v)", what, name, g != nil, w != nil)
		}
		var scale float64
		for _, v := range w.F32() {
			scale = max(scale, math.Abs(float64(v)))
		}
		r := testset.Compare(name, g, w, extractTol, extractTol*scale)
		if r.Err != nil {
			t.Errorf("%s: %v", what, r.Err)
		}
		worst = max(worst, r.MaxAbs/scale)
		var nonzero int
		for _, v := range g.F32() {
			if v != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s: %s is all zeros: the comparison would prove nothing", what, name)
		}
	}
	t.Logf("%s: %d layers agree, largest |extractor-source| / max|source| %.3g", what, len(layers), worst)
}

// TestExtractMatchesSource checks that the extractor's outputs equal the source model's
// intermediate values (run in gendl, fed the image preprocessed in Go) for every layer, every
// flavor, and sizes other than 224, batch 1 and 2.
func TestExtractMatchesSource(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := LayerNames()
	for _, flavor := range []Flavor{FlavorZoo, FlavorCaffe2, FlavorKeras} {
		for _, size := range [][3]int{{1, 64, 80}, {2, 40, 56}} {
			n, h, w := size[0], size[1], size[2]
			m := tinyZoo(t, ZooOptions{Flavor: flavor, Batch: n, Height: h, Width: w})
			l, err := Analyze(m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			x, err := l.Extract(all, Options{})
			if err != nil {
				t.Fatal(err)
			}
			img := randImage(rng, n, h, w)
			compareLayers(t, l.Exporter+" "+tensor.ShapeString(img.Shape), runExtractor(t, x, img), runSource(t, m, l, img, all), all)
		}
	}
}

func TestExtractedModel(t *testing.T) {
	m := tinyZoo(t, ZooOptions{})
	layers := []string{"block2_conv2", "block1_conv1"}
	x, err := Extract(m, layers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := x.GetGraph()
	if len(g.GetInput()) != 1 || g.GetInput()[0].GetName() != InputName {
		t.Errorf("inputs %v, want only %q (initializers not listed)", g.GetInput(), InputName)
	}
	var dims []string
	for _, d := range g.GetInput()[0].GetType().GetTensorType().GetShape().GetDim() {
		if d.GetDimParam() != "" {
			dims = append(dims, d.GetDimParam())
		} else {
			dims = append(dims, itoa(d.GetDimValue()))
		}
	}
	if !slices.Equal(dims, []string{"N", "3", "H", "W"}) {
		t.Errorf("input dims %v, want [N 3 H W]", dims)
	}
	if x.GetIrVersion() < 4 || onnx.OpsetVersion(x, "") != MinOpset {
		t.Errorf("IR %d opset %d, want IR >= 4 and opset %d (the zoo's 7 raised)", x.GetIrVersion(), onnx.OpsetVersion(x, ""), MinOpset)
	}
	var outs []string
	for _, o := range g.GetOutput() {
		outs = append(outs, o.GetName())
	}
	if !slices.Equal(outs, layers) {
		t.Errorf("outputs %v, want %v", outs, layers)
	}
	var ops []string
	for _, n := range g.GetNode() {
		ops = append(ops, n.GetOpType())
	}
	// Preprocessing (Mul, Add), then block 1 (2 convs + pool) and block 2's two convs.
	want := []string{"Mul", "Add", "Conv", "Relu", "Conv", "Relu", "MaxPool", "Conv", "Relu", "Conv", "Relu"}
	if !slices.Equal(ops, want) {
		t.Errorf("ops %v, want %v (nothing past block2_conv2)", ops, want)
	}
	if len(g.GetInitializer()) != 2+4*2 {
		t.Errorf("%d initializers, want 10 (preprocessing 2, 4 convs x kernel and bias)", len(g.GetInitializer()))
	}
	md := Metadata(x)
	for k, v := range map[string]string{MetaModel: ModelName, MetaFormat: "1", MetaLayers: "block2_conv2,block1_conv1",
		MetaPreprocessing: Torch.String(), MetaWidth: itoa(tinyChannels)} {
		if md[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, md[k], v)
		}
	}
	if !strings.Contains(md[MetaSource], ExporterZoo) {
		t.Errorf("metadata %s = %q", MetaSource, md[MetaSource])
	}
	keras, err := Extract(tinyZoo(t, ZooOptions{Flavor: FlavorKeras}), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := onnx.OpsetVersion(keras, ""); v != 13 {
		t.Errorf("opset of an extractor from an opset-13 file: %d, want 13 (kept)", v)
	}
	if ops := keras.GetGraph().GetNode(); ops[0].GetOpType() != "Conv" || ops[0].GetName() != preBGR {
		t.Errorf("a BGR network's extractor starts with %s, want the channel swap %q", onnx.NodeDesc(ops[0]), preBGR)
	}
}

func itoa[T int | int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// TestReExtract analyses an extractor (truncated, preprocessing in the graph) and extracts
// from it again: the second extractor's outputs equal the first's values.
func TestReExtract(t *testing.T) {
	for _, flavor := range []Flavor{FlavorZoo, FlavorKeras} {
		x, err := Extract(tinyZoo(t, ZooOptions{Flavor: flavor}), nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := Analyze(x, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Exporter != ExporterGendl || len(l.Layers) != 18 || l.Head || !l.InputPreprocessing.IsIdentity() || len(l.InGraph) != preprocessingNodes(l.Network) {
			t.Fatalf("extractor: exporter %q, %d layers (want 18, through block5_conv2), head %v, input preprocessing %v, in graph %v",
				l.Exporter, len(l.Layers), l.Head, l.InputPreprocessing, l.InGraph)
		}
		for _, ly := range l.Layers {
			if ly.Value != ly.Name {
				t.Errorf("extractor value of %s is %q, want the Keras name", ly.Name, ly.Value)
			}
		}
		y, err := l.Extract([]string{"block3_conv1", "block2_pool"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if Metadata(y)[MetaSource] != Metadata(x)[MetaSource] || Metadata(y)[MetaPreprocessing] != Metadata(x)[MetaPreprocessing] {
			t.Errorf("re-extracting lost the source or preprocessing metadata: %v", Metadata(y))
		}
		img := randImage(rand.New(rand.NewPCG(3, 4)), 1, 48, 48)
		layers := []string{"block3_conv1", "block2_pool"}
		compareLayers(t, "re-extracted "+l.Network.Name, runExtractor(t, y, img), runExtractor(t, x, img, layers...), layers)
	}
}

func TestOpenFeatures(t *testing.T) {
	path := t.TempDir() + "/vgg19-7.onnx"
	if err := onnx.EncodeFile(path, tinyZoo(t, ZooOptions{})); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFeatures(path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Input != InputName || !slices.Equal(f.Layers, DefaultLayers()) || f.Source.Exporter != ExporterZoo {
		t.Fatalf("features: input %q, layers %v, source %s", f.Input, f.Layers, f.Source.Exporter)
	}
	out, err := f.Plan.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{f.Input: randImage(rand.New(rand.NewPCG(5, 6)), 1, 400, 72)})
	if err != nil {
		t.Fatal(err)
	}
	// block5_conv2 at 400x72: four pools -> 25x4, 8*tinyChannels channels.
	if s := out["block5_conv2"].Shape; !slices.Equal(s, []int{1, 8 * tinyChannels, 25, 4}) {
		t.Errorf("block5_conv2 shape %v", s)
	}
	if _, err := OpenFeatures(path, []string{"block5_conv5"}, Options{}); err == nil || !strings.Contains(err.Error(), "block5_conv4") {
		t.Errorf("a missing layer: %v, want the available names listed", err)
	}
}

func TestExportFile(t *testing.T) {
	dir := t.TempDir()
	src := dir + "/vgg19-7.onnx"
	if err := onnx.EncodeFile(src, tinyZoo(t, ZooOptions{})); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var calls int
	var last int64
	res, err := ExportFile(ExportConfig{From: src, Out: dir + "/features.onnx", Layers: []string{"block4_conv1"}, Log: &log,
		Progress: func(read, total int64) { calls++; last = total - read }})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != 0 {
		t.Errorf("progress called %d times, %d bytes short at the end", calls, last)
	}
	if res.Bytes == 0 || res.Parameters == 0 || !strings.Contains(log.String(), "wrote") {
		t.Errorf("result %+v, log %q", res, log.String())
	}
	t.Log(log.String())
	_, l, err := Load(dir+"/features.onnx", Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Exporter != ExporterGendl || l.Layers[len(l.Layers)-1].Name != "block4_conv1" {
		t.Errorf("written file: exporter %q, layers %v", l.Exporter, l.Names())
	}
	for _, tc := range []struct {
		cfg  ExportConfig
		want string
	}{
		{ExportConfig{From: src, Out: src}, "overwrite"},
		{ExportConfig{From: dir + "/missing.onnx", Out: dir + "/x.onnx"}, "no such file"},
		{ExportConfig{From: src, Out: dir + "/x.onnx", Preprocessing: "bogus"}, "channel order"},
		{ExportConfig{From: src, Out: dir + "/x.onnx", Layers: []string{"conv1_1"}}, "block1_conv1, block1_conv2"},
		{ExportConfig{From: dir, Out: dir + "/x.onnx"}, "directory"},
	} {
		if _, err := ExportFile(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ExportFile(%+v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		}
	}
}
