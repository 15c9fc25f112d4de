package vae

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/onnx"
)

// Model is an exported encoder or decoder read back: the decoded file, its kind
// (EncoderModel or DecoderModel) and its configuration. Proto plans directly (engine.New).
type Model struct {
	Proto  *onnx.ModelProto
	Kind   string
	Config Config
}

// LoadFile reads the file at path (see Load).
func LoadFile(path string) (*Model, error) {
	return imagemodel.LoadFile(pkg, path, Load)
}

// Load reads the kind and configuration of a decoded model from its metadata and checks that
// the graph declares the inputs and outputs of the contract with the configuration's sizes.
func Load(m *onnx.ModelProto) (*Model, error) {
	md := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		md[kv.GetKey()] = kv.GetValue()
	}
	kind := md[MetaModel]
	if kind != EncoderModel && kind != DecoderModel {
		if kind == "" {
			return nil, fmt.Errorf("vae: model has no %s metadata: not a gendl VAE encoder or decoder", MetaModel)
		}
		return nil, fmt.Errorf("vae: model is a %q (%s), not %q or %q", kind, MetaModel, EncoderModel, DecoderModel)
	}
	f, err := strconv.Atoi(md[MetaFormat])
	if err != nil || f < 1 {
		return nil, fmt.Errorf("vae: %s metadata is %q, want a format version >= 1", MetaFormat, md[MetaFormat])
	}
	if f > FormatVersion {
		return nil, fmt.Errorf("vae: model has format version %d; this gendl reads up to version %d: upgrade gendl", f, FormatVersion)
	}
	cj, ok := md[MetaConfig]
	if !ok {
		return nil, fmt.Errorf("vae: model has no %s metadata", MetaConfig)
	}
	var c Config
	if err := json.NewDecoder(bytes.NewReader([]byte(cj))).Decode(&c); err != nil {
		return nil, fmt.Errorf("vae: %s metadata is not a valid config: %w", MetaConfig, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in the %s metadata)", err, MetaConfig)
	}
	if ld := md[MetaLatentDim]; ld != strconv.Itoa(c.LatentDim) {
		return nil, fmt.Errorf("vae: %s metadata %q disagrees with the config's latent_dim %d", MetaLatentDim, ld, c.LatentDim)
	}
	if is := md[MetaImage]; is != c.ImageShapeString() {
		return nil, fmt.Errorf("vae: %s metadata %q disagrees with the config's image_shape %s", MetaImage, is, c.ImageShapeString())
	}
	if err := checkGraph(m, kind, c); err != nil {
		return nil, err
	}
	return &Model{Proto: m, Kind: kind, Config: c}, nil
}

// checkGraph checks the declared graph inputs and outputs against the contract.
func checkGraph(m *onnx.ModelProto, kind string, c Config) error {
	g := m.GetGraph()
	if g == nil {
		return fmt.Errorf("vae: model has no graph")
	}
	image := []int64{-1, int64(c.ImageShape[0]), int64(c.ImageShape[1]), int64(c.ImageShape[2])}
	latent := []int64{-1, int64(c.LatentDim)}
	type want struct {
		name string
		dims []int64 // -1: any
	}
	var ins, outs []want
	if kind == EncoderModel {
		ins = []want{{ImageName, image}}
		outs = []want{{ZMeanName, latent}, {ZLogVarName, latent}}
	} else {
		ins = []want{{ZName, latent}}
		outs = []want{{ImageName, image}}
	}
	check := func(what string, vis []*onnx.ValueInfoProto, w want) error {
		var vi *onnx.ValueInfoProto
		for _, v := range vis {
			if v.GetName() == w.name {
				vi = v
			}
		}
		if vi == nil {
			return fmt.Errorf("vae: %s has no %s %q", kind, what, w.name)
		}
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.GetElemType() != int32(onnx.TensorProto_FLOAT) {
			return fmt.Errorf("vae: %s %s %q is not a float32 tensor", kind, what, w.name)
		}
		dims := tt.GetShape().GetDim()
		if len(dims) != len(w.dims) {
			return fmt.Errorf("vae: %s %s %q has %d dimensions, want %d", kind, what, w.name, len(dims), len(w.dims))
		}
		for i, d := range dims {
			if w.dims[i] >= 0 && d.GetDimParam() == "" && d.GetDimValue() != w.dims[i] {
				return fmt.Errorf("vae: %s %s %q dimension %d is %d, want %d", kind, what, w.name, i, d.GetDimValue(), w.dims[i])
			}
		}
		return nil
	}
	for _, w := range ins {
		if err := check("input", g.GetInput(), w); err != nil {
			return err
		}
	}
	for _, w := range outs {
		if err := check("output", g.GetOutput(), w); err != nil {
			return err
		}
	}
	return nil
}

// ParamsFromModels reads the parameters back from an exported encoder and decoder of the
// same configuration.
func ParamsFromModels(enc, dec *Model) (*Params, error) {
	if enc.Kind != EncoderModel || dec.Kind != DecoderModel {
		return nil, fmt.Errorf("vae: want an encoder and a decoder, got %q and %q", enc.Kind, dec.Kind)
	}
	c := dec.Config
	ts, err := imagemodel.ReadParams(pkg, shared(c.ParamShapes()), enc.Proto, dec.Proto)
	if err != nil {
		return nil, err
	}
	return fromList(c, ts), nil
}
