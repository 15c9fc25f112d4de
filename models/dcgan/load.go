package dcgan

import (
	"fmt"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/models/internal/imagemodel"
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
	return imagemodel.LoadFile(pkg, path, Load)
}

// Load reads the configuration of a decoded generator from its metadata (the contract's, and
// gendl.config), checks that they agree, and reads the parameters from the initializers.
func Load(m *onnx.ModelProto) (*Model, error) {
	var c Config
	info, err := imagemodel.ReadConfig(pkg, m, imagegen.DCGANGenerator, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in the %s metadata)", err, imagegen.MetaConfig)
	}
	if c.LatentDim != info.LatentDim || c.ImageShape != [3]int{info.C, info.H, info.W} {
		return nil, fmt.Errorf("dcgan: %s metadata (latent %d, image %s) disagrees with %s %d and %s %s",
			imagegen.MetaConfig, c.LatentDim, c.ImageShapeString(), imagegen.MetaLatentDim, info.LatentDim, imagegen.MetaImageShape, info.ImageShape())
	}
	p, err := imagemodel.ReadParams(pkg, c.GenShapes(), m)
	if err != nil {
		return nil, err
	}
	return &Model{Proto: m, Config: c, Params: p}, nil
}
