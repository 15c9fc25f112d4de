package dcgan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
)

// Model is an exported generator read back: the decoded file, its configuration and its
// parameters (GenShapes order).
type Model struct {
	Proto  *onnx.ModelProto
	Config Config
	Params Params
}

// LoadFile reads the generator at path (see Load).
func LoadFile(path string) (*Model, error) {
	m, err := onnx.DecodeFile(path)
	if err != nil {
		return nil, fmt.Errorf("dcgan: %w", err)
	}
	mm, err := Load(m)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return mm, nil
}

// Load reads the configuration of a decoded generator from its metadata (the contract's, and
// gendl.config), checks that they agree, and reads the parameters from the initializers.
func Load(m *onnx.ModelProto) (*Model, error) {
	info, err := imagegen.ReadInfo(m)
	if err != nil {
		return nil, fmt.Errorf("dcgan: %s", strings.TrimPrefix(err.Error(), "imagegen: "))
	}
	if info.Kind != imagegen.DCGANGenerator {
		return nil, fmt.Errorf("dcgan: model is a %s, not a %s", info.Kind, imagegen.DCGANGenerator)
	}
	if len(info.Config) == 0 {
		return nil, fmt.Errorf("dcgan: model has no %s metadata", imagegen.MetaConfig)
	}
	var c Config
	if err := json.NewDecoder(bytes.NewReader(info.Config)).Decode(&c); err != nil {
		return nil, fmt.Errorf("dcgan: %s metadata is not a valid config: %w", imagegen.MetaConfig, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in the %s metadata)", err, imagegen.MetaConfig)
	}
	if c.LatentDim != info.LatentDim || c.ImageShape != [3]int{info.C, info.H, info.W} {
		return nil, fmt.Errorf("dcgan: %s metadata (latent %d, image %s) disagrees with %s %d and %s %s",
			imagegen.MetaConfig, c.LatentDim, c.ImageShapeString(), imagegen.MetaLatentDim, info.LatentDim, imagegen.MetaImageShape, info.ImageShape())
	}
	inits := map[string]*onnx.TensorProto{}
	for _, tp := range m.GetGraph().GetInitializer() {
		inits[tp.GetName()] = tp
	}
	var p Params
	for _, s := range c.GenShapes() {
		tp, ok := inits[s.Name]
		if !ok {
			return nil, fmt.Errorf("dcgan: initializer %q is missing", s.Name)
		}
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{})
		if err != nil {
			return nil, fmt.Errorf("dcgan: initializer %q: %w", s.Name, err)
		}
		if err := checkParam(s.Name, t, s.Shape); err != nil {
			return nil, err
		}
		p = append(p, t)
	}
	return &Model{Proto: m, Config: c, Params: p}, nil
}
