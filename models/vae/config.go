package vae

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gendl/gendl/models/internal/imagemodel"
)

// Config is a VAE's architecture and the dataset it was trained on.
type Config struct {
	// LatentDim is the size of the latent space (the book: 2).
	LatentDim int `json:"latent_dim"`
	// Filters are the encoder's convolutions, each stride 2 (the decoder's transposed
	// convolutions mirror them).
	Filters []int `json:"filters"`
	// Kernel is every convolution's kernel size.
	Kernel int `json:"kernel"`
	// Hidden is the encoder's dense layer before z_mean and z_log_var.
	Hidden int `json:"hidden"`
	// ImageShape is (channels, height, width).
	ImageShape [3]int `json:"image_shape"`
	// Dataset names the training data ("mnist", "fashion-mnist", a folder's name).
	Dataset string `json:"dataset,omitempty"`
	// Train holds the training settings and results (written by the trainer).
	Train json.RawMessage `json:"train,omitempty"`
}

// DefaultConfig is keras-io's convolutional VAE on MNIST with a 2-D latent space.
func DefaultConfig() Config {
	return Config{LatentDim: 2, Filters: []int{32, 64}, Kernel: 3, Hidden: 16, ImageShape: [3]int{1, 28, 28}, Dataset: "mnist"}
}

// Tiny is a small configuration for tests: 8x8 images, two convolutions of 2 and 3 filters.
func Tiny() Config {
	return Config{LatentDim: 2, Filters: []int{2, 3}, Kernel: 3, Hidden: 4, ImageShape: [3]int{1, 8, 8}, Dataset: "tiny"}
}

// limits against hostile metadata
const (
	maxDim     = imagemodel.MaxDim
	maxLayers  = imagemodel.MaxLayers
	maxFilters = imagemodel.MaxFilters
)

const pkg = "vae"

// Validate checks that the configuration describes a buildable model.
func (c Config) Validate() error {
	C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
	switch {
	case c.LatentDim < 1 || c.LatentDim > maxDim:
		return fmt.Errorf("vae: latent dim %d, want 1..%d", c.LatentDim, maxDim)
	case len(c.Filters) < 1 || len(c.Filters) > maxLayers:
		return fmt.Errorf("vae: %d convolutions, want 1..%d", len(c.Filters), maxLayers)
	case c.Kernel < 1 || c.Kernel > 15:
		return fmt.Errorf("vae: kernel %d, want 1..15", c.Kernel)
	case c.Hidden < 1 || c.Hidden > maxDim:
		return fmt.Errorf("vae: hidden %d, want 1..%d", c.Hidden, maxDim)
	case C < 1 || C > 4 || H < 1 || W < 1 || H > maxDim || W > maxDim:
		return fmt.Errorf("vae: image shape %v, want 1 to 4 channels and positive sizes", c.ImageShape)
	}
	for _, f := range c.Filters {
		if f < 1 || f > maxFilters {
			return fmt.Errorf("vae: filters %v: each must be 1..%d", c.Filters, maxFilters)
		}
	}
	s := 1 << len(c.Filters)
	if H%s != 0 || W%s != 0 {
		return fmt.Errorf("vae: image %dx%d: height and width must be divisible by 2^%d = %d (one halving per convolution)", H, W, len(c.Filters), s)
	}
	if int64(c.Filters[len(c.Filters)-1])*int64(H/s)*int64(W/s) > maxDim*maxDim {
		return fmt.Errorf("vae: the encoder's flattened size is too large")
	}
	return nil
}

// Bottleneck returns the shape (filters, height, width) of the last encoder convolution's
// output, which the decoder's dense layer reshapes to.
func (c Config) Bottleneck() (f, h, w int) {
	s := 1 << len(c.Filters)
	return c.Filters[len(c.Filters)-1], c.ImageShape[1] / s, c.ImageShape[2] / s
}

// ImageShapeString is the gendl.image_shape metadata value, "C,H,W".
func (c Config) ImageShapeString() string { return imagemodel.ShapeString(c.ImageShape) }

// ParseImageShape parses "C,H,W".
func ParseImageShape(s string) ([3]int, error) {
	parts := strings.Split(s, ",")
	var out [3]int
	if len(parts) != 3 {
		return out, fmt.Errorf("vae: image shape %q, want C,H,W", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return out, fmt.Errorf("vae: image shape %q, want three positive integers C,H,W", s)
		}
		out[i] = v
	}
	return out, nil
}

// Pads returns the ONNX pads (top, left, bottom, right) of a Keras "same" stride-s
// convolution with this kernel on an input that s divides, and of its transpose.
func (c Config) Pads(stride int) [4]int64 {
	total := int64(max(c.Kernel-stride, 0))
	return [4]int64{total / 2, total / 2, total - total/2, total - total/2}
}

// OutputPadding is the ConvTranspose output_padding that makes a stride-s "same" transpose
// give exactly s times its input (nonzero only when the kernel is smaller than the stride).
func (c Config) OutputPadding(stride int) int64 { return int64(max(stride-c.Kernel, 0)) }
