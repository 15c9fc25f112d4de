package dcgan

import (
	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/runtime/tensor"
)

// Params are a generator's (or a discriminator's) weights, float32, in ONNX layout, in
// GenShapes (DiscShapes) order.
type Params []*tensor.Tensor

// NewParams returns zero parameters of the given shapes (the trainer initialises them).
func NewParams(shapes []ParamShape) Params { return imagemodel.Zeros(shapes) }

// Validate checks that p has every tensor of shapes, float32, of the right shape.
func (p Params) Validate(shapes []ParamShape) error { return imagemodel.CheckParams(pkg, p, shapes) }

// Slices returns the parameters' data (aliasing p).
func (p Params) Slices() [][]float32 { return imagemodel.Slices(p) }

// Clone returns a deep copy.
func (p Params) Clone() Params { return imagemodel.Clone(p) }
