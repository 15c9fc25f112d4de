package charlstm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Model is an exported char-LSTM read back: its decoded file, its configuration and its
// vocabulary. Proto plans directly (engine.New).
type Model struct {
	Proto  *onnx.ModelProto
	Config Config
	Vocab  *Vocab
}

// LoadFile reads the model at path (see Load).
func LoadFile(path string) (*Model, error) {
	m, err := onnx.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	mm, err := Load(m)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return mm, nil
}

// Load reads the configuration of a decoded model from its metadata and checks that the
// graph declares the inputs and outputs the configuration implies (names, and the fixed
// dimensions V and H), so that a sampler may rely on them.
func Load(m *onnx.ModelProto) (*Model, error) {
	cfg, err := ConfigFromModel(m)
	if err != nil {
		return nil, err
	}
	if err := checkGraph(m, cfg); err != nil {
		return nil, err
	}
	v, err := cfg.Vocab()
	if err != nil {
		return nil, err
	}
	return &Model{Proto: m, Config: cfg, Vocab: v}, nil
}

// Metadata returns the model's metadata_props as a map (a repeated key keeps its last value).
func Metadata(m *onnx.ModelProto) map[string]string {
	md := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		md[kv.GetKey()] = kv.GetValue()
	}
	return md
}

// ConfigFromModel decodes and validates the "gendl.config" metadata of m, after checking
// "gendl.model" and "gendl.format".
func ConfigFromModel(m *onnx.ModelProto) (Config, error) {
	md := Metadata(m)
	cj, ok := md[MetaConfig]
	if !ok {
		return Config{}, fmt.Errorf("charlstm: model has no %s metadata: not a gendl char-LSTM", MetaConfig)
	}
	if kind := md[MetaModel]; kind != ModelName {
		if kind == "" {
			return Config{}, fmt.Errorf("charlstm: model has no %s metadata: not a gendl char-LSTM", MetaModel)
		}
		return Config{}, fmt.Errorf("charlstm: model is a gendl %q model, not a char-LSTM (%s = %q)", kind, MetaModel, kind)
	}
	f, err := strconv.Atoi(md[MetaFormat])
	if err != nil || f < 1 {
		return Config{}, fmt.Errorf("charlstm: %s metadata is %q, want a format version >= 1", MetaFormat, md[MetaFormat])
	}
	if f > FormatVersion {
		return Config{}, fmt.Errorf("charlstm: model has format version %d; this gendl reads up to version %d: upgrade gendl", f, FormatVersion)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader([]byte(cj)))
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("charlstm: %s metadata is not a valid config: %w", MetaConfig, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%w (in the %s metadata)", err, MetaConfig)
	}
	return cfg, nil
}

// checkGraph checks the declared graph inputs and outputs against cfg.
func checkGraph(m *onnx.ModelProto, cfg Config) error {
	g := m.GetGraph()
	if g == nil {
		return fmt.Errorf("charlstm: model has no graph")
	}
	V, H := int64(cfg.VocabSize()), int64(cfg.Hidden)
	inputs := map[string]*onnx.ValueInfoProto{}
	for _, vi := range g.GetInput() {
		inputs[vi.GetName()] = vi
	}
	outputs := map[string]*onnx.ValueInfoProto{}
	for _, vi := range g.GetOutput() {
		outputs[vi.GetName()] = vi
	}
	type want struct {
		name string
		last int64 // the last dimension: V or H
	}
	ins := []want{{InputName, V}}
	outs := []want{{ProbsName, V}}
	for l := range cfg.Layers {
		ins = append(ins, want{H0Name(l), H}, want{C0Name(l), H})
		outs = append(outs, want{HName(l), H}, want{CName(l), H})
	}
	check := func(kind string, set map[string]*onnx.ValueInfoProto, w want) error {
		vi, ok := set[w.name]
		if !ok {
			return fmt.Errorf("charlstm: the graph has no %s %q, which a %d-layer char-LSTM has", kind, w.name, cfg.Layers)
		}
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.GetElemType() != int32(tensor.Float32) {
			return fmt.Errorf("charlstm: graph %s %q is not a float32 tensor", kind, w.name)
		}
		dims := tt.GetShape().GetDim()
		if tt.GetShape() == nil {
			return nil
		}
		if len(dims) != 3 {
			return fmt.Errorf("charlstm: graph %s %q has rank %d, want 3", kind, w.name, len(dims))
		}
		if d, ok := dims[2].GetValue().(*onnx.TensorShapeProto_Dimension_DimValue); ok && d.DimValue != w.last {
			return fmt.Errorf("charlstm: graph %s %q has last dimension %d, but the config implies %d", kind, w.name, d.DimValue, w.last)
		}
		return nil
	}
	for _, w := range ins {
		if err := check("input", inputs, w); err != nil {
			return err
		}
	}
	for _, w := range outs {
		if err := check("output", outputs, w); err != nil {
			return err
		}
	}
	return nil
}

// ParamsFromModel reads the weights of an exported model back (the head transposed back to
// [V, H]) and validates them against cfg.
func ParamsFromModel(m *onnx.ModelProto, cfg Config) (*Params, error) {
	inits := map[string]*onnx.TensorProto{}
	for _, tp := range m.GetGraph().GetInitializer() {
		inits[tp.GetName()] = tp
	}
	get := func(name string) (*tensor.Tensor, error) {
		tp, ok := inits[name]
		if !ok {
			return nil, fmt.Errorf("charlstm: the model has no initializer %q", name)
		}
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{})
		if err != nil {
			return nil, fmt.Errorf("charlstm: %w", err)
		}
		return t, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Params{}
	for l := range cfg.Layers {
		var ly Layer
		var err error
		if ly.W, err = get(wName(l)); err != nil {
			return nil, err
		}
		if ly.R, err = get(rName(l)); err != nil {
			return nil, err
		}
		if ly.B, err = get(bName(l)); err != nil {
			return nil, err
		}
		p.Layers = append(p.Layers, ly)
	}
	wt, err := get(headWtName)
	if err != nil {
		return nil, err
	}
	V, H := cfg.VocabSize(), cfg.Hidden
	if err := checkParam("head Wt", wt, []int{H, V}); err != nil {
		return nil, err
	}
	p.HeadW = tensor.New(tensor.Float32, V, H)
	src, dst := wt.F32(), p.HeadW.F32()
	for h := range H {
		for v := range V {
			dst[v*H+h] = src[h*V+v]
		}
	}
	if p.HeadB, err = get(headBName); err != nil {
		return nil, err
	}
	if err := p.Validate(cfg); err != nil {
		return nil, err
	}
	return p, nil
}
