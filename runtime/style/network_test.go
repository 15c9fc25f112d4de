package style

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// tinyInception is TinyInception, failing the test on an error.
func tinyInception(t testing.TB, o TinyOptions) *onnx.ModelProto {
	t.Helper()
	m, err := TinyInception(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGenericNetwork(t *testing.T) {
	net, err := NewNetwork(tinyInception(t, TinyOptions{}), NetworkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if net.Kind != Generic || net.Content != InceptionContent || strings.Join(net.Style, ",") != strings.Join(InceptionStyle, ",") {
		t.Fatalf("kind %s content %s style %v: want InceptionV3's defaults", net.Kind, net.Content, net.Style)
	}
	// [-1, 1] from the metadata: 0 -> -1, 255 -> 1.
	for c := range 3 {
		if lo, hi := net.Shift[c], 255*net.Scale[c]+net.Shift[c]; lo != -1 || math.Abs(float64(hi-1)) > 1e-6 {
			t.Errorf("channel %d maps [0,255] to [%v,%v], want [-1,1]", c, lo, hi)
		}
	}
	if net.Weights != InceptionConfig() {
		t.Errorf("weights %+v, want InceptionConfig's", net.Weights)
	}
	// Layers chosen by the user: the book's weights (nothing is known of their scale).
	if own, err := NewNetwork(tinyInception(t, TinyOptions{}), NetworkOptions{Content: "mixed1", Style: []string{"activation_2", "mixed1"}}); err != nil || own.Weights != DefaultConfig() {
		t.Errorf("own layers: %v, weights %+v", err, own.Weights)
	}
	if !strings.Contains(net.Summary, "[-1,1]") || len(net.Available) != 13 {
		t.Errorf("summary %q, available %v", net.Summary, net.Available)
	}
}

// TestGenericGradient checks the whole loss's gradient through a generic network whose input
// is scaled ([-1, 1]: the chain rule's factor 2/255), with BatchNormalization and Concat on
// the path, against finite differences, as TestGradient does for VGG19.
func TestGenericGradient(t *testing.T) {
	net, err := NewNetwork(tinyInception(t, TinyOptions{}), NetworkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 48, 40
	cfg := Config{ContentWeight: 1, StyleWeight: 1e4, TVWeight: 1e-4, Threads: 1}
	tr, err := NewTransfer(net, randomImage(h, w, 1), randomImage(h, w, 2), cfg)
	if err != nil {
		t.Fatal(err)
	}
	x := randomImage(h, w, 3).F32()
	dx, scratch := make([]float32, len(x)), make([]float32, len(x))
	l0, err := tr.Evaluate(x, dx)
	if err != nil {
		t.Fatal(err)
	}
	if !(l0.Content > 0 && l0.Style > 0 && l0.TV > 0) {
		t.Fatalf("loss %v: want every term > 0", l0)
	}
	fdAt := func(i int, step float32) float64 {
		old := x[i]
		x[i] = old + step
		lp, _ := tr.Evaluate(x, scratch)
		x[i] = old - step
		lm, _ := tr.Evaluate(x, scratch)
		x[i] = old
		return (lp.Total - lm.Total) / float64(2*step)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	idx := make([]int, 30)
	fd := make([]float64, len(idx))
	maxFD := 0.0
	for k := range idx {
		idx[k] = rng.IntN(len(x))
		fd[k] = fdAt(idx[k], 0.1)
		maxFD = max(maxFD, math.Abs(fd[k]))
	}
	tol := func(want float64) float64 { return 2e-2*maxFD + 5e-2*math.Abs(want) }
	kinks := 0
	for k, i := range idx {
		if math.Abs(float64(dx[i])-fd[k]) <= tol(fd[k]) {
			continue
		}
		if fine := fdAt(i, 0.03); math.Abs(fine-fd[k]) > tol(fine) {
			kinks++
			continue
		}
		t.Errorf("pixel %d: gradient %.6g, finite difference %.6g (max |fd| %.3g)", i, dx[i], fd[k], maxFD)
	}
	if kinks > 3 {
		t.Errorf("%d of %d pixels at kinks", kinks, len(idx))
	}
}

func TestNetworkErrors(t *testing.T) {
	vgg := tinyVGG(t, 2)
	// A zoo-layout VGG19 whose names say nothing of its origin.
	anon := tinyVGG(t, 2)
	renamed := map[string]string{}
	for _, tp := range anon.GetGraph().GetInitializer() {
		old := tp.GetName()
		renamed[old] = "w_" + strings.ReplaceAll(old, "vgg0_", "")
		*tp.Name = renamed[old]
	}
	for _, vi := range anon.GetGraph().GetInput() {
		if n, ok := renamed[vi.GetName()]; ok {
			*vi.Name = n
		}
	}
	for _, n := range anon.GetGraph().GetNode() {
		for i, in := range n.Input {
			if r, ok := renamed[in]; ok {
				n.Input[i] = r
			}
		}
	}
	// A VGG19 that normalises its input in the graph before the first convolution.
	pre := tinyVGG(t, 2)
	{
		g := pre.GetGraph()
		first := g.GetNode()[0]
		in := first.GetInput()[0]
		first.Input[0] = "normalised"
		ten := onnx.FromTensor("pre_mean", tensor.FromFloat32([]float32{0.4, 0.4, 0.4}, 1, 3, 1, 1))
		g.Initializer = append(g.Initializer, ten)
		sub := &onnx.NodeProto{Name: ptr("pre_sub"), OpType: ptr("Sub"), Input: []string{in, "pre_mean"}, Output: []string{"normalised"}}
		g.Node = append([]*onnx.NodeProto{sub}, g.Node...)
	}
	inc := tinyInception(t, TinyOptions{})
	for _, tc := range []struct {
		name string
		m    *onnx.ModelProto
		opt  NetworkOptions
		want []string
	}{
		{"vgg missing layer", vgg, NetworkOptions{Content: "block6_conv1"}, []string{`no layer "block6_conv1"`, "block1_conv1, block1_conv2, block1_pool"}},
		{"vgg unknown preprocessing", anon, NetworkOptions{}, []string{"is a VGG19", "cannot tell which preprocessing", "--vgg-preprocessing"}},
		{"vgg unexpected preprocessing", pre, NetworkOptions{}, []string{"VGG19", "unexpected preprocessing", `node "pre_sub" (Sub)`}},
		{"vgg bad preprocessing option", vgg, NetworkOptions{VGGPreprocessing: "yuv"}, []string{`channel order "yuv"`}},
		{"forced vgg", inc, NetworkOptions{Kind: "vgg19"}, []string{"style: vgg19:"}},
		{"bad kind", inc, NetworkOptions{Kind: "resnet"}, []string{`network kind "resnet"`}},
		{"inception missing layer", inc, NetworkOptions{Content: "mixed9"}, []string{`no layer "mixed9"`, "available: conv2d_1, activation_1, activation_2"}},
		{"vgg names on inception", inc, NetworkOptions{Content: "block5_conv2"}, []string{"VGG19 layer names", "not a VGG19"}},
		{"duplicate style layer", inc, NetworkOptions{Style: []string{"mixed0", "mixed0"}}, []string{`"mixed0" is listed twice`}},
		{"no range", tinyInception(t, TinyOptions{Meta: map[string]string{}}), NetworkOptions{}, []string{"cannot tell what range", "--input-range"}},
		{"bad range", inc, NetworkOptions{InputRange: "0,2"}, []string{`input range "0,2"`}},
		{"nhwc", tinyInception(t, TinyOptions{NHWC: true}), NetworkOptions{}, []string{"looks NHWC"}},
		{"one channel", tinyInception(t, TinyOptions{InputChannels: 1}), NetworkOptions{Kind: "generic"}, []string{"has 1 channels"}},
		{"no defaults", tinyInception(t, TinyOptions{OmitMixed3: true}), NetworkOptions{}, []string{"give the content and style layers"}},
		{"no defaults generic", tinyInception(t, TinyOptions{OmitMixed3: true}), NetworkOptions{Kind: "generic"}, []string{"no default layers", "available: conv2d_1, activation_1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewNetwork(tc.m, tc.opt)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "style: ") {
				t.Errorf("error %q: want the prefix \"style: \"", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q: want it to contain %q", err, w)
				}
			}
		})
	}
	// With the preprocessing given, the anonymous VGG19 is accepted.
	if _, err := NewNetwork(anon, NetworkOptions{VGGPreprocessing: "torch"}); err != nil {
		t.Errorf("with --vgg-preprocessing torch: %v", err)
	}
	// And a generic network with its range given explicitly.
	net, err := NewNetwork(tinyInception(t, TinyOptions{Meta: map[string]string{}}), NetworkOptions{InputRange: "0,1"})
	if err != nil || net.Scale[0] != 1.0/255 || net.Shift[0] != 0 {
		t.Errorf("--input-range 0,1: %v, %+v", err, net)
	}
}

func ptr(s string) *string { return &s }

// TestOpenNetwork reads the files `gendl-train export vgg19` writes (a feature extractor)
// and a zoo-layout VGG19, and rejects files that are not ONNX.
func TestOpenNetwork(t *testing.T) {
	dir := t.TempDir()
	zoo := filepath.Join(dir, "vgg19-7.onnx")
	if err := onnx.EncodeFile(zoo, tinyVGG(t, 2)); err != nil {
		t.Fatal(err)
	}
	feat := filepath.Join(dir, "features.onnx")
	if _, err := vgg19.ExportFile(vgg19.ExportConfig{From: zoo, Out: feat}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{zoo, feat} {
		net, err := OpenNetwork(path, NetworkOptions{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if net.Kind != VGG19 || net.Content != VGGContent {
			t.Errorf("%s: kind %s content %s", path, net.Kind, net.Content)
		}
		// The extractor stops at block5_conv2: asking for a deeper layer lists what it has.
		if path == feat {
			_, err := OpenNetwork(path, NetworkOptions{Content: "block5_conv4"})
			if err == nil || !strings.Contains(err.Error(), "not in this model") || !strings.Contains(err.Error(), "block5_conv2") {
				t.Errorf("block5_conv4 of an extractor: %v", err)
			}
		}
	}
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("this is not a protobuf \xff\xff\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenNetwork(junk, NetworkOptions{}); err == nil || !strings.HasPrefix(err.Error(), "style: ") {
		t.Errorf("junk file: %v", err)
	}
	if _, err := OpenNetwork(filepath.Join(dir, "missing.onnx"), NetworkOptions{}); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: %v", err)
	}
}

// TestEstimateMemory checks the estimate's activations against the values a session really
// computes at that size, and that it grows with the image.
func TestEstimateMemory(t *testing.T) {
	net := tinyNetwork(t, 4, NetworkOptions{})
	const h, w = 48, 64
	mem, err := EstimateMemory(net, h, w, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Run every node output the losses need, and add up their sizes.
	of := dedup(append([]string{net.Content}, net.Style...))
	var ids []int
	for _, name := range of {
		v, _ := net.Plan.ValueID(name)
		ids = append(ids, v)
	}
	var names []string
	nodes := net.Plan.Nodes()
	for _, ni := range net.Plan.NodesFor(ids) {
		for _, v := range nodes[ni].Outputs {
			if v >= 0 {
				names = append(names, net.Plan.ValueName(v))
			}
		}
	}
	sess := net.Plan.NewSession(engine.SessionOptions{Threads: 1})
	out, err := sess.Run(map[string]*tensor.Tensor{net.Input: randomImage(h, w, 1)}, names...)
	if err != nil {
		t.Fatal(err)
	}
	var real int64
	for _, v := range out {
		real += int64(v.Len()) * 4
	}
	if mem.Activations != real {
		t.Errorf("estimated activations %d bytes, a session computes %d", mem.Activations, real)
	}
	if mem.Total <= mem.Activations+mem.Gradients || mem.Weights == 0 {
		t.Errorf("estimate %+v: parts missing", mem)
	}
	big, err := EstimateMemory(net, 2*h, 2*w, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(big.Activations) / float64(mem.Activations); math.Abs(r-4) > 0.01 {
		t.Errorf("activations grow %vx for 4x the pixels", r)
	}
	if _, err := EstimateMemory(net, 8, 8, 1, Options{}); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("8x8: %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"8GiB": 8 << 30, "512M": 512 << 20, "1.5g": 3 << 29, "100": 100, "2 kb": 2048, "0": 0} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1G", "lots", "1e30G"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q): no error", in)
		}
	}
}
