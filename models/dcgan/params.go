package dcgan

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Params are a generator's (or a discriminator's) weights, float32, in ONNX layout, in
// GenShapes (DiscShapes) order.
type Params []*tensor.Tensor

// NewParams returns zero parameters of the given shapes (the trainer initialises them).
func NewParams(shapes []ParamShape) Params {
	p := make(Params, len(shapes))
	for i, s := range shapes {
		p[i] = tensor.New(tensor.Float32, s.Shape...)
	}
	return p
}

// Validate checks that p has every tensor of shapes, float32, of the right shape.
func (p Params) Validate(shapes []ParamShape) error {
	if len(p) != len(shapes) {
		return fmt.Errorf("dcgan: %d parameter tensors, want %d", len(p), len(shapes))
	}
	for i, s := range shapes {
		if err := checkParam(s.Name, p[i], s.Shape); err != nil {
			return err
		}
	}
	return nil
}

func checkParam(name string, t *tensor.Tensor, shape []int) error {
	if t == nil {
		return fmt.Errorf("dcgan: parameter %s is missing", name)
	}
	if t.DType != tensor.Float32 {
		return fmt.Errorf("dcgan: parameter %s is %v, want float32", name, t.DType)
	}
	if !tensor.SameShape(t.Shape, shape) {
		return fmt.Errorf("dcgan: parameter %s has shape %s, want %s", name, tensor.ShapeString(t.Shape), tensor.ShapeString(shape))
	}
	if d, ok := t.Data.([]float32); !ok || len(d) != tensor.Numel(shape) {
		return fmt.Errorf("dcgan: parameter %s does not hold %d float32 values", name, tensor.Numel(shape))
	}
	return nil
}

// Slices returns the parameters' data (aliasing p).
func (p Params) Slices() [][]float32 {
	out := make([][]float32, len(p))
	for i, t := range p {
		out[i] = t.F32()
	}
	return out
}

// Clone returns a deep copy.
func (p Params) Clone() Params {
	out := make(Params, len(p))
	for i, t := range p {
		out[i] = t.Clone()
	}
	return out
}
