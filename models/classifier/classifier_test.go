package classifier

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

func randomParams(c Config, seed uint64) Params {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := NewParams(c)
	for _, t := range p {
		for i := range t.F32() {
			t.F32()[i] = float32(rng.NormFloat64() * 0.2)
		}
	}
	return p
}

func TestShapes(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range c.ParamShapes() {
		got = append(got, s.Name+tensor.ShapeString(s.Shape))
	}
	want := "conv0.W[32 1 5 5] conv0.B[32] conv1.W[64 32 5 5] conv1.B[64] hidden.W[3136 128] hidden.B[128] out.W[128 10] out.B[10]"
	if strings.Join(got, " ") != want {
		t.Errorf("shapes %s, want %s", strings.Join(got, " "), want)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.ImageShape[0] = 2 }, "channels"},
		{func(c *Config) { c.Filters = nil }, "convolutions"},
		{func(c *Config) { c.Classes = c.Classes[:1] }, "1 classes"},
		{func(c *Config) { c.Dropout = 1 }, "dropout"},
		{func(c *Config) { c.Kernel = 0 }, "kernel"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
}

// Export follows the contract (imagegen loads and runs it: logits [N, 10], features [N, 128])
// and Load reads back the configuration and the parameters.
func TestExportLoadRoundTrip(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), Tiny()} {
		p := randomParams(c, 1)
		path := filepath.Join(t.TempDir(), "clf.onnx")
		if err := ExportFile(path, c, p); err != nil {
			t.Fatal(err)
		}
		m, err := onnx.DecodeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Load(m)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(back.Config.Classes, ",") != strings.Join(c.Classes, ",") || back.Config.Hidden != c.Hidden {
			t.Errorf("config %+v, want %+v", back.Config, c)
		}
		for i := range p {
			for j, v := range p[i].F32() {
				if back.Params[i].F32()[j] != v {
					t.Fatalf("parameter %d[%d] changed", i, j)
				}
			}
		}
		g, err := imagegen.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.Classes != len(c.Classes) || g.Features != c.Hidden {
			t.Errorf("contract sizes: %d classes, %d features", g.Classes, g.Features)
		}
		x := tensor.New(tensor.Float32, 2, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2])
		for i := range x.F32() {
			x.F32()[i] = float32(i%5) / 4
		}
		lg, ft, err := g.NewSession(1).Classify(x)
		if err != nil {
			t.Fatal(err)
		}
		if lg.Shape[1] != len(c.Classes) || ft.Shape[1] != c.Hidden {
			t.Errorf("outputs %v %v", lg.Shape, ft.Shape)
		}
		for _, v := range ft.F32() {
			if v < 0 {
				t.Fatalf("feature %v < 0 after ReLU", v)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	c := Tiny()
	good, err := Export(c, randomParams(c, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*onnx.ModelProto)
		want string
	}{
		{func(m *onnx.ModelProto) { m.MetadataProps = nil }, "no gendl.model metadata"},
		{func(m *onnx.ModelProto) { m.Graph.Initializer = m.Graph.Initializer[:2] }, `initializer "conv1.W" is missing`},
		{func(m *onnx.ModelProto) {
			for _, kv := range m.MetadataProps {
				if kv.GetKey() == imagegen.MetaConfig {
					kv.Value = proto.String(`{"image_shape":[1,8,8],"filters":[2],"kernel":3,"hidden":5,"classes":["a"]}`)
				}
			}
		}, "1 classes"},
	} {
		m := proto.Clone(good).(*onnx.ModelProto)
		tc.edit(m)
		if _, err := Load(m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
}
