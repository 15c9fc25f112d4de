package dcgan

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func randomParams(shapes []ParamShape, seed uint64) Params {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := NewParams(shapes)
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
	want := map[string][]int{
		"gen.dense.W": {100, 3136}, "gen.dense.B": {3136}, "gen.convT0.W": {64, 64, 4, 4}, "gen.convT1.W": {64, 32, 4, 4},
		"gen.convT1.B": {32}, "gen.out.W": {1, 32, 5, 5}, "gen.out.B": {1},
		"disc.conv0.W": {32, 1, 4, 4}, "disc.conv1.W": {64, 32, 4, 4}, "disc.dense.W": {3136, 1}, "disc.dense.B": {1},
	}
	got := map[string][]int{}
	for _, s := range append(c.GenShapes(), c.DiscShapes()...) {
		got[s.Name] = s.Shape
	}
	for name, w := range want {
		if g := got[name]; tensor.ShapeString(g) != tensor.ShapeString(w) {
			t.Errorf("%s: %v, want %v", name, g, w)
		}
	}
	// generator 313600+3136 + 65536+64 + 32768+32 + 800+1; discriminator 512+32 + 32768+64 + 3136+1
	if g, d := c.Counts(); g != 415937 || d != 36513 {
		t.Errorf("counts %d %d, want 415937 36513", g, d)
	}
	for _, c := range []Config{RGB32Config(), Tiny()} {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
	if b, e := SamePads(14, 4, 2); b != 1 || e != 1 {
		t.Errorf("SamePads(14, 4, 2) = %d, %d, want 1, 1", b, e)
	}
	if b, e := SamePads(7, 4, 2); b != 1 || e != 2 { // out 4: (4-1)·2 + 4 - 7 = 3
		t.Errorf("SamePads(7, 4, 2) = %d, %d, want 1, 2", b, e)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.LatentDim = 0 }, "latent dim"},
		{func(c *Config) { c.ImageShape = [3]int{2, 28, 28} }, "1 or 3 channels"},
		{func(c *Config) { c.ImageShape = [3]int{1, 30, 30} }, "divisible by 2^2"},
		{func(c *Config) { c.Kernel = 5 }, "multiple of the stride"},
		{func(c *Config) { c.OutKernel = 0 }, "output kernel"},
		{func(c *Config) { c.Alpha = 1 }, "alpha"},
		{func(c *Config) { c.Dropout = -0.1 }, "dropout"},
		{func(c *Config) { c.DiscFilters = nil }, "discriminator layers"},
		{func(c *Config) { c.GenFilters = []int{0, 3} }, "each must be"},
		{func(c *Config) { c.LatentDim, c.GenBase = 1<<14, 4096 }, "too large"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
}

// Export writes a generator that follows the contract, runs in the runtime with outputs in
// [-1, 1] of the right shape, and loads back with the same configuration and parameters.
func TestExportLoadRoundTrip(t *testing.T) {
	for _, c := range []Config{Tiny(), DefaultConfig(), RGB32Config()} {
		p := randomParams(c.GenShapes(), 1)
		path := filepath.Join(t.TempDir(), "g.onnx")
		if err := ExportFile(path, c, p); err != nil {
			t.Fatal(err)
		}
		m, err := LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.LatentDim != c.LatentDim || m.Config.ImageShape != c.ImageShape || m.Config.GenBase != c.GenBase {
			t.Errorf("config %+v, want %+v", m.Config, c)
		}
		for i := range p {
			for j, v := range p[i].F32() {
				if m.Params[i].F32()[j] != v {
					t.Fatalf("parameter %s[%d] changed", c.GenShapes()[i].Name, j)
				}
			}
		}
		g, err := imagegen.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.Info.Kind != imagegen.DCGANGenerator || g.Info.LatentDim != c.LatentDim {
			t.Errorf("info %+v", g.Info)
		}
		z := tensor.New(tensor.Float32, 3, c.LatentDim)
		for i := range z.F32() {
			z.F32()[i] = float32(i%7) - 3
		}
		x, err := g.NewSession(1).Generate(z)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{3, c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]}; tensor.ShapeString(x.Shape) != tensor.ShapeString(want) {
			t.Errorf("image shape %v, want %v", x.Shape, want)
		}
		var spread float64
		for _, v := range x.F32() {
			if v < -1 || v > 1 || math.IsNaN(float64(v)) {
				t.Fatalf("pixel %v outside [-1, 1]", v)
			}
			spread = max(spread, math.Abs(float64(v)))
		}
		if spread < 0.1 {
			t.Errorf("all pixels within ±%v: the graph ignores its input", spread)
		}
	}
}

// A file whose metadata or initializers were tampered with is refused with a reason.
func TestLoadErrors(t *testing.T) {
	c := Tiny()
	good, err := Export(c, randomParams(c.GenShapes(), 2))
	if err != nil {
		t.Fatal(err)
	}
	setMeta := func(m *onnx.ModelProto, key, value string) {
		for _, kv := range m.MetadataProps {
			if kv.GetKey() == key {
				kv.Value = proto.String(value)
			}
		}
	}
	for _, tc := range []struct {
		edit func(*onnx.ModelProto)
		want string
	}{
		{func(m *onnx.ModelProto) { m.MetadataProps = nil }, "no gendl.model metadata"},
		{func(m *onnx.ModelProto) { setMeta(m, imagegen.MetaModel, "vae-decoder") }, "not a dcgan-generator"},
		{func(m *onnx.ModelProto) { setMeta(m, imagegen.MetaConfig, "{") }, "not valid JSON"},
		{func(m *onnx.ModelProto) { setMeta(m, imagegen.MetaConfig, `{"latent_dim":"x"}`) }, "not a valid config"},
		{func(m *onnx.ModelProto) { setMeta(m, imagegen.MetaConfig, `{"latent_dim":3}`) }, "in the gendl.config metadata"},
		{func(m *onnx.ModelProto) { setMeta(m, imagegen.MetaLatentDim, "4") }, "disagrees"},
		{func(m *onnx.ModelProto) { m.Graph.Initializer = m.Graph.Initializer[1:] }, `initializer "gen.dense.W" is missing`},
		{func(m *onnx.ModelProto) { m.Graph.Initializer[0].Dims = []int64{2, 2} }, "gen.dense.W"},
	} {
		m := proto.Clone(good).(*onnx.ModelProto)
		tc.edit(m)
		if _, err := Load(m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	if _, err := Export(c, randomParams(c.DiscShapes(), 1)); err == nil {
		t.Error("discriminator parameters exported as a generator: no error")
	}
	if _, err := engine.New(good, engine.Options{}); err != nil {
		t.Errorf("the good model does not plan: %v", err)
	}
}
