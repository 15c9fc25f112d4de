package style

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Kind is the family of a feature network.
type Kind string

// The network kinds.
const (
	// VGG19 is a VGG19 that models/vgg19 recognises (the ONNX model zoo's vgg19-7.onnx, a
	// feature extractor from `gendl-train export vgg19`, ...): layers by Keras name,
	// preprocessing applied in the graph.
	VGG19 Kind = "vgg19"
	// Generic is any other ONNX network with one image input: layers by value name (a
	// TF.js model converted by `gendl-train import tfjs` names them as Keras does).
	Generic Kind = "generic"
)

// Default layers. VGG19's are the book's (Chollet, Deep Learning with Python, section 8.3):
// content block5_conv2, style block1_conv1 ... block5_conv1.
//
// InceptionV3's (Keras names, as `gendl-train import tfjs` keeps them) follow the same plan,
// shallow to deep, one style layer per resolution: the Relu outputs of the stem's first
// convolution (activation_1, 1/2 of the image, 32 channels), of its third (activation_3, 1/2,
// 64) and of its fifth (activation_5, 1/4, 192), then the Inception blocks mixed0 (1/8, 256)
// and mixed3 (1/16, 768); the content layer is mixed2 (1/8, 288), the deepest block before
// the grid shrinks to 1/16 — VGG's block5_conv2 is at 1/16 too, but InceptionV3's 1/16
// blocks keep too little of the picture's layout (the nsfwjs weights past mixed5 are not
// ImageNet's anyway).
var (
	VGGContent       = "block5_conv2"
	VGGStyle         = []string{"block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"}
	InceptionContent = "mixed2"
	InceptionStyle   = []string{"activation_1", "activation_3", "activation_5", "mixed0", "mixed3"}
)

// Network is a feature network ready for style transfer: a plan whose Input takes an RGB
// image as float32 [1, 3, H, W] mapped from pixels p in [0, 255] by p*Scale[c] + Shift[c],
// and whose values Content and Style are the layers the losses read.
type Network struct {
	Plan  *engine.Plan
	Input string
	Kind  Kind
	// Scale and Shift map RGB pixels in [0, 255] to the input (identity for VGG19: the
	// feature extractor preprocesses in its graph).
	Scale, Shift [3]float32
	// Content and Style are the layers chosen (value names of Plan).
	Content string
	Style   []string
	// Available lists the layer names one may choose, in network order.
	Available []string
	// Weights are the loss weights suggested for the network and its default layers: the
	// book's for VGG19 (DefaultConfig), InceptionConfig for InceptionV3's default layers,
	// the book's for anything else (to be tuned: they depend on the activations' scale).
	Weights Config
	// Summary describes the network in one line.
	Summary string

	baseDir string
	limits  onnx.Limits
}

// NetworkOptions configure OpenNetwork and NewNetwork.
type NetworkOptions struct {
	// Kind forces the network kind; "" or "auto" tries VGG19 first.
	Kind string
	// Content and Style choose the layers; empty means the kind's defaults.
	Content string
	Style   []string
	// VGGPreprocessing is what a VGG19 file expects ("" or "auto": detect it; otherwise a
	// vgg19.ParsePreprocessing string: torch, caffe, ...).
	VGGPreprocessing string
	// InputRange is what a generic network's input expects of RGB pixels: "0,255", "0,1" or
	// "-1,1"; "" or "auto" reads it from the model's metadata "preprocessing" (as
	// `gendl-train import tfjs` writes it).
	InputRange string
	// BaseDir is where external weight data may be read from (OpenNetwork: the model's
	// directory); Limits bound the weights read (zero: onnx.DefaultLimits).
	BaseDir string
	Limits  onnx.Limits
}

// OpenNetwork reads the ONNX file at path and prepares it (see NewNetwork).
func OpenNetwork(path string, opt NetworkOptions) (*Network, error) {
	m, err := vgg19.ReadModel(path, nil)
	if err != nil {
		return nil, fmt.Errorf("style: %s", strings.TrimPrefix(err.Error(), "vgg19: "))
	}
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Dir(path)
	}
	n, err := NewNetwork(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return n, nil
}

func (n *Network) withOptions(opt NetworkOptions) *Network {
	n.baseDir, n.limits = opt.BaseDir, opt.Limits
	return n
}

// NewNetwork prepares m for style transfer. With Kind auto, a model that models/vgg19
// recognises is a VGG19: the layers asked for are extracted into a feature extractor that
// takes RGB in [0, 255] and preprocesses in its graph. A VGG19 whose preprocessing cannot be
// told (or is unexpected) is an error that says so. Any other model is generic: its single
// image input must be float32 [N, 3, H, W], and the layers are value names of the graph.
// A layer the model lacks is an error listing the available names.
func NewNetwork(m *onnx.ModelProto, opt NetworkOptions) (*Network, error) {
	kind := strings.ToLower(strings.TrimSpace(opt.Kind))
	if kind != "" && kind != "auto" && kind != string(VGG19) && kind != string(Generic) {
		return nil, fmt.Errorf("style: network kind %q: want auto, vgg19 or generic", opt.Kind)
	}
	vopts := vgg19.Options{BaseDir: opt.BaseDir, Limits: opt.Limits}
	if p := strings.TrimSpace(opt.VGGPreprocessing); p != "" && p != "auto" {
		pp, err := vgg19.ParsePreprocessing(p)
		if err != nil {
			return nil, fmt.Errorf("style: %w", err)
		}
		vopts.Preprocessing = &pp
	}
	if kind != string(Generic) {
		layout, err := vgg19.Analyze(m, vopts)
		switch {
		case err == nil:
			return newVGG(m, layout, opt, vopts)
		case kind == string(VGG19):
			return nil, fmt.Errorf("style: %w", err)
		case strings.Contains(err.Error(), "preprocessing"):
			// The layers are VGG19's, the input convention is not known or not expected.
			return nil, fmt.Errorf("style: the model is a VGG19 but %w (--vgg-preprocessing gives it)", err)
		case opt.Content == "" && opt.Style == nil && !hasKerasInception(m):
			return nil, fmt.Errorf("style: the model is not a VGG19 that gendl recognises (%v), and not a network with default layers (InceptionV3): give the content and style layers by name, and --network generic", err)
		case isVGGName(opt.Content) || slices.ContainsFunc(opt.Style, isVGGName):
			return nil, fmt.Errorf("style: VGG19 layer names were asked for, but the model is not a VGG19 that gendl recognises: %w", err)
		}
	}
	return newGeneric(m, opt)
}

func isVGGName(s string) bool { return vgg19.LayerIndex(s) >= 0 }

// hasKerasInception reports a graph with InceptionV3's Keras layer names.
func hasKerasInception(m *onnx.ModelProto) bool {
	want := map[string]bool{InceptionContent: false}
	for _, s := range InceptionStyle {
		want[s] = false
	}
	for _, n := range m.GetGraph().GetNode() {
		for _, o := range n.GetOutput() {
			if _, ok := want[o]; ok {
				want[o] = true
			}
		}
	}
	for _, ok := range want {
		if !ok {
			return false
		}
	}
	return true
}

func newVGG(m *onnx.ModelProto, layout *vgg19.Layout, opt NetworkOptions, vopts vgg19.Options) (*Network, error) {
	content, style := opt.Content, opt.Style
	if content == "" {
		content = VGGContent
	}
	if style == nil {
		style = VGGStyle
	}
	layers, err := layerList(content, style)
	if err != nil {
		return nil, err
	}
	if layout.Exporter == vgg19.ExporterGendl && vopts.Preprocessing != nil {
		vopts.Preprocessing = nil // Analyze accepted it (identity); the extractor needs none
	}
	f, err := vgg19.NewFeatures(m, layers, vopts)
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	return (&Network{
		Plan: f.Plan, Input: f.Input, Kind: VGG19, Weights: DefaultConfig(),
		Scale: [3]float32{1, 1, 1}, Content: content, Style: style,
		Available: layout.Names(), Summary: layout.Summary(),
	}).withOptions(opt), nil
}

// layerList returns content and style without duplicates, checking that they are given.
func layerList(content string, style []string) ([]string, error) {
	if content == "" {
		return nil, errors.New("style: no content layer")
	}
	if len(style) == 0 {
		return nil, errors.New("style: no style layers")
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range append([]string{content}, style...) {
		if s == "" {
			return nil, errors.New("style: an empty layer name")
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for i, s := range style {
		if slices.Contains(style[:i], s) {
			return nil, fmt.Errorf("style: style layer %q is listed twice", s)
		}
	}
	return out, nil
}

func newGeneric(m *onnx.ModelProto, opt NetworkOptions) (*Network, error) {
	g := m.GetGraph()
	if g == nil {
		return nil, errors.New("style: model has no graph")
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var feeds []*onnx.ValueInfoProto
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			feeds = append(feeds, vi)
		}
	}
	if len(feeds) != 1 {
		names := make([]string, len(feeds))
		for i, vi := range feeds {
			names[i] = fmt.Sprintf("%q", vi.GetName())
		}
		return nil, fmt.Errorf("style: the model has %d inputs to feed (%s), want one image input", len(feeds), strings.Join(names, ", "))
	}
	in := feeds[0]
	tt := in.GetType().GetTensorType()
	if tt == nil || tensor.DType(tt.GetElemType()) != tensor.Float32 {
		return nil, fmt.Errorf("style: input %q is not a float32 tensor, want an image [N, 3, H, W]", in.GetName())
	}
	if sh := tt.GetShape(); sh != nil {
		dims := sh.GetDim()
		if len(dims) != 4 {
			return nil, fmt.Errorf("style: input %q has rank %d, want an image [N, 3, H, W]", in.GetName(), len(dims))
		}
		fixed := func(d *onnx.TensorShapeProto_Dimension, n int64) bool {
			return d.GetDimParam() == "" && d.GetDimValue() == n
		}
		switch c := dims[1]; {
		case !fixed(c, 3) && fixed(dims[3], 3):
			return nil, fmt.Errorf("style: input %q is %s: it looks NHWC; gendl feeds images as NCHW [N, 3, H, W]", in.GetName(), dimString(dims))
		case c.GetDimParam() == "" && c.GetDimValue() > 0 && c.GetDimValue() != 3:
			return nil, fmt.Errorf("style: input %q has %d channels in dimension 1, want 3 (RGB, NCHW)", in.GetName(), c.GetDimValue())
		}
	}
	md := vgg19.Metadata(m)
	scale, shift, err := inputRange(opt.InputRange, md["preprocessing"])
	if err != nil {
		return nil, err
	}
	plan, err := engine.New(m, engine.Options{Limits: opt.Limits, BaseDir: opt.BaseDir})
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	available := genericLayers(plan, md["keras_layers"])
	content, style := opt.Content, opt.Style
	if content == "" && style == nil && !hasKerasInception(m) {
		return nil, fmt.Errorf("style: no default layers for this network (not a VGG19 or an InceptionV3 with Keras names); give the content and style layers; available: %s", strings.Join(available, ", "))
	}
	weights := DefaultConfig()
	if content == "" {
		content = InceptionContent
	}
	if style == nil {
		style = InceptionStyle
		weights = InceptionConfig()
	}
	layers, err := layerList(content, style)
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		v, ok := plan.ValueID(l)
		if !ok || plan.Producer(v) < 0 {
			return nil, fmt.Errorf("style: the model has no layer %q; available: %s", l, strings.Join(available, ", "))
		}
		if dt := plan.ValueTypeOf(v).DType; dt != tensor.Float32 && dt != tensor.Undefined {
			return nil, fmt.Errorf("style: layer %q is %v, want float32 features", l, dt)
		}
	}
	summary := fmt.Sprintf("generic network, input %q %s", in.GetName(), rangeName(scale, shift))
	if src := md["source"]; src != "" {
		summary += "; " + src
	}
	return (&Network{Plan: plan, Input: in.GetName(), Kind: Generic, Scale: scale, Shift: shift, Weights: weights,
		Content: content, Style: style, Available: available, Summary: summary}).withOptions(opt), nil
}

// genericLayers lists the layers of a generic network: the Keras layer names from the
// metadata that are values of the plan, or else every float value a node computes.
func genericLayers(p *engine.Plan, keras string) []string {
	var out []string
	if keras != "" {
		for _, name := range strings.Split(keras, ",") {
			if v, ok := p.ValueID(name); ok && p.Producer(v) >= 0 {
				out = append(out, name)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for v := range p.NumValues() {
		if p.Producer(v) < 0 {
			continue
		}
		if dt := p.ValueTypeOf(v).DType; dt == tensor.Float32 || dt == tensor.Undefined {
			out = append(out, p.ValueName(v))
		}
	}
	return out
}

// inputRange parses a generic network's input range, from the option or the metadata text.
func inputRange(opt, meta string) (scale, shift [3]float32, err error) {
	s := strings.ReplaceAll(strings.TrimSpace(opt), " ", "")
	if s == "" || s == "auto" {
		m := strings.ReplaceAll(meta, " ", "")
		switch {
		case strings.Contains(m, "[-1,1]"):
			s = "-1,1"
		case strings.Contains(m, "[0,1]"):
			s = "0,1"
		case strings.Contains(m, "[0,255]"):
			s = "0,255"
		default:
			what := "has no \"preprocessing\" metadata"
			if meta != "" {
				what = fmt.Sprintf("metadata \"preprocessing\" (%q) names no range", meta)
			}
			return scale, shift, fmt.Errorf("style: cannot tell what range the network's input expects: the model %s; give it (--input-range 0,255, 0,1 or -1,1)", what)
		}
	}
	var a, b float32
	switch s {
	case "0,255":
		a, b = 1, 0
	case "0,1":
		a, b = 1.0/255, 0
	case "-1,1":
		a, b = 2.0/255, -1
	default:
		return scale, shift, fmt.Errorf("style: input range %q: want 0,255, 0,1 or -1,1", opt)
	}
	return [3]float32{a, a, a}, [3]float32{b, b, b}, nil
}

func rangeName(scale, shift [3]float32) string {
	switch {
	case scale[0] == 1 && shift[0] == 0:
		return "RGB in [0,255]"
	case shift[0] == 0:
		return "RGB in [0,1]"
	}
	return "RGB in [-1,1]"
}

func dimString(dims []*onnx.TensorShapeProto_Dimension) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		switch {
		case d.GetDimParam() != "":
			parts[i] = d.GetDimParam()
		case d.GetDimValue() > 0:
			parts[i] = fmt.Sprint(d.GetDimValue())
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
