package vgg19

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// The feature extractor Extract writes.
const (
	// InputName is its input: float32 [N, 3, H, W], RGB in [0, 255], N, H and W symbolic.
	InputName = "image"
	// ModelName is its gendl.model metadata value; FormatVersion its gendl.format.
	ModelName     = "vgg19-features"
	FormatVersion = 1
	// MinOpset is the lowest opset Extract writes: opset 9 goes with IR version 4, the first
	// that lets initializers stay out of graph.input.
	MinOpset = 9
	// MaxOpset is the highest opset the onnx Builder writes.
	MaxOpset = 24
)

// Metadata keys of the feature extractor.
const (
	MetaModel         = "gendl.model"
	MetaFormat        = "gendl.format"
	MetaLayers        = "gendl.vgg19.layers"        // the outputs, comma-separated Keras names
	MetaInput         = "gendl.vgg19.input"         // what InputName takes, in words
	MetaPreprocessing = "gendl.vgg19.preprocessing" // Preprocessing.String of what the graph applies
	MetaWidth         = "gendl.vgg19.width"         // block 1's channels (64)
	MetaSource        = "gendl.vgg19.source"        // where the weights came from
)

// preprocessing node names in an extractor.
const (
	preBGR   = "preprocess/bgr"   // Conv 1x1 that swaps R and B (exact: weights 0 and 1)
	preScale = "preprocess/scale" // Mul by Range/(255*Std), [1,3,1,1]
	preShift = "preprocess/shift" // Add -Mean/Std, [1,3,1,1]
)

// preprocessingNodes is how many nodes Extract writes for p.
func preprocessingNodes(p Preprocessing) int {
	switch {
	case p.IsIdentity():
		return 0
	case p.BGR:
		return 3
	}
	return 2
}

// Extract writes a VGG19 feature extractor from m (any layout Analyze recognises): only the
// nodes up to the deepest of layers, each of layers a graph output named by its Keras name
// (in the order given; nil means DefaultLayers). Every feature layer up to the deepest is a
// value named by its Keras name, so a session can also read the layers not exported.
//
//	input   "image"  float32 [N, 3, H, W], RGB in [0, 255] (H, W >= 2^blocks used)
//	preprocess/bgr   Conv 1x1, channel swap (BGR networks only)
//	preprocess/scale Mul  [1,3,1,1] Range/(255*Std)
//	preprocess/shift Add  [1,3,1,1] -Mean/Std      (omitted when the network takes [0,255] RGB)
//	blockB_convI/Conv (kernel "blockB_convI/kernel", bias "blockB_convI/bias") -> "blockB_convI/preact"
//	blockB_convI/Relu -> "blockB_convI"
//	blockB_pool/MaxPool -> "blockB_pool"
//
// Weights are initializers not listed as graph inputs; the opset is the source's, raised to
// MinOpset (every op written means the same from opset 7 to 24) and capped at MaxOpset.
// metadata_props: gendl.model, gendl.format, and the gendl.vgg19.* keys (Meta*).
func Extract(m *onnx.ModelProto, layers []string, opts Options) (*onnx.ModelProto, error) {
	l, err := Analyze(m, opts)
	if err != nil {
		return nil, err
	}
	return l.Extract(layers, opts)
}

// Resolve checks a list of Keras layer names against the layout (nil means DefaultLayers) and
// returns it without duplicates, and the index in Layers of the deepest.
func (l *Layout) Resolve(layers []string) ([]string, int, error) {
	if layers == nil {
		layers = DefaultLayers()
	}
	if len(layers) == 0 {
		return nil, 0, fmt.Errorf("vgg19: no layers asked for; available: %s", strings.Join(l.Names(), ", "))
	}
	deepest := -1
	seen := map[string]bool{}
	for _, name := range layers {
		if seen[name] {
			return nil, 0, fmt.Errorf("vgg19: layer %q asked for twice", name)
		}
		seen[name] = true
		if _, err := l.Find(name); err != nil {
			return nil, 0, err
		}
		deepest = max(deepest, LayerIndex(name))
	}
	return layers, deepest, nil
}

// Extract writes the feature extractor for the analysed model (see the function Extract).
// opts.BaseDir and opts.Limits govern reading the weights.
func (l *Layout) Extract(layers []string, opts Options) (*onnx.ModelProto, error) {
	layers, deepest, err := l.Resolve(layers)
	if err != nil {
		return nil, err
	}
	opset := min(max(l.Opset, MinOpset), MaxOpset)
	b := onnx.NewBuilder("vgg19_features", opset)
	b.InputDims(InputName, tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Sym("H"), onnx.Sym("W"))

	cur := InputName
	p := l.Network
	if !p.IsIdentity() {
		scale, bias := p.Affine()
		if p.BGR {
			w := tensor.New(tensor.Float32, 3, 3, 1, 1)
			for c := range 3 {
				w.F32()[c*3+(2-c)] = 1
			}
			b.Initializer(preBGR+"/kernel", w)
			b.NamedNode(preBGR, "Conv", []string{cur, preBGR + "/kernel"}, []string{preBGR},
				onnx.AttrInts("kernel_shape", 1, 1))
			cur = preBGR
		}
		b.Initializer(preScale+"/value", tensor.FromFloat32(scale[:], 1, 3, 1, 1))
		b.NamedNode(preScale, "Mul", []string{cur, preScale + "/value"}, []string{preScale})
		b.Initializer(preShift+"/value", tensor.FromFloat32(bias[:], 1, 3, 1, 1))
		b.NamedNode(preShift, "Add", []string{preScale, preShift + "/value"}, []string{preShift})
		cur = preShift
	}

	topts := onnx.TensorOptions{BaseDir: opts.BaseDir, Limits: opts.Limits}
	channels := map[string]int{}
	for _, ly := range l.Layers[:deepest+1] {
		channels[ly.Name] = ly.Out
		if ly.Kind == Pool {
			b.NamedNode(ly.Name+"/MaxPool", "MaxPool", []string{cur}, []string{ly.Name},
				onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 0, 0, 0, 0))
			cur = ly.Name
			continue
		}
		w, err := l.weight(ly.Weight, []int{ly.Out, ly.In, 3, 3}, topts)
		if err != nil {
			return nil, fmt.Errorf("vgg19: %s: %w", ly.Name, err)
		}
		in := []string{cur, ly.Name + "/kernel"}
		b.Initializer(ly.Name+"/kernel", w)
		if ly.Bias != "" {
			bias, err := l.weight(ly.Bias, []int{ly.Out}, topts)
			if err != nil {
				return nil, fmt.Errorf("vgg19: %s: %w", ly.Name, err)
			}
			b.Initializer(ly.Name+"/bias", bias)
			in = append(in, ly.Name+"/bias")
		}
		b.NamedNode(ly.Name+"/Conv", "Conv", in, []string{ly.Name + "/preact"},
			onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1), onnx.AttrInts("strides", 1, 1))
		b.NamedNode(ly.Name+"/Relu", "Relu", []string{ly.Name + "/preact"}, []string{ly.Name})
		cur = ly.Name
	}
	for _, name := range layers {
		b.OutputDims(name, tensor.Float32, onnx.Sym("N"), onnx.Fixed(int64(channels[name])), onnx.UnknownDim, onnx.UnknownDim)
	}

	src := l.Exporter
	if g := l.model.GetGraph(); g.GetName() != "" {
		src += fmt.Sprintf(", graph %q", g.GetName())
	}
	if pn := l.model.GetProducerName(); pn != "" {
		src += strings.TrimSpace(fmt.Sprintf(", producer %s %s", pn, l.model.GetProducerVersion()))
	}
	if l.Exporter == ExporterGendl {
		if s := Metadata(l.model)[MetaSource]; s != "" {
			src = s
		}
	}
	b.Metadata(MetaModel, ModelName).
		Metadata(MetaFormat, strconv.Itoa(FormatVersion)).
		Metadata(MetaLayers, strings.Join(layers, ",")).
		Metadata(MetaInput, InputName+": float32 [N,3,H,W], RGB in [0,255]").
		Metadata(MetaPreprocessing, p.String()).
		Metadata(MetaWidth, strconv.Itoa(l.Width)).
		Metadata(MetaSource, src)
	b.Doc("VGG19 feature extractor written by gendl: Keras layer names as outputs; feed \"image\", RGB in [0,255], NCHW; " +
		"the graph applies the network's preprocessing (" + p.Describe() + ").")
	out, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("vgg19: %w", err)
	}
	return out, nil
}

// weight reads initializer name as a float32 tensor of the given shape (same element count;
// a bias [1,C,1,1] becomes [C]).
func (l *Layout) weight(name string, shape []int, topts onnx.TensorOptions) (*tensor.Tensor, error) {
	tp := l.inits[name]
	if tp == nil {
		return nil, fmt.Errorf("initializer %q is missing", name)
	}
	t, err := onnx.ToTensor(tp, topts)
	if err != nil {
		return nil, err
	}
	if t.DType != tensor.Float32 {
		return nil, fmt.Errorf("initializer %q is %v, want float32 (or float16)", name, t.DType)
	}
	if t.Len() != tensor.Numel(shape) {
		return nil, fmt.Errorf("initializer %q has shape %v, want %v", name, t.Shape, shape)
	}
	t.Shape = append([]int{}, shape...)
	return t, nil
}
