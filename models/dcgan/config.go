package dcgan

import (
	"encoding/json"
	"fmt"

	"github.com/gendl/gendl/models/internal/imagemodel"
)

// Config is a DCGAN's architecture and the dataset it was trained on.
type Config struct {
	// LatentDim is the size of the latent space.
	LatentDim int `json:"latent_dim"`
	// ImageShape is (channels, height, width).
	ImageShape [3]int `json:"image_shape"`
	// GenBase is the channels of the generator's first feature map, which its dense layer
	// fills at 1/2^len(GenFilters) of the image size.
	GenBase int `json:"gen_base"`
	// GenFilters are the generator's stride-2 transposed convolutions, each doubling the size.
	GenFilters []int `json:"gen_filters"`
	// DiscFilters are the discriminator's stride-2 convolutions.
	DiscFilters []int `json:"disc_filters"`
	// Kernel is the kernel size of every strided layer (divisible by the stride, 2).
	Kernel int `json:"kernel"`
	// OutKernel is the kernel size of the generator's last, stride-1 convolution.
	OutKernel int `json:"out_kernel"`
	// Alpha is the LeakyReLU slope for negative inputs.
	Alpha float64 `json:"leaky_alpha"`
	// Dropout is the discriminator's dropout rate before its dense layer (training only).
	Dropout float64 `json:"dropout"`
	// Dataset names the training data ("mnist", "fashion-mnist", a folder's name).
	Dataset string `json:"dataset,omitempty"`
	// Train holds the training settings and results (written by the trainer).
	Train json.RawMessage `json:"train,omitempty"`
}

// DefaultConfig is the DCGAN for 28x28 MNIST digits that the package documentation draws.
func DefaultConfig() Config {
	return Config{LatentDim: 100, ImageShape: [3]int{1, 28, 28}, GenBase: 64, GenFilters: []int{64, 32},
		DiscFilters: []int{32, 64}, Kernel: 4, OutKernel: 5, Alpha: 0.2, Dropout: 0.4, Dataset: "mnist"}
}

// RGB32Config is the same design for 32x32 RGB images (the book's CIFAR-10 frogs, image
// folders): a 4x4 base map.
func RGB32Config() Config {
	c := DefaultConfig()
	c.ImageShape = [3]int{3, 32, 32}
	c.GenBase, c.GenFilters, c.DiscFilters = 128, []int{128, 64, 32}, []int{32, 64, 128}
	c.Dataset = ""
	return c
}

// Tiny is a small configuration for tests: 8x8 grayscale images, latent 3.
func Tiny() Config {
	return Config{LatentDim: 3, ImageShape: [3]int{1, 8, 8}, GenBase: 3, GenFilters: []int{4, 2},
		DiscFilters: []int{2, 3}, Kernel: 4, OutKernel: 3, Alpha: 0.2, Dropout: 0.25, Dataset: "tiny"}
}

// limits against hostile metadata
const (
	maxDim     = imagemodel.MaxDim
	maxLayers  = imagemodel.MaxLayers
	maxFilters = imagemodel.MaxFilters
)

const pkg = "dcgan"

// Stride is the stride of every strided layer.
const Stride = 2

// Validate checks that the configuration describes a buildable model.
func (c Config) Validate() error {
	C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
	switch {
	case c.LatentDim < 1 || c.LatentDim > maxDim:
		return fmt.Errorf("dcgan: latent dim %d, want 1..%d", c.LatentDim, maxDim)
	case C != 1 && C != 3:
		return fmt.Errorf("dcgan: image shape %v, want 1 or 3 channels", c.ImageShape)
	case H < 1 || W < 1 || H > maxDim || W > maxDim:
		return fmt.Errorf("dcgan: image shape %v, want positive sizes up to %d", c.ImageShape, maxDim)
	case len(c.GenFilters) > maxLayers || len(c.DiscFilters) < 1 || len(c.DiscFilters) > maxLayers:
		return fmt.Errorf("dcgan: %d generator and %d discriminator layers, want 0..%d and 1..%d", len(c.GenFilters), len(c.DiscFilters), maxLayers, maxLayers)
	case c.Kernel < Stride || c.Kernel > 15 || c.Kernel%Stride != 0:
		return fmt.Errorf("dcgan: kernel %d, want a multiple of the stride %d up to 15 (the book: kernel sizes divisible by strides)", c.Kernel, Stride)
	case c.OutKernel < 1 || c.OutKernel > 15:
		return fmt.Errorf("dcgan: output kernel %d, want 1..15", c.OutKernel)
	case !(c.Alpha >= 0 && c.Alpha < 1):
		return fmt.Errorf("dcgan: LeakyReLU alpha %v, want 0 <= alpha < 1", c.Alpha)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("dcgan: dropout %v, want 0 <= rate < 1", c.Dropout)
	}
	for _, f := range append([]int{c.GenBase}, append(c.GenFilters, c.DiscFilters...)...) {
		if f < 1 || f > maxFilters {
			return fmt.Errorf("dcgan: filters (base %d, generator %v, discriminator %v): each must be 1..%d", c.GenBase, c.GenFilters, c.DiscFilters, maxFilters)
		}
	}
	s := 1 << len(c.GenFilters)
	if H%s != 0 || W%s != 0 {
		return fmt.Errorf("dcgan: image %dx%d: height and width must be divisible by 2^%d = %d (one doubling per generator layer)", H, W, len(c.GenFilters), s)
	}
	if int64(c.GenBase)*int64(H/s)*int64(W/s)*int64(c.LatentDim) > 1<<28 {
		return fmt.Errorf("dcgan: the generator's dense layer is too large")
	}
	return nil
}

// Base returns the generator's first feature map shape (GenBase, h, w).
func (c Config) Base() (f, h, w int) {
	s := 1 << len(c.GenFilters)
	return c.GenBase, c.ImageShape[1] / s, c.ImageShape[2] / s
}

// DiscMaps returns the spatial size after each discriminator convolution ("same", stride 2:
// ceil(size/2)).
func (c Config) DiscMaps() [][2]int {
	return imagemodel.HalvedMaps(c.ImageShape[1], c.ImageShape[2], len(c.DiscFilters))
}

// DiscFlat is the size of the discriminator's flattened last feature map.
func (c Config) DiscFlat() int {
	return imagemodel.Flat(c.ImageShape[1], c.ImageShape[2], len(c.DiscFilters), c.DiscFilters[len(c.DiscFilters)-1])
}

// ImageShapeString is the gendl.image_shape metadata value, "C,H,W".
func (c Config) ImageShapeString() string { return imagemodel.ShapeString(c.ImageShape) }

// SamePads returns the ONNX pads (top, left, bottom, right) of a Keras "same" convolution of
// kernel k and stride s on an input of size in (per axis), and, for s dividing in, of its
// transpose: the padding (out-1)·s + k - in split with the odd pixel at the end.
func SamePads(in, k, s int) (begin, end int) { return imagemodel.SamePads(in, k, s) }

// Parameter kinds.
const (
	KindConv  = imagemodel.KindConv
	KindConvT = imagemodel.KindConvT
	KindDense = imagemodel.KindDense
	KindBias  = imagemodel.KindBias
)

// ParamShape names one parameter (its initializer name in the exported file) and gives its
// shape and kind (KindConv, KindConvT, KindDense for weights; KindBias).
type ParamShape = imagemodel.ParamShape

var pair = imagemodel.Pair

// GenShapes lists the generator's parameters in order: dense, transposed convolutions,
// output convolution.
func (c Config) GenShapes() []ParamShape {
	F, h, w := c.Base()
	var ps []ParamShape
	ps = append(ps, pair("gen.dense", KindDense, []int{c.LatentDim, F * h * w}, []int{F * h * w})...)
	in, k := F, c.Kernel
	for i, f := range c.GenFilters {
		ps = append(ps, pair(fmt.Sprintf("gen.convT%d", i), KindConvT, []int{in, f, k, k}, []int{f})...)
		in = f
	}
	ok := c.OutKernel
	return append(ps, pair("gen.out", KindConv, []int{c.ImageShape[0], in, ok, ok}, []int{c.ImageShape[0]})...)
}

// DiscShapes lists the discriminator's parameters in order: convolutions, dense.
func (c Config) DiscShapes() []ParamShape {
	var ps []ParamShape
	in, k := c.ImageShape[0], c.Kernel
	for i, f := range c.DiscFilters {
		ps = append(ps, pair(fmt.Sprintf("disc.conv%d", i), KindConv, []int{f, in, k, k}, []int{f})...)
		in = f
	}
	return append(ps, pair("disc.dense", KindDense, []int{c.DiscFlat(), 1}, []int{1})...)
}

// Counts returns the number of generator and discriminator parameters.
func (c Config) Counts() (gen, disc int) {
	return imagemodel.Count(c.GenShapes()), imagemodel.Count(c.DiscShapes())
}
