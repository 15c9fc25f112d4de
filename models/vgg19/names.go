package vgg19

import (
	"fmt"
	"strings"
)

// BlockConvs is the number of 3x3 convolutions in each of VGG19's five blocks (configuration
// E of Simonyan & Zisserman): 16 in all, each followed by a Relu; each block ends in a 2x2
// max-pool of stride 2.
var BlockConvs = [5]int{2, 2, 4, 4, 4}

// BlockWidth is each block's channel count in units of the first block's (64 in VGG19).
var BlockWidth = [5]int{1, 2, 4, 8, 8}

// StandardWidth is the channel count of VGG19's first block.
const StandardWidth = 64

// Kind tells a convolution layer from a pooling layer.
type Kind int

const (
	// Conv is a 3x3 convolution with its Relu: Keras' Conv2D(activation="relu") layer.
	Conv Kind = iota
	// Pool is a 2x2 max-pool of stride 2.
	Pool
)

func (k Kind) String() string {
	if k == Conv {
		return "conv"
	}
	return "pool"
}

// LayerSpec is one of VGG19's 21 feature layers as Keras names it.
type LayerSpec struct {
	Name  string // "block3_conv2", "block3_pool"
	Kind  Kind
	Block int // 1..5
	Index int // 1-based conv index within the block; 0 for a pool
	// Channels is the layer's output channel count in units of the first block's width.
	Channels int
}

// Layers lists VGG19's feature layers in network order: block1_conv1, block1_conv2,
// block1_pool, block2_conv1, ..., block5_conv4, block5_pool.
func Layers() []LayerSpec {
	var out []LayerSpec
	for b, n := range BlockConvs {
		for i := 1; i <= n; i++ {
			out = append(out, LayerSpec{Name: fmt.Sprintf("block%d_conv%d", b+1, i), Kind: Conv, Block: b + 1, Index: i, Channels: BlockWidth[b]})
		}
		out = append(out, LayerSpec{Name: fmt.Sprintf("block%d_pool", b+1), Kind: Pool, Block: b + 1, Channels: BlockWidth[b]})
	}
	return out
}

// LayerNames returns the Keras names of Layers, in network order.
func LayerNames() []string {
	ls := Layers()
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return names
}

// LayerIndex returns the position of a Keras layer name in Layers, or -1.
func LayerIndex(name string) int {
	for i, l := range Layers() {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// Layer sets of the book's neural style transfer (Chollet, Deep Learning with Python, 2nd
// ed., chapter 12): the content loss reads block5_conv2, the style loss the first conv of
// every block.
var (
	StyleLayers   = []string{"block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"}
	ContentLayers = []string{"block5_conv2"}
)

// DefaultLayers are the layers `gendl-train export vgg19` exports when none are asked for:
// StyleLayers then ContentLayers.
func DefaultLayers() []string {
	return append(append([]string{}, StyleLayers...), ContentLayers...)
}

// ParseLayers splits a comma-separated list of Keras layer names, trimming spaces; "" gives
// DefaultLayers. Names are checked against a model by Layout.Resolve.
func ParseLayers(list string) []string {
	if strings.TrimSpace(list) == "" {
		return DefaultLayers()
	}
	var out []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
