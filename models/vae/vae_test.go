package vae

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func randomParams(t *testing.T, c Config) *Params {
	t.Helper()
	p, err := NewParams(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ts := range p.List() {
		for i := range ts.F32() {
			ts.F32()[i] = float32(rng.NormFloat64() * 0.2)
		}
	}
	return p
}

func TestParamShapesKeras(t *testing.T) {
	// keras-io's conv VAE with latent 2 has 69,076 encoder and 65,089 decoder parameters
	// (its model.summary()).
	var enc, dec int
	for _, s := range DefaultConfig().ParamShapes() {
		if s.Decoder {
			dec += tensor.Numel(s.Shape)
		} else {
			enc += tensor.Numel(s.Shape)
		}
	}
	if enc != 69076 || dec != 65089 {
		t.Errorf("parameters: encoder %d, decoder %d; keras-io's summary gives 69076 and 65089", enc, dec)
	}
}

func TestExportRoundTrip(t *testing.T) {
	for _, c := range []Config{Tiny(), DefaultConfig()} {
		p := randomParams(t, c)
		dir := t.TempDir()
		ep, dp := filepath.Join(dir, EncoderFile), filepath.Join(dir, DecoderFile)
		if err := ExportFiles(ep, dp, c, p); err != nil {
			t.Fatal(err)
		}
		enc, err := LoadFile(ep)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := LoadFile(dp)
		if err != nil {
			t.Fatal(err)
		}
		if enc.Kind != EncoderModel || dec.Kind != DecoderModel || dec.Config.LatentDim != c.LatentDim || !slices.Equal(dec.Config.Filters, c.Filters) {
			t.Fatalf("loaded %s/%s with config %+v, want %+v", enc.Kind, dec.Kind, dec.Config, c)
		}
		back, err := ParamsFromModels(enc, dec)
		if err != nil {
			t.Fatal(err)
		}
		for i, ts := range back.List() {
			if !slices.Equal(ts.F32(), p.List()[i].F32()) {
				t.Errorf("parameter %s changed in the round trip", c.ParamShapes()[i].Name)
			}
		}
		// the image-generator contract accepts both files, and the decoder's images are in [0, 1]
		for _, path := range []string{ep, dp} {
			if _, err := imagegen.LoadFile(path); err != nil {
				t.Errorf("imagegen rejects %s: %v", filepath.Base(path), err)
			}
		}
		plan, err := engine.New(dec.Proto, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		z := tensor.New(tensor.Float32, 3, c.LatentDim)
		for i := range z.F32() {
			z.F32()[i] = float32(i%5) - 2
		}
		out, err := plan.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{ZName: z})
		if err != nil {
			t.Fatal(err)
		}
		img := out[ImageName]
		if want := []int{3, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]}; !slices.Equal(img.Shape, want) {
			t.Fatalf("decoder image shape %v, want %v", img.Shape, want)
		}
		for _, v := range img.F32() {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("decoder image value %g outside [0, 1]", v)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"latent 0", func(c *Config) { c.LatentDim = 0 }, "latent dim"},
		{"no filters", func(c *Config) { c.Filters = nil }, "convolutions"},
		{"odd image", func(c *Config) { c.ImageShape = [3]int{1, 30, 28} }, "divisible"},
		{"5 channels", func(c *Config) { c.ImageShape = [3]int{5, 28, 28} }, "channels"},
		{"zero filter", func(c *Config) { c.Filters = []int{32, 0} }, "filters"},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vae: ") {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// Files that break the contract: each is an error naming what is wrong, never a panic.
func TestLoadBadModels(t *testing.T) {
	c := Tiny()
	enc, dec, err := Export(c, randomParams(t, c))
	if err != nil {
		t.Fatal(err)
	}
	setMeta := func(m *onnx.ModelProto, key, value string) *onnx.ModelProto {
		m = clone(t, m)
		for _, kv := range m.GetMetadataProps() {
			if kv.GetKey() == key {
				kv.Value = &value
			}
		}
		return m
	}
	for _, c := range []struct {
		name string
		m    *onnx.ModelProto
		want string
	}{
		{"no kind", setMeta(dec, MetaModel, ""), "no gendl.model"},
		{"a GAN", setMeta(dec, MetaModel, "dcgan-generator"), "not"},
		{"future format", setMeta(dec, MetaFormat, "9"), "upgrade"},
		{"bad config", setMeta(dec, MetaConfig, "{"), "not a valid config"},
		{"latent mismatch", setMeta(dec, MetaLatentDim, "3"), "disagrees"},
		{"shape mismatch", setMeta(dec, MetaImage, "1,16,16"), "disagrees"},
		{"decoder input not a latent vector", func() *onnx.ModelProto {
			m := clone(t, dec)
			d := m.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()
			v := int64(7)
			d[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: v}
			return m
		}(), "dimension 1 is 7, want 2"},
		{"encoder without z_log_var", func() *onnx.ModelProto {
			m := clone(t, enc)
			m.GetGraph().Output = m.GetGraph().GetOutput()[:1]
			return m
		}(), `no output "z_log_var"`},
	} {
		_, err := Load(c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// a missing initializer
	e, _ := Load(enc)
	d := clone(t, dec)
	d.GetGraph().Initializer = d.GetGraph().GetInitializer()[1:]
	dm, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParamsFromModels(e, dm); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing initializer: error %v", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "none.onnx")); err == nil {
		t.Error("missing file: no error")
	}
}

func clone(t *testing.T, m *onnx.ModelProto) *onnx.ModelProto {
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := onnx.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
