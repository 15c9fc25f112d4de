package classifier

import (
	"encoding/json"
	"fmt"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Config is a classifier's architecture and the dataset it was trained on.
type Config struct {
	// ImageShape is (channels, height, width).
	ImageShape [3]int `json:"image_shape"`
	// Filters are the stride-2 convolutions.
	Filters []int `json:"filters"`
	// Kernel is every convolution's kernel size.
	Kernel int `json:"kernel"`
	// Hidden is the size of the dense layer whose output is the features.
	Hidden int `json:"hidden"`
	// Classes are the class names, in logit order.
	Classes []string `json:"classes"`
	// Dropout is the rate of the dropout before the last layer (training only).
	Dropout float64 `json:"dropout"`
	// Dataset names the training data.
	Dataset string `json:"dataset,omitempty"`
	// Train holds the training settings and results (written by the trainer).
	Train json.RawMessage `json:"train,omitempty"`
}

// Digits are MNIST's class names.
var Digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// DefaultConfig is the MNIST classifier that the package documentation draws.
func DefaultConfig() Config {
	return Config{ImageShape: [3]int{1, 28, 28}, Filters: []int{32, 64}, Kernel: 5, Hidden: 128,
		Classes: Digits, Dropout: 0.5, Dataset: "mnist"}
}

// Tiny is a small configuration for tests: 8x8 images, 3 classes.
func Tiny() Config {
	return Config{ImageShape: [3]int{1, 8, 8}, Filters: []int{2, 3}, Kernel: 3, Hidden: 5,
		Classes: []string{"a", "b", "c"}, Dropout: 0.25, Dataset: "tiny"}
}

// Stride of every convolution.
const Stride = 2

// Validate checks that the configuration describes a buildable model.
func (c Config) Validate() error {
	C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
	switch {
	case C != 1 && C != 3:
		return fmt.Errorf("classifier: image shape %v, want 1 or 3 channels", c.ImageShape)
	case H < 1 || W < 1 || H > 1<<14 || W > 1<<14:
		return fmt.Errorf("classifier: image shape %v, want positive sizes", c.ImageShape)
	case len(c.Filters) < 1 || len(c.Filters) > 8:
		return fmt.Errorf("classifier: %d convolutions, want 1..8", len(c.Filters))
	case c.Kernel < 1 || c.Kernel > 15:
		return fmt.Errorf("classifier: kernel %d, want 1..15", c.Kernel)
	case c.Hidden < 1 || c.Hidden > 1<<14:
		return fmt.Errorf("classifier: hidden %d, want 1..16384", c.Hidden)
	case len(c.Classes) < 2 || len(c.Classes) > 1<<12:
		return fmt.Errorf("classifier: %d classes, want 2..4096", len(c.Classes))
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("classifier: dropout %v, want 0 <= rate < 1", c.Dropout)
	}
	for _, f := range c.Filters {
		if f < 1 || f > 4096 {
			return fmt.Errorf("classifier: filters %v: each must be 1..4096", c.Filters)
		}
	}
	if int64(c.Flat())*int64(c.Hidden) > 1<<28 {
		return fmt.Errorf("classifier: the dense layer is too large")
	}
	return nil
}

// Maps returns the spatial size after each convolution ("same", stride 2: ceil(size/2)).
func (c Config) Maps() [][2]int {
	return imagemodel.HalvedMaps(c.ImageShape[1], c.ImageShape[2], len(c.Filters))
}

// Flat is the size of the flattened last feature map.
func (c Config) Flat() int {
	return imagemodel.Flat(c.ImageShape[1], c.ImageShape[2], len(c.Filters), c.Filters[len(c.Filters)-1])
}

// SamePads returns the pads (begin, end) of a Keras "same" convolution of kernel k and
// stride s on an axis of size in.
func SamePads(in, k, s int) (begin, end int) { return imagemodel.SamePads(in, k, s) }

// Parameter kinds.
const (
	KindConv  = imagemodel.KindConv
	KindDense = imagemodel.KindDense
	KindBias  = imagemodel.KindBias
)

// ParamShape names one parameter (its initializer name) and gives its shape and kind.
type ParamShape = imagemodel.ParamShape

// ParamShapes lists the parameters in Params order: the convolutions, the hidden dense
// layer, the output layer; each weight before its bias.
func (c Config) ParamShapes() []ParamShape {
	var ps []ParamShape
	in, k := c.ImageShape[0], c.Kernel
	for i, f := range c.Filters {
		ps = append(ps, imagemodel.Pair(fmt.Sprintf("conv%d", i), KindConv, []int{f, in, k, k}, []int{f})...)
		in = f
	}
	ps = append(ps, imagemodel.Pair("hidden", KindDense, []int{c.Flat(), c.Hidden}, []int{c.Hidden})...)
	return append(ps, imagemodel.Pair("out", KindDense, []int{c.Hidden, len(c.Classes)}, []int{len(c.Classes)})...)
}

// Params are a classifier's weights, float32, ONNX layout, in ParamShapes order.
type Params []*tensor.Tensor

// NewParams returns zero parameters for c.
func NewParams(c Config) Params { return imagemodel.Zeros(c.ParamShapes()) }

// Validate checks p against c's shapes.
func (p Params) Validate(c Config) error { return imagemodel.CheckParams(pkg, p, c.ParamShapes()) }

const pkg = "classifier"

// Opset is the default-domain opset of exported files.
const Opset = 17

// Info returns the contract metadata of c.
func (c Config) Info() (imagegen.Info, error) {
	return imagemodel.Info(pkg, imagegen.Info{Kind: imagegen.Classifier, C: c.ImageShape[0], H: c.ImageShape[1], W: c.ImageShape[2],
		Dataset: c.Dataset, Classes: c.Classes}, c)
}

// Export builds c's ONNX model with params p (copied).
func Export(c Config, p Params) (*onnx.ModelProto, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(c); err != nil {
		return nil, err
	}
	info, err := c.Info()
	if err != nil {
		return nil, err
	}
	b := onnx.NewBuilder("classifier", Opset)
	b.Doc(fmt.Sprintf("gendl image classifier: image [N, %d, %d, %d] in [0, 1] -> logits [N, %d], features [N, %d]",
		c.ImageShape[0], c.ImageShape[1], c.ImageShape[2], len(c.Classes), c.Hidden))
	if err := info.Apply(b); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	N := onnx.Sym("N")
	C, H, W := int64(c.ImageShape[0]), int64(c.ImageShape[1]), int64(c.ImageShape[2])
	b.InputDims(imagegen.InputImage, tensor.Float32, N, onnx.Fixed(C), onnx.Fixed(H), onnx.Fixed(W))
	for i, s := range c.ParamShapes() {
		b.Initializer(s.Name, p[i])
	}
	x := imagegen.InputImage
	h, w := c.ImageShape[1], c.ImageShape[2]
	k := int64(c.Kernel)
	for i := range c.Filters {
		name := fmt.Sprintf("conv%d", i)
		tb, te := SamePads(h, c.Kernel, Stride)
		lb, le := SamePads(w, c.Kernel, Stride)
		b.NamedNode(name, "Conv", []string{x, name + ".W", name + ".B"}, []string{name + ".y"},
			onnx.AttrInts("kernel_shape", k, k), onnx.AttrInts("strides", Stride, Stride),
			onnx.AttrInts("pads", int64(tb), int64(lb), int64(te), int64(le)))
		b.NamedNode(name+".relu", "Relu", []string{name + ".y"}, []string{name + ".a"})
		x = name + ".a" // [N, Filters[i], ceil(h/2), ceil(w/2)]
		h, w = (h+1)/2, (w+1)/2
	}
	b.NamedNode("flatten", "Flatten", []string{x}, []string{"flat"}, onnx.AttrInt("axis", 1))
	b.NamedNode("hidden", "Gemm", []string{"flat", "hidden.W", "hidden.B"}, []string{"hidden.y"})
	b.NamedNode("hidden.relu", "Relu", []string{"hidden.y"}, []string{imagegen.OutputFeatures})
	b.NamedNode("out", "Gemm", []string{imagegen.OutputFeatures, "out.W", "out.B"}, []string{imagegen.OutputLogits})
	b.OutputDims(imagegen.OutputLogits, tensor.Float32, N, onnx.Fixed(int64(len(c.Classes))))
	b.OutputDims(imagegen.OutputFeatures, tensor.Float32, N, onnx.Fixed(int64(c.Hidden)))
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("classifier: export: %w", err)
	}
	return m, nil
}

// ExportFile exports the classifier and writes it to path atomically.
func ExportFile(path string, c Config, p Params) error {
	m, err := Export(c, p)
	if err != nil {
		return err
	}
	return imagemodel.EncodeFile(pkg, path, m)
}

// Model is an exported classifier read back.
type Model struct {
	Proto  *onnx.ModelProto
	Config Config
	Params Params
}

// Load reads a decoded classifier's configuration (gendl.config, checked against the
// contract's metadata) and parameters.
func Load(m *onnx.ModelProto) (*Model, error) {
	var c Config
	info, err := imagemodel.ReadConfig(pkg, m, imagegen.Classifier, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in the %s metadata)", err, imagegen.MetaConfig)
	}
	if c.ImageShape != [3]int{info.C, info.H, info.W} {
		return nil, fmt.Errorf("classifier: %s metadata image %v disagrees with %s %s", imagegen.MetaConfig, c.ImageShape, imagegen.MetaImageShape, info.ImageShape())
	}
	p, err := imagemodel.ReadParams(pkg, c.ParamShapes(), m)
	if err != nil {
		return nil, err
	}
	return &Model{Proto: m, Config: c, Params: p}, nil
}
