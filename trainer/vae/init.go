package vae

import (
	"math/rand/v2"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/trainer/layers"
)

// InitParams returns parameters for c initialised as Keras initialises its layers: weights
// Glorot-uniform (layers.Fans in ONNX layout), biases zero; drawn from rng in ParamShapes
// order.
func InitParams(c vae.Config, rng *rand.Rand) (*vae.Params, error) {
	p, err := vae.NewParams(c)
	if err != nil {
		return nil, err
	}
	shapes := c.ParamShapes()
	for i, t := range p.List() {
		if shapes[i].Kind == vae.KindBias {
			continue
		}
		in, out := layers.Fans(shapes[i].Shape)
		layers.GlorotUniform(t.F32(), in, out, rng)
	}
	return p, nil
}
