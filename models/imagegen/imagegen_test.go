package imagegen

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func load(t *testing.T, kind Kind, opt TinyOptions) *Model {
	t.Helper()
	m, err := Tiny(kind, opt)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := FromProto(m, "tiny "+string(kind), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func latent(n, l int, f func(i int) float32) *tensor.Tensor {
	z := tensor.New(tensor.Float32, n, l)
	for i := range z.F32() {
		z.F32()[i] = f(i)
	}
	return z
}

func init32(t *testing.T, m *onnx.ModelProto, name string) []float32 {
	for _, tp := range m.GetGraph().GetInitializer() {
		if tp.GetName() == name {
			x, err := onnx.ToTensor(tp, onnx.TensorOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return x.F32()
		}
	}
	t.Fatalf("no initializer %q", name)
	return nil
}

// TestGenerate checks a tiny decoder's output against the formula it implements,
// sigmoid(z W + b) reshaped to [N, C, H, W], computed here in float64.
func TestGenerate(t *testing.T) {
	for _, kind := range []Kind{VAEDecoder, DCGANGenerator} {
		m := load(t, kind, TinyOptions{LatentDim: 3, C: 1, H: 2, W: 3, Seed: 5})
		if m.Info.LatentDim != 3 || m.Info.ImageShape() != "1,2,3" || m.Info.Kind != kind {
			t.Fatalf("info %+v", m.Info)
		}
		s := m.NewSession(1)
		s.Batch = 3 // 7 points run as chunks of 3, 3, 1
		z := latent(7, 3, func(i int) float32 { return float32(i%5) - 2 })
		x, err := s.Generate(z)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(x.Shape, []int{7, 1, 2, 3}) {
			t.Fatalf("shape %v", x.Shape)
		}
		w, b := init32(t, m.Proto, "w"), init32(t, m.Proto, "b")
		for n := range 7 {
			for p := range 6 {
				h := float64(b[p])
				for l := range 3 {
					h += float64(z.F32()[n*3+l]) * float64(w[l*6+p])
				}
				want := 1 / (1 + math.Exp(-h))
				if kind == DCGANGenerator {
					want = math.Tanh(h)
				}
				// float32 Gemm and activation against float64: |d| <= 1e-5 + 1e-4|want|.
				if got := float64(x.F32()[n*6+p]); math.Abs(got-want) > 1e-5+1e-4*math.Abs(want) {
					t.Fatalf("%s: image %d pixel %d: got %v, want %v", kind, n, p, got, want)
				}
			}
		}
		imgs, err := s.Images(z)
		if err != nil || len(imgs) != 7 || imgs[0].Bounds().Dx() != 3 {
			t.Fatalf("Images: %v", err)
		}
		// The image maps the kind's range to 0..255.
		v := float64(x.F32()[0])
		if kind == DCGANGenerator {
			v = (v + 1) / 2
		}
		if r, _, _, _ := imgs[0].At(0, 0).RGBA(); math.Abs(float64(r>>8)-v*255) > 0.51 {
			t.Errorf("%s: pixel %d for value %v", kind, r>>8, x.F32()[0])
		}
	}
}

// TestFixedBatch runs a graph exported with batch size 2 on 5 points: chunks padded, same
// results as the symbolic-batch graph with the same weights.
func TestFixedBatch(t *testing.T) {
	free := load(t, VAEDecoder, TinyOptions{Seed: 9}).NewSession(1)
	fixed := load(t, VAEDecoder, TinyOptions{Seed: 9, BatchSize: 2}).NewSession(1)
	z := latent(5, 2, func(i int) float32 { return float32(i) / 4 })
	a, err := free.Generate(z)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fixed.Generate(z)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(a.Shape, b.Shape) {
		t.Fatalf("shapes %v %v", a.Shape, b.Shape)
	}
	for i := range a.F32() {
		if a.F32()[i] != b.F32()[i] {
			t.Fatalf("element %d: %v vs %v", i, a.F32()[i], b.F32()[i])
		}
	}
	empty, err := free.Generate(tensor.New(tensor.Float32, 0, 2))
	if err != nil || !tensor.SameShape(empty.Shape, []int{0, 1, 4, 4}) {
		t.Errorf("empty batch: %v %v", empty, err)
	}
}

func TestEncodeClassify(t *testing.T) {
	enc := load(t, VAEEncoder, TinyOptions{LatentDim: 4, Seed: 1}).NewSession(1)
	x := tensor.New(tensor.Float32, 3, 1, 4, 4)
	for i := range x.F32() {
		x.F32()[i] = float32(i%16) / 16
	}
	mean, logVar, err := enc.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(mean.Shape, []int{3, 4}) || !tensor.SameShape(logVar.Shape, []int{3, 4}) {
		t.Fatalf("shapes %v %v", mean.Shape, logVar.Shape)
	}
	// All three images are equal, so are their codes.
	for l := range 4 {
		if mean.F32()[l] != mean.F32()[8+l] {
			t.Errorf("equal images, different codes: %v", mean.F32())
		}
	}
	cls := load(t, Classifier, TinyOptions{Classes: 10, Features: 6, Seed: 2})
	if cls.Classes != 10 || cls.Features != 6 {
		t.Errorf("classes %d features %d", cls.Classes, cls.Features)
	}
	logits, feats, err := cls.NewSession(1).Classify(x)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(logits.Shape, []int{3, 10}) || !tensor.SameShape(feats.Shape, []int{3, 6}) {
		t.Fatalf("shapes %v %v", logits.Shape, feats.Shape)
	}
	for _, v := range feats.F32() {
		if v < 0 {
			t.Fatalf("features after Relu: %v", v)
		}
	}
	// A session of one kind refuses another kind's call.
	if _, err := enc.Generate(latent(1, 4, func(int) float32 { return 0 })); err == nil || !strings.Contains(err.Error(), "is a vae-encoder model, want a vae-decoder or dcgan-generator") {
		t.Errorf("Generate on an encoder: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	s := load(t, VAEDecoder, TinyOptions{}).NewSession(1)
	for _, c := range []struct {
		z    *tensor.Tensor
		want string
	}{
		{nil, `input "z": want float32 [N 2], got nil`},
		{tensor.New(tensor.Float32, 3, 5), `want float32 [N 2], got float32[3 5]`},
		{tensor.New(tensor.Float32, 3, 2, 1), `got float32[3 2 1]`},
		{tensor.New(tensor.Int64, 3, 2), `got int64[3 2]`},
		{latent(2, 2, func(i int) float32 { return float32(math.NaN()) }), `element 0 is NaN`},
	} {
		if _, err := s.Generate(c.z); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "imagegen: ") {
			t.Errorf("want an error containing %q, got %v", c.want, err)
		}
	}
	// A decoder whose weights overflow produces Inf: refused, with the input named.
	b := onnx.NewBuilder("bad", 17)
	b.InputDims(InputZ, tensor.Float32, onnx.Sym("N"), onnx.Fixed(2))
	b.Initializer("shape", tensor.FromInt64([]int64{-1, 1, 4, 4}, 4))
	b.Initializer("w", tensor.FromFloat32(make([]float32, 32), 2, 16))
	b.Node("MatMul", []string{InputZ, "w"}, []string{"h"})
	b.Node("Log", []string{"h"}, []string{"l"}) // log(0) = -Inf
	b.Node("Reshape", []string{"l", "shape"}, []string{OutputImage})
	b.OutputDims(OutputImage, tensor.Float32, onnx.Sym("N"), onnx.Fixed(1), onnx.Fixed(4), onnx.Fixed(4))
	Info{Kind: VAEDecoder, LatentDim: 2, C: 1, H: 4, W: 4}.Apply(b)
	bad, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := FromProto(bad, "inf", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.NewSession(1).Generate(latent(2, 2, func(int) float32 { return 1 })); err == nil || !strings.Contains(err.Error(), `output "image": element 0 of input 0 is -Inf`) {
		t.Errorf("Inf output: %v", err)
	}
	// An output that the file leaves unshaped but that disagrees with the metadata at run time.
	b = onnx.NewBuilder("loose", 17)
	b.InputDims(InputZ, tensor.Float32, onnx.Sym("N"), onnx.Fixed(2))
	b.Initializer("shape", tensor.FromInt64([]int64{-1, 1, 2, 1}, 4))
	b.Node("Reshape", []string{InputZ, "shape"}, []string{OutputImage})
	b.OutputAnyShape(OutputImage, tensor.Float32)
	Info{Kind: VAEDecoder, LatentDim: 2, C: 1, H: 4, W: 4}.Apply(b)
	loose, _ := b.Model()
	mod, err = FromProto(loose, "loose", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.NewSession(1).Generate(latent(1, 2, func(int) float32 { return 1 })); err == nil || !strings.Contains(err.Error(), `output "image" is float32[1 1 2 1] for 1 inputs, want float32 [N 1 4 4]`) {
		t.Errorf("run-time shape check: %v", err)
	}
}

// graph builds a decoder-like graph whose input z has the given dims (N symbolic first),
// Identity to the output, with the given metadata entries.
func graph(t *testing.T, in []onnx.Dim, out []onnx.Dim, meta [][2]string) *onnx.ModelProto {
	b := onnx.NewBuilder("g", 17)
	b.InputDims(InputZ, tensor.Float32, in...)
	b.Node("Identity", []string{InputZ}, []string{OutputImage})
	b.OutputDims(OutputImage, tensor.Float32, out...)
	for _, kv := range meta {
		b.Metadata(kv[0], kv[1])
	}
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestContractErrors(t *testing.T) {
	N, f := onnx.Sym("N"), func(n int64) onnx.Dim { return onnx.Fixed(n) }
	dec := [][2]string{{MetaModel, "vae-decoder"}, {MetaFormat, "1"}, {MetaLatentDim, "2"}, {MetaImageShape, "1,28,28"}}
	with := func(key, value string) [][2]string {
		var out [][2]string
		found := false
		for _, kv := range dec {
			if kv[0] == key {
				found = true
				if value == "" {
					continue
				}
				kv[1] = value
			}
			out = append(out, kv)
		}
		if !found {
			out = append(out, [2]string{key, value})
		}
		return out
	}
	img := []onnx.Dim{N, f(1), f(28), f(28)}
	lat := []onnx.Dim{N, f(2)}
	for _, c := range []struct {
		name string
		m    *onnx.ModelProto
		want string
	}{
		{"image input", graph(t, img, img, dec), `vae-decoder input "z" has shape [N 1 28 28]: want a latent vector [N 2] (gendl.latent_dim=2, gendl.image_shape="1,28,28")`},
		{"latent size", graph(t, []onnx.Dim{N, f(3)}, img, dec), `input "z" has shape [N 3]: want a latent vector [N 2]`},
		{"output size", graph(t, lat, []onnx.Dim{N, f(1), f(32), f(32)}, dec), `output "image" has shape [N 1 32 32]: want a batch of images [N 1 28 28]`},
		{"no metadata", graph(t, lat, img, nil), "model has no gendl.model metadata: not a gendl image model"},
		{"other kind", graph(t, lat, img, with(MetaModel, "char-lstm")), `model is a gendl "char-lstm", not an image model`},
		{"format", graph(t, lat, img, with(MetaFormat, "2")), "format version 2; this gendl reads up to version 1: upgrade gendl"},
		{"no format", graph(t, lat, img, with(MetaFormat, "")), `gendl.format metadata is "", want a format version >= 1`},
		{"no latent", graph(t, lat, img, with(MetaLatentDim, "")), "vae-decoder model has no gendl.latent_dim metadata"},
		{"latent text", graph(t, lat, img, with(MetaLatentDim, "two")), `gendl.latent_dim metadata "two" is not an integer`},
		{"latent zero", graph(t, lat, img, with(MetaLatentDim, "0")), "latent dimension 0: want 1 to 65536"},
		{"shape", graph(t, lat, img, with(MetaImageShape, "1,28")), `gendl.image_shape metadata "1,28": want C,H,W`},
		{"channels", graph(t, lat, img, with(MetaImageShape, "2,28,28")), "want 1 (grayscale) or 3 (RGB) channels"},
		{"config", graph(t, lat, img, with(MetaConfig, "{")), "gendl.config is not valid JSON"},
	} {
		_, err := FromProto(c.m, "m.onnx", engine.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "imagegen: m.onnx: ") {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	// An encoder graph labelled as a decoder: no input "z".
	e, _ := Tiny(VAEEncoder, TinyOptions{})
	SetMetadata(e, Info{Kind: VAEDecoder, LatentDim: 2, C: 1, H: 4, W: 4})
	if _, err := FromProto(e, "e", engine.Options{}); err == nil || !strings.Contains(err.Error(), `vae-decoder has no graph input "z" (a latent vector [N 2]); its inputs: image`) {
		t.Errorf("encoder as decoder: %v", err)
	}
	// Extra inputs, wrong dtype.
	b := onnx.NewBuilder("x", 17)
	b.InputDims(InputZ, tensor.Float32, lat...).InputDims("temperature", tensor.Float32)
	b.Node("Mul", []string{InputZ, "temperature"}, []string{OutputImage})
	b.OutputAnyShape(OutputImage, tensor.Float32)
	Info{Kind: DCGANGenerator, LatentDim: 2, C: 1, H: 4, W: 4}.Apply(b)
	x, _ := b.Model()
	if _, err := FromProto(x, "x", engine.Options{}); err == nil || !strings.Contains(err.Error(), `takes only the input "z", this graph has inputs z, temperature`) {
		t.Errorf("extra input: %v", err)
	}
	b = onnx.NewBuilder("x", 17)
	b.InputDims(InputZ, tensor.Int64, lat...)
	b.Node("Identity", []string{InputZ}, []string{OutputImage})
	b.OutputAnyShape(OutputImage, tensor.Int64)
	Info{Kind: DCGANGenerator, LatentDim: 2, C: 1, H: 4, W: 4}.Apply(b)
	x, _ = b.Model()
	if _, err := FromProto(x, "x", engine.Options{}); err == nil || !strings.Contains(err.Error(), `input "z" is int64, want float32`) {
		t.Errorf("int64 input: %v", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Decode([]byte("garbage"), "embedded"); err == nil || !strings.HasPrefix(err.Error(), "imagegen: embedded: ") {
		t.Errorf("garbage: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	info := Info{Kind: Classifier, C: 1, H: 28, W: 28, Dataset: "mnist", Classes: []string{"a", "b"}, Config: []byte(`{"epochs":3}`)}
	m, _ := Tiny(VAEDecoder, TinyOptions{})
	m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String("author"), Value: proto.String("me")})
	if err := SetMetadata(m, info); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInfo(m)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != Classifier || got.LatentDim != 0 || got.Dataset != "mnist" || len(got.Classes) != 2 || string(got.Config) != `{"epochs":3}` {
		t.Errorf("round trip: %+v", got)
	}
	keys := map[string]int{}
	for _, kv := range m.GetMetadataProps() {
		keys[kv.GetKey()]++
	}
	if keys["author"] != 1 || keys[MetaModel] != 1 || keys[MetaLatentDim] != 0 {
		t.Errorf("metadata keys %v", keys)
	}
	if err := (Info{Kind: Classifier, LatentDim: 2, C: 1, H: 1, W: 1}).Validate(); err == nil {
		t.Error("classifier with a latent dimension: no error")
	}
	// Files written to disk load back.
	p := filepath.Join(t.TempDir(), "g.onnx")
	if err := WriteTiny(p, DCGANGenerator, TinyOptions{LatentDim: 5, C: 3, H: 2, W: 2}); err != nil {
		t.Fatal(err)
	}
	g, err := LoadFile(p)
	if err != nil || g.Info.LatentDim != 5 || g.Info.C != 3 || g.Name != p {
		t.Errorf("LoadFile: %+v %v", g, err)
	}
}
