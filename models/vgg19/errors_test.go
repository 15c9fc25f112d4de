package vgg19

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func wantErr(t *testing.T, what string, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, subs)
		return
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not mention %q", what, err, s)
		}
	}
	if !strings.HasPrefix(err.Error(), "vgg19: ") {
		t.Errorf("%s: error %q lacks the package prefix", what, err)
	}
}

// chainNet builds a VGG-like chain with convs[b] 3x3 convs in block b (+ Relu, then MaxPool),
// zoo naming, for structures that are not VGG19 (VGG16: 2,2,3,3,3).
func chainNet(t *testing.T, convs []int) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	b := onnx.NewBuilder("chain", 9)
	b.Input("data", tensor.Float32, 1, 3, 32, 32)
	cur, c, k := "data", 3, 0
	for bl, n := range convs {
		cout := 4 * BlockWidth[min(bl, 4)]
		for range n {
			w := tensor.New(tensor.Float32, cout, c, 3, 3)
			for i := range w.F32() {
				w.F32()[i] = float32(rng.NormFloat64() * 0.1)
			}
			wn := fmt.Sprintf("vgg0_conv%d_weight", k)
			b.Initializer(wn, w)
			b.NamedNode(ZooConvName(k), "Conv", []string{cur, wn}, []string{ZooConvName(k)}, onnx.AttrInts("pads", 1, 1, 1, 1))
			b.NamedNode(ZooReluName(k), "Relu", []string{ZooConvName(k)}, []string{ZooReluName(k)})
			cur, c = ZooReluName(k), cout
			k++
		}
		b.NamedNode(ZooPoolName(bl), "MaxPool", []string{cur}, []string{ZooPoolName(bl)}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
		cur = ZooPoolName(bl)
	}
	b.Output(cur, tensor.Float32, -1, -1, -1, -1)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMissingLayers(t *testing.T) {
	m := tinyZoo(t, ZooOptions{})
	_, err := Extract(m, []string{"block1_conv1", "block6_conv1"}, Options{})
	wantErr(t, "a name VGG19 lacks", err, `"block6_conv1"`, "block1_conv1, block1_conv2, block1_pool", "block5_conv4, block5_pool")
	_, err = Extract(m, []string{"block1_conv1", "block1_conv1"}, Options{})
	wantErr(t, "a duplicate", err, "twice")
	_, err = Extract(m, []string{}, Options{})
	wantErr(t, "no layers", err, "no layers", "block5_pool")

	x, err := Extract(m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Extract(x, []string{"block5_conv3"}, Options{})
	wantErr(t, "a layer past an extractor's end", err, `"block5_conv3" is not in this model`, "stops at block5_conv2", "block4_pool, block5_conv1, block5_conv2")
}

func TestNotVGG19(t *testing.T) {
	// A small conv net: a 5x5 convolution first.
	b := onnx.NewBuilder("convnet", 13)
	b.Input("x", tensor.Float32, 1, 3, 32, 32)
	b.Initializer("w", tensor.New(tensor.Float32, 8, 3, 5, 5))
	b.Node("Conv", []string{"x", "w"}, []string{"y"}, onnx.AttrInts("pads", 2, 2, 2, 2))
	b.Node("Relu", []string{"y"}, []string{"z"})
	b.Output("z", tensor.Float32, 1, 8, 32, 32)
	conv5, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(conv5, Options{})
	wantErr(t, "a 5x5 conv net", err, "weight \"w\" has shape [8 3 5 5]", "not a VGG19")

	// An MLP.
	b = onnx.NewBuilder("mlp", 13)
	b.Input("x", tensor.Float32, 1, 784)
	b.Initializer("w", tensor.New(tensor.Float32, 784, 10))
	b.Node("MatMul", []string{"x", "w"}, []string{"y"})
	b.Output("y", tensor.Float32, 1, 10)
	mlp, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(mlp, Options{})
	wantErr(t, "an MLP", err, "rank 2", "not a VGG19")

	_, err = Analyze(chainNet(t, []int{2, 2, 3, 3, 3}), Options{})
	wantErr(t, "VGG16", err, "block3 has 3 convolutions", "VGG16")
	_, err = Analyze(chainNet(t, []int{2, 3}), Options{})
	wantErr(t, "3 convs in block 2", err, "block2 has more than 2 convolutions")
	_, err = Analyze(chainNet(t, []int{2, 2, 4}), Options{})
	wantErr(t, "a third-party VGG19 cut after block3", err, "ends after block3_pool", "21 feature layers")

	// VGG19-BN: a BatchNormalization between Conv and Relu.
	m := tinyZoo(t, ZooOptions{})
	g := m.GetGraph()
	relu := g.GetNode()[1]
	bn := &onnx.NodeProto{Name: proto.String("bn0"), OpType: proto.String("BatchNormalization"),
		Input: []string{ZooConvName(0), "s", "b", "m", "v"}, Output: []string{"bn0"}}
	relu.Input[0] = "bn0"
	g.Node = append([]*onnx.NodeProto{g.Node[0], bn}, g.Node[1:]...)
	_, err = Analyze(m, Options{})
	wantErr(t, "VGG19-BN", err, "want a Relu after it", "BatchNormalization")
}

// TestStructureMutations changes each feature node of a zoo model in ways that break
// VGG19's structure; Analyze must reject every one with an error (never panic).
func TestStructureMutations(t *testing.T) {
	base := tinyZoo(t, ZooOptions{})
	nFeature := 16*2 + 5
	mutations := map[string]func(n *onnx.NodeProto){
		"op Sigmoid":      func(n *onnx.NodeProto) { n.OpType = proto.String("Sigmoid") },
		"op AveragePool":  func(n *onnx.NodeProto) { n.OpType = proto.String("AveragePool") },
		"no attributes":   func(n *onnx.NodeProto) { n.Attribute = nil },
		"strides 3":       func(n *onnx.NodeProto) { setInts(n, "strides", 3, 3) },
		"pads 0":          func(n *onnx.NodeProto) { setInts(n, "pads", 0, 0, 0, 0) },
		"kernel 5x5":      func(n *onnx.NodeProto) { setInts(n, "kernel_shape", 5, 5) },
		"input renamed":   func(n *onnx.NodeProto) { n.Input[0] = "elsewhere" },
		"output dropped":  func(n *onnx.NodeProto) { n.Output = nil },
		"second consumer": nil, // below
	}
	for name, mutate := range mutations {
		for i := range nFeature {
			m := proto.Clone(base).(*onnx.ModelProto)
			n := m.GetGraph().GetNode()[i]
			if mutate == nil {
				extra := &onnx.NodeProto{Name: proto.String("tap"), OpType: proto.String("Identity"), Input: []string{n.GetOutput()[0]}, Output: []string{"tap"}}
				m.Graph.Node = append(m.Graph.Node, extra)
			} else {
				mutate(n)
			}
			if !applies(name, n) {
				continue
			}
			if _, err := Analyze(m, Options{}); err == nil {
				t.Errorf("%s on %s: accepted", name, onnx.NodeDesc(base.GetGraph().GetNode()[i]))
			} else if !strings.HasPrefix(err.Error(), "vgg19: ") {
				t.Errorf("%s: error %q lacks the package prefix", name, err)
			}
		}
	}
	// Weights of the wrong shape and a bias that is not an initializer.
	m := proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().GetInitializer()[2].Dims = []int64{4, 4, 1, 1}
	_, err := Analyze(m, Options{})
	wantErr(t, "a 1x1 weight", err, "vgg0_conv1_weight", "[4 4 1 1]")
	m = proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().GetNode()[0].Input[2] = ZooInput
	_, err = Analyze(m, Options{})
	wantErr(t, "a computed bias", err, "bias \"data\" is not an initializer")
	// Raw data that does not match the declared shape: Analyze reads no weights, Extract does.
	m = proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().GetInitializer()[0].RawData = m.GetGraph().GetInitializer()[0].RawData[:10]
	_, err = Extract(m, nil, Options{})
	wantErr(t, "truncated weights", err, "block1_conv1", "vgg0_conv0_weight")
}

// applies skips mutations that do not change the node's meaning (Relu has no attributes).
func applies(mutation string, n *onnx.NodeProto) bool {
	switch mutation {
	case "no attributes":
		return n.GetOpType() == "Conv" || n.GetOpType() == "MaxPool"
	case "strides 3", "kernel 5x5":
		return n.GetOpType() == "Conv" || n.GetOpType() == "MaxPool"
	case "pads 0":
		return n.GetOpType() == "Conv"
	case "second consumer": // the graph may branch after block5_pool (a head)
		return n.GetName() != ZooPoolName(4)
	}
	return true
}

func setInts(n *onnx.NodeProto, name string, v ...int64) {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			a.Ints = v
			return
		}
	}
	n.Attribute = append(n.Attribute, onnx.AttrInts(name, v...))
}

func TestBadInputs(t *testing.T) {
	base := tinyZoo(t, ZooOptions{})
	m := proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().Input = append(m.GetGraph().Input, proto.Clone(m.GetGraph().GetInput()[0]).(*onnx.ValueInfoProto))
	m.GetGraph().Input[len(m.GetGraph().Input)-1].Name = proto.String("mask")
	_, err := Analyze(m, Options{})
	wantErr(t, "two inputs", err, "2 inputs to feed (data, mask)")

	m = proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().GetInput()[0].GetType().GetTensorType().ElemType = proto.Int32(int32(tensor.Int64))
	_, err = Analyze(m, Options{})
	wantErr(t, "an int64 input", err, "not a float32")

	m = proto.Clone(base).(*onnx.ModelProto)
	m.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 4}
	_, err = Analyze(m, Options{})
	wantErr(t, "4 channels", err, "4 channels, want 3")

	_, err = Analyze(&onnx.ModelProto{}, Options{})
	wantErr(t, "no graph", err, "no graph")
}

func TestUnexpectedPreprocessing(t *testing.T) {
	base := tinyZoo(t, ZooOptions{})

	// A Sub of the mean before the first conv: not a layout gendl knows.
	m := proto.Clone(base).(*onnx.ModelProto)
	g := m.GetGraph()
	g.Initializer = append(g.Initializer, onnx.FromTensor("mean", tensor.FromFloat32([]float32{1, 2, 3}, 1, 3, 1, 1)))
	g.Node[0].Input[0] = "centred"
	g.Node = append([]*onnx.NodeProto{{Name: proto.String("sub"), OpType: proto.String("Sub"), Input: []string{ZooInput, "mean"}, Output: []string{"centred"}}}, g.Node...)
	_, err := Analyze(m, Options{})
	wantErr(t, "a Sub before the first conv", err, `node "sub" (Sub)`, "unexpected preprocessing")

	// Unknown names: the preprocessing cannot be told, unless given.
	m = proto.Clone(base).(*onnx.ModelProto)
	for _, tp := range m.GetGraph().GetInitializer() {
		if tp.GetName() == "vgg0_conv0_weight" {
			tp.Name = proto.String("w0")
		}
	}
	for _, vi := range m.GetGraph().GetInput() { // IR 3: initializers are listed as inputs too
		if vi.GetName() == "vgg0_conv0_weight" {
			vi.Name = proto.String("w0")
		}
	}
	m.GetGraph().GetNode()[0].Input[1] = "w0"
	_, err = Analyze(m, Options{})
	wantErr(t, "unknown names", err, "cannot tell which preprocessing", "torch", "caffe")
	l, err := Analyze(m, Options{Preprocessing: &Caffe})
	if err != nil || l.Network != Caffe || l.PreprocessingSource != "given" {
		t.Errorf("given preprocessing: %v, %v", l, err)
	}

	// Metadata: a custom preprocessing is read, a malformed one rejected.
	m.MetadataProps = []*onnx.StringStringEntryProto{{Key: proto.String(MetaPreprocessing), Value: proto.String("rgb range=255 mean=120,115,100 std=60,60,60")}}
	if l, err = Analyze(m, Options{}); err != nil || l.Network.Mean != [3]float32{120, 115, 100} || l.Network.Range != 255 {
		t.Errorf("metadata preprocessing: %+v, %v", l, err)
	}
	m.MetadataProps[0].Value = proto.String("rgb range=3")
	_, err = Analyze(m, Options{})
	wantErr(t, "a malformed metadata preprocessing", err, MetaPreprocessing, "range 3")

	// An extractor: its graph preprocesses; another preprocessing cannot be given, and
	// metadata that disagrees with the graph is rejected.
	x, err := Extract(base, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(x, Options{Preprocessing: &Torch})
	wantErr(t, "a preprocessing given for an extractor", err, "in the graph", "RGB in [0,255]")
	for _, kv := range x.GetMetadataProps() {
		if kv.GetKey() == MetaPreprocessing {
			kv.Value = proto.String(Caffe.String())
		}
	}
	_, err = Analyze(x, Options{})
	wantErr(t, "an extractor whose metadata disagrees", err, "3 nodes", "has 2")
}

func TestPreprocessing(t *testing.T) {
	for _, p := range Presets() {
		q, err := ParsePreprocessing(p.String())
		if err != nil || q != p {
			t.Errorf("round trip of %v: %v, %v", p, q, err)
		}
		if q, err := ParsePreprocessing(p.Name); err != nil || q != p {
			t.Errorf("preset %q: %v, %v", p.Name, q, err)
		}
	}
	for _, bad := range []string{"", "hsv range=1", "rgb", "rgb range=2", "rgb range=1 std=0,1,1", "rgb range=1 mean=1,2", "rgb range=1 gamma=2", "rgb range=1 range=1", "rgb range=x"} {
		if _, err := ParsePreprocessing(bad); err == nil {
			t.Errorf("ParsePreprocessing(%q) accepted", bad)
		}
	}
	if !None.IsIdentity() || Torch.IsIdentity() || Caffe.IsIdentity() {
		t.Error("IsIdentity")
	}
	// One pixel (R, G, B) = (255, 128, 0), by hand: torch channel c = (v/255 - mean)/std;
	// caffe channel 0 is blue: 0 - 103.939, channel 2 red: 255 - 123.68.
	img := tensor.FromFloat32([]float32{255, 128, 0}, 1, 3, 1, 1)
	for _, tc := range []struct {
		p    Preprocessing
		want [3]float64
	}{
		{Torch, [3]float64{(1 - 0.485) / 0.229, (128.0/255 - 0.456) / 0.224, (0 - 0.406) / 0.225}},
		{Caffe, [3]float64{-103.939, 128 - 116.779, 255 - 123.68}},
		{None, [3]float64{255, 128, 0}},
	} {
		out, err := tc.p.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		for c := range 3 {
			if d := float64(out.F32()[c]) - tc.want[c]; d > 1e-5 || d < -1e-5 {
				t.Errorf("%s channel %d: %v, want %v", tc.p.Name, c, out.F32()[c], tc.want[c])
			}
		}
	}
	if _, err := Torch.Apply(tensor.New(tensor.Float32, 1, 4, 2, 2)); err == nil {
		t.Error("Apply accepted 4 channels")
	}
}

// TestReadModelErrors feeds ReadModel files that are not models.
func TestReadModelErrors(t *testing.T) {
	dir := t.TempDir()
	data, err := onnx.Encode(tinyZoo(t, ZooOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"empty.onnx": nil, "truncated.onnx": data[:len(data)/2], "text.onnx": []byte("hello")} {
		path := dir + "/" + name
		if err := onnx.WriteFileAtomic(path, content); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(path, Options{}, nil)
		wantErr(t, name, err, path)
	}
}
