package vae

import (
	"fmt"

	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/runtime/tensor"
)

// Layer is one layer's weights and bias in ONNX layout.
type Layer struct {
	W *tensor.Tensor
	B *tensor.Tensor
}

// Params are a VAE's weights, float32, in ONNX layout.
type Params struct {
	Enc      []Layer // Conv: W [M, C, k, k], B [M]
	EncDense Layer   // W [flat, Hidden], B [Hidden]
	ZMean    Layer   // W [Hidden, latent], B [latent]
	ZLogVar  Layer   // W [Hidden, latent], B [latent]
	DecDense Layer   // W [latent, F·h·w], B [F·h·w]
	Dec      []Layer // ConvTranspose: W [C, M, k, k], B [M]
	Out      Layer   // ConvTranspose to the image channels: W [Filters[0], C, k, k], B [C]
}

// ParamShape names one parameter (its initializer name in the exported files) and gives its
// shape. Kind is "conv", "convT" or "dense" for weights, "bias" for biases.
type ParamShape struct {
	Name  string
	Shape []int
	Kind  string
	// Decoder tells which file holds it.
	Decoder bool
}

// Parameter kinds.
const (
	KindConv  = imagemodel.KindConv
	KindConvT = imagemodel.KindConvT
	KindDense = imagemodel.KindDense
	KindBias  = imagemodel.KindBias
)

// shared returns shapes without the file they belong to.
func shared(shapes []ParamShape) []imagemodel.ParamShape {
	out := make([]imagemodel.ParamShape, len(shapes))
	for i, s := range shapes {
		out[i] = imagemodel.ParamShape{Name: s.Name, Shape: s.Shape, Kind: s.Kind}
	}
	return out
}

// ParamShapes lists the parameters of c in Params.List order: the encoder's convolutions,
// dense, z_mean and z_log_var, then the decoder's dense, transposed convolutions and output
// layer; each layer's weight before its bias.
func (c Config) ParamShapes() []ParamShape {
	k, C := c.Kernel, c.ImageShape[0]
	F, h, w := c.Bottleneck()
	var ps []ParamShape
	add := func(name string, dec bool, kind string, ws, bs []int) {
		ps = append(ps, ParamShape{name + ".W", ws, kind, dec}, ParamShape{name + ".B", bs, KindBias, dec})
	}
	in := C
	for i, f := range c.Filters {
		add(fmt.Sprintf("enc.conv%d", i), false, KindConv, []int{f, in, k, k}, []int{f})
		in = f
	}
	add("enc.dense", false, KindDense, []int{F * h * w, c.Hidden}, []int{c.Hidden})
	add("enc.z_mean", false, KindDense, []int{c.Hidden, c.LatentDim}, []int{c.LatentDim})
	add("enc.z_log_var", false, KindDense, []int{c.Hidden, c.LatentDim}, []int{c.LatentDim})
	add("dec.dense", true, KindDense, []int{c.LatentDim, F * h * w}, []int{F * h * w})
	in = F
	for i := len(c.Filters) - 1; i >= 0; i-- {
		f := c.Filters[i]
		add(fmt.Sprintf("dec.convT%d", len(c.Filters)-1-i), true, KindConvT, []int{in, f, k, k}, []int{f})
		in = f
	}
	add("dec.out", true, KindConvT, []int{in, C, k, k}, []int{C})
	return ps
}

// NewParams returns zero parameters for c (the trainer initialises them).
func NewParams(c Config) (*Params, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return fromList(c, imagemodel.Zeros(shared(c.ParamShapes()))), nil
}

// fromList arranges tensors given in ParamShapes order.
func fromList(c Config, ts []*tensor.Tensor) *Params {
	p := &Params{}
	i := 0
	next := func() Layer {
		l := Layer{W: ts[i], B: ts[i+1]}
		i += 2
		return l
	}
	for range c.Filters {
		p.Enc = append(p.Enc, next())
	}
	p.EncDense, p.ZMean, p.ZLogVar, p.DecDense = next(), next(), next(), next()
	for range c.Filters {
		p.Dec = append(p.Dec, next())
	}
	p.Out = next()
	return p
}

// List returns the parameter tensors in ParamShapes order (aliasing p).
func (p *Params) List() []*tensor.Tensor {
	var out []*tensor.Tensor
	add := func(l Layer) { out = append(out, l.W, l.B) }
	for _, l := range p.Enc {
		add(l)
	}
	add(p.EncDense)
	add(p.ZMean)
	add(p.ZLogVar)
	add(p.DecDense)
	for _, l := range p.Dec {
		add(l)
	}
	add(p.Out)
	return out
}

// Validate checks that p has every tensor of c, float32, of the right shape.
func (p *Params) Validate(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if p == nil || len(p.Enc) != len(c.Filters) || len(p.Dec) != len(c.Filters) {
		return fmt.Errorf("vae: params do not have %d encoder and decoder convolutions", len(c.Filters))
	}
	return imagemodel.CheckParams(pkg, p.List(), shared(c.ParamShapes()))
}

// Clone returns a deep copy.
func (p *Params) Clone(c Config) *Params { return fromList(c, imagemodel.Clone(p.List())) }
