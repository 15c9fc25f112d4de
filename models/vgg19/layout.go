package vgg19

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Options configure Analyze and Extract.
type Options struct {
	// Preprocessing, when set, is what the source network expects, overriding the detection
	// (see Analyze). It cannot be set for a file that preprocesses in its graph.
	Preprocessing *Preprocessing
	// BaseDir is the source model's directory, where external weight data may be read from;
	// empty refuses external data.
	BaseDir string
	// Limits bound the weights read from the source; zero means onnx.DefaultLimits.
	Limits onnx.Limits
}

// Layer is one VGG19 feature layer found in a model.
type Layer struct {
	LayerSpec
	// Value is the ONNX value holding the layer's output: a conv's Relu output (Keras'
	// Conv2D layers include their activation), a pool's MaxPool output.
	Value string
	// Nodes names the model's nodes that compute the layer from the previous one
	// (Conv [Add] Relu, or MaxPool).
	Nodes []string
	// Weight and Bias name a conv's initializers (Bias is "" without a bias; it may be the
	// constant of an Add node, shaped [C,1,1] or [1,C,1,1]). In and Out are its channels.
	Weight, Bias string
	In, Out      int
}

// Layout is what Analyze recognised in a model.
type Layout struct {
	// Input is the graph input the image is fed to; NHWC is set when it is [N,H,W,3] and the
	// graph transposes it to NCHW first (as Keras models converted to ONNX do).
	Input string
	NHWC  bool
	// Width is block 1's channel count: 64 in VGG19.
	Width int
	// Layers are the feature layers found, in network order: all 21 for a whole VGG19, fewer
	// for a truncated one (such as a feature extractor written by Extract).
	Layers []Layer
	// Head is set when the graph goes on after block5_pool (the classifier).
	Head bool
	// Exporter names the file's origin as recognised from its names and metadata: "onnx-zoo"
	// (vgg19-7.onnx, MXNet Gluon names), "keras", "caffe2", "torchvision", "gendl" (a
	// feature extractor written by Extract) or "unknown".
	Exporter string
	// Network is the preprocessing the first convolution expects; Input is what the graph
	// input expects (None when the graph applies Network itself, as Extract's files do).
	Network, InputPreprocessing Preprocessing
	// PreprocessingSource says how Network was determined.
	PreprocessingSource string
	// InGraph lists the graph's preprocessing nodes (Extract's files only).
	InGraph []string
	// Opset is the model's default-domain opset.
	Opset int64

	model *onnx.ModelProto
	inits map[string]*onnx.TensorProto
}

// Exporter names, see Layout.Exporter.
const (
	ExporterZoo         = "onnx-zoo"
	ExporterKeras       = "keras"
	ExporterCaffe2      = "caffe2"
	ExporterTorchvision = "torchvision"
	ExporterGendl       = "gendl"
	ExporterUnknown     = "unknown"
)

// Names returns the Keras names of the layers found, in network order.
func (l *Layout) Names() []string {
	out := make([]string, len(l.Layers))
	for i, ly := range l.Layers {
		out[i] = ly.Name
	}
	return out
}

// Find returns the layer with Keras name name. The error for a name that is not a VGG19
// layer, or one the model lacks (a truncated file), lists the names available.
func (l *Layout) Find(name string) (*Layer, error) {
	for i := range l.Layers {
		if l.Layers[i].Name == name {
			return &l.Layers[i], nil
		}
	}
	if LayerIndex(name) < 0 {
		return nil, fmt.Errorf("vgg19: no layer %q: VGG19's layers are %s", name, strings.Join(l.Names(), ", "))
	}
	return nil, fmt.Errorf("vgg19: layer %q is not in this model (it stops at %s); available: %s",
		name, l.Layers[len(l.Layers)-1].Name, strings.Join(l.Names(), ", "))
}

// Values maps Keras layer names to the model's ONNX value names (see Find for errors).
func (l *Layout) Values(names []string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		ly, err := l.Find(n)
		if err != nil {
			return nil, err
		}
		out[i] = ly.Value
	}
	return out, nil
}

// Metadata returns a model's metadata_props as a map (a repeated key keeps its last value).
func Metadata(m *onnx.ModelProto) map[string]string {
	md := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		md[kv.GetKey()] = kv.GetValue()
	}
	return md
}

// walker follows the chain of values from the image input.
type walker struct {
	m         *onnx.ModelProto
	inits     map[string]*onnx.TensorProto
	consumers map[string][]*onnx.NodeProto
}

// next returns the sole node reading v; nil when none does (the chain ends).
func (w *walker) next(v string) (*onnx.NodeProto, error) {
	cs := w.consumers[v]
	switch len(cs) {
	case 0:
		return nil, nil
	case 1:
		return cs[0], nil
	}
	descs := make([]string, len(cs))
	for i, n := range cs {
		descs[i] = onnx.NodeDesc(n)
	}
	return nil, fmt.Errorf("vgg19: value %q feeds %d nodes (%s): VGG19's features are a chain", v, len(cs), strings.Join(descs, ", "))
}

// constant returns the initializer an input names, or nil.
func (w *walker) constant(name string) *onnx.TensorProto { return w.inits[name] }

func numel(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// Analyze recognises VGG19's feature layers in m from the graph's structure — the chain of
// 3x3 Conv (+ bias) + Relu layers and 2x2 MaxPools from the image input, with 2, 2, 4, 4, 4
// convolutions per block and channels W, 2W, 4W, 8W, 8W — not from its names, and maps
// Keras' names (block1_conv1 ... block5_pool) to the model's values. A graph that is not
// such a chain is rejected with an error naming the node where it departs from VGG19.
//
// It also determines the preprocessing the network expects (Layout.Network), in this order:
//  1. a feature extractor written by Extract applies it in its graph (metadata
//     gendl.vgg19.preprocessing says which); its input takes RGB in [0, 255];
//  2. opts.Preprocessing, when given;
//  3. metadata gendl.vgg19.preprocessing, when present (see ParsePreprocessing);
//  4. the names of the file's exporter: MXNet Gluon's (vgg0_conv0_weight: the ONNX model
//     zoo's vgg19-7.onnx, whose README specifies Torch) and torchvision's (features.0.weight)
//     mean Torch; Keras' (block1_conv1) and Caffe2's (conv1_1_w_0) mean Caffe.
//
// Otherwise, or when the graph transforms its input before the first convolution in a way
// it does not know, Analyze fails and says so.
func Analyze(m *onnx.ModelProto, opts Options) (*Layout, error) {
	g := m.GetGraph()
	if g == nil {
		return nil, errors.New("vgg19: model has no graph")
	}
	w := &walker{m: m, inits: map[string]*onnx.TensorProto{}, consumers: map[string][]*onnx.NodeProto{}}
	for _, tp := range g.GetInitializer() {
		w.inits[tp.GetName()] = tp
	}
	for _, n := range g.GetNode() {
		seen := map[string]bool{}
		for _, in := range n.GetInput() {
			if in != "" && !seen[in] {
				w.consumers[in] = append(w.consumers[in], n)
				seen[in] = true
			}
		}
	}
	l := &Layout{model: m, inits: w.inits, Opset: onnx.OpsetVersion(m, "")}

	// The image input: the one graph input that is not an initializer.
	var feeds []*onnx.ValueInfoProto
	for _, vi := range g.GetInput() {
		if w.inits[vi.GetName()] == nil {
			feeds = append(feeds, vi)
		}
	}
	if len(feeds) != 1 {
		names := make([]string, len(feeds))
		for i, vi := range feeds {
			names[i] = vi.GetName()
		}
		return nil, fmt.Errorf("vgg19: model has %d inputs to feed (%s), want one image input: not a VGG19", len(feeds), strings.Join(names, ", "))
	}
	in := feeds[0]
	l.Input = in.GetName()
	tt := in.GetType().GetTensorType()
	if tt == nil || tensor.DType(tt.GetElemType()) != tensor.Float32 {
		return nil, fmt.Errorf("vgg19: input %q is not a float32 tensor: not a VGG19 image input", l.Input)
	}
	var dims []int64 // -1 for unknown
	if tt.GetShape() != nil {
		for _, d := range tt.GetShape().GetDim() {
			if d.GetDimParam() == "" && d.GetDimValue() > 0 {
				dims = append(dims, d.GetDimValue())
			} else {
				dims = append(dims, -1)
			}
		}
		if len(dims) != 4 {
			return nil, fmt.Errorf("vgg19: input %q has rank %d, want 4 (an image batch): not a VGG19", l.Input, len(dims))
		}
	}

	md := Metadata(m)
	ours := md[MetaModel] == ModelName

	// Preamble: an NHWC -> NCHW Transpose, and an extractor's preprocessing nodes.
	v := l.Input
	n, err := w.next(v)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fmt.Errorf("vgg19: input %q feeds no node: not a VGG19", l.Input)
	}
	if n.GetOpType() == "Transpose" {
		perm := onnx.NewAttrs(n).Ints("perm", nil)
		if !slices.Equal(perm, []int64{0, 3, 1, 2}) {
			return nil, fmt.Errorf("vgg19: input %q goes through %s with perm %v; only an NHWC -> NCHW transpose (perm [0 3 1 2]) is expected before the first convolution", l.Input, onnx.NodeDesc(n), perm)
		}
		l.NHWC = true
		if v, err = output(n); err != nil {
			return nil, err
		}
		if n, err = w.next(v); err != nil {
			return nil, err
		}
	}
	if dims != nil {
		c := dims[1]
		if l.NHWC {
			c = dims[3]
		}
		if c != 3 && c != -1 {
			return nil, fmt.Errorf("vgg19: input %q has %d channels, want 3 (RGB or BGR)", l.Input, c)
		}
	}
	var pre []*onnx.NodeProto
	for n != nil && isPreprocessing(w, n) {
		pre = append(pre, n)
		if v, err = output(n); err != nil {
			return nil, err
		}
		if n, err = w.next(v); err != nil {
			return nil, err
		}
	}

	if err := l.walkLayers(w, v, n); err != nil {
		return nil, err
	}
	if all := len(Layers()); len(l.Layers) < all && !ours {
		last := l.Layers[len(l.Layers)-1]
		return nil, fmt.Errorf("vgg19: the graph ends after %s (value %q): a VGG19 has %d feature layers, through block5_pool; only gendl's own feature extractors may stop early",
			last.Name, last.Value, all)
	}
	l.Exporter = exporter(l, md, ours)
	if err := l.preprocessing(pre, md, ours, opts); err != nil {
		return nil, err
	}
	return l, nil
}

// output returns the single output of a chain node.
func output(n *onnx.NodeProto) (string, error) {
	if len(n.GetOutput()) != 1 || n.GetOutput()[0] == "" {
		return "", fmt.Errorf("vgg19: %s: want one output, got %q", onnx.NodeDesc(n), n.GetOutput())
	}
	return n.GetOutput()[0], nil
}

// isPreprocessing reports a node that transforms the image before the first 3x3 conv: an
// elementwise op with a constant operand, or a 1x1 conv of 3 channels.
func isPreprocessing(w *walker, n *onnx.NodeProto) bool {
	switch n.GetOpType() {
	case "Mul", "Add", "Sub", "Div":
		return len(n.GetInput()) == 2 && (w.constant(n.GetInput()[0]) != nil || w.constant(n.GetInput()[1]) != nil)
	case "Conv", "BatchNormalization":
		if len(n.GetInput()) < 2 {
			return false
		}
		wt := w.constant(n.GetInput()[1])
		if n.GetOpType() == "BatchNormalization" {
			return wt != nil && numel(wt.GetDims()) == 3
		}
		return wt != nil && slices.Equal(wt.GetDims(), []int64{3, 3, 1, 1})
	}
	return false
}

// walkLayers follows the conv/relu/pool chain from value v, whose sole consumer is n.
func (l *Layout) walkLayers(w *walker, v string, n *onnx.NodeProto) error {
	specs := Layers()
	c := 3
	for i, spec := range specs {
		if n == nil {
			if i == 0 {
				return fmt.Errorf("vgg19: value %q feeds no node: the graph has no convolution", v)
			}
			return nil // a truncated VGG19: the chain ends after a whole layer
		}
		var ly Layer
		var err error
		if spec.Kind == Conv {
			ly, err = l.convLayer(w, spec, v, n, c)
		} else {
			ly, err = poolLayer(spec, v, n)
		}
		if err != nil {
			return err
		}
		ly.LayerSpec = spec
		if spec.Kind == Conv {
			c = ly.Out
		} else {
			ly.In, ly.Out = c, c
		}
		l.Layers = append(l.Layers, ly)
		v = ly.Value
		if n, err = w.next(v); err != nil {
			if spec.Name == "block5_pool" {
				l.Head = true
				return nil
			}
			return err
		}
	}
	l.Head = n != nil
	return nil
}

// after describes the previous layer, for errors.
func (l *Layout) after(v string) string {
	if len(l.Layers) == 0 {
		return fmt.Sprintf("after the input (value %q)", v)
	}
	return fmt.Sprintf("after %s (value %q)", l.Layers[len(l.Layers)-1].Name, v)
}

// convLayer checks that n starts a VGG conv layer reading v (c channels): Conv 3x3, stride 1,
// 'same' padding, a constant weight [Cout, c, 3, 3] and maybe a bias, then maybe an Add of a
// constant bias, then Relu.
func (l *Layout) convLayer(w *walker, spec LayerSpec, v string, n *onnx.NodeProto, c int) (Layer, error) {
	ly := Layer{}
	if n.GetOpType() != "Conv" {
		if n.GetOpType() == "MaxPool" && spec.Index > 1 {
			b := spec.Block
			return ly, fmt.Errorf("vgg19: block%d has %d convolutions (%s is %s), VGG19's has %d: not a VGG19 (VGG16 has 2, 2, 3, 3, 3)",
				b, spec.Index-1, l.after(v), onnx.NodeDesc(n), BlockConvs[b-1])
		}
		return ly, fmt.Errorf("vgg19: %s: want the Conv of %s, got %s: not a VGG19", l.after(v), spec.Name, onnx.NodeDesc(n))
	}
	desc := fmt.Sprintf("%s (%s)", onnx.NodeDesc(n), spec.Name)
	ins := n.GetInput()
	if len(ins) < 2 || ins[0] != v {
		return ly, fmt.Errorf("vgg19: %s: want inputs (X=%q, W[, B]), got %q", desc, v, ins)
	}
	wt := w.constant(ins[1])
	if wt == nil {
		return ly, fmt.Errorf("vgg19: %s: weight %q is not an initializer (computed weights are not supported)", desc, ins[1])
	}
	wd := wt.GetDims()
	if len(wd) != 4 || wd[1] != int64(c) || wd[2] != 3 || wd[3] != 3 || wd[0] < 1 {
		return ly, fmt.Errorf("vgg19: %s: weight %q has shape %v, want [Cout, %d, 3, 3]: not a VGG19 3x3 convolution", desc, ins[1], wd, c)
	}
	out := int(wd[0])
	if l.Width == 0 {
		l.Width = out
	}
	if want := l.Width * spec.Channels; out != want {
		return ly, fmt.Errorf("vgg19: %s has %d output channels, want %d (VGG19's blocks have W, 2W, 4W, 8W, 8W channels; W = %d here)", desc, out, want, l.Width)
	}
	a := onnx.NewAttrs(n)
	group := a.Int("group", 1)
	strides := a.Ints("strides", []int64{1, 1})
	dil := a.Ints("dilations", []int64{1, 1})
	ks := a.Ints("kernel_shape", []int64{3, 3})
	pads := a.Ints("pads", []int64{0, 0, 0, 0})
	autoPad := a.String("auto_pad", "NOTSET")
	if err := a.Err(); err != nil {
		return ly, fmt.Errorf("vgg19: %w", err)
	}
	switch {
	case group != 1:
		return ly, fmt.Errorf("vgg19: %s: group %d, want 1", desc, group)
	case !slices.Equal(strides, []int64{1, 1}):
		return ly, fmt.Errorf("vgg19: %s: strides %v, want [1 1]", desc, strides)
	case !slices.Equal(dil, []int64{1, 1}):
		return ly, fmt.Errorf("vgg19: %s: dilations %v, want [1 1]", desc, dil)
	case !slices.Equal(ks, []int64{3, 3}):
		return ly, fmt.Errorf("vgg19: %s: kernel_shape %v, want [3 3]", desc, ks)
	case autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
	case (autoPad == "NOTSET" || autoPad == "") && slices.Equal(pads, []int64{1, 1, 1, 1}):
	default:
		return ly, fmt.Errorf("vgg19: %s: padding auto_pad=%s pads=%v, want 'same' padding (pads [1 1 1 1] or auto_pad SAME_UPPER)", desc, autoPad, pads)
	}
	ly.Weight, ly.In, ly.Out = ins[1], c, out
	ly.Nodes = []string{n.GetName()}
	if len(ins) > 2 && ins[2] != "" {
		bt := w.constant(ins[2])
		if bt == nil || numel(bt.GetDims()) != int64(out) || len(bt.GetDims()) != 1 {
			return ly, fmt.Errorf("vgg19: %s: bias %q is not an initializer of shape [%d]", desc, ins[2], out)
		}
		ly.Bias = ins[2]
	}
	if len(n.GetOutput()) != 1 || n.GetOutput()[0] == "" {
		return ly, fmt.Errorf("vgg19: %s: want one output", desc)
	}
	v = n.GetOutput()[0]
	next, err := w.next(v)
	if err != nil {
		return ly, err
	}
	if next != nil && next.GetOpType() == "Add" && ly.Bias == "" && len(next.GetInput()) == 2 {
		other := next.GetInput()[1]
		if other == v {
			other = next.GetInput()[0]
		}
		bt := w.constant(other)
		bd := bt.GetDims()
		if bt == nil || numel(bd) != int64(out) || !(slices.Equal(bd, []int64{int64(out), 1, 1}) || slices.Equal(bd, []int64{1, int64(out), 1, 1})) {
			return ly, fmt.Errorf("vgg19: %s: the Add after it (%s) is not a per-channel bias (want a constant [%d,1,1] or [1,%d,1,1])", desc, onnx.NodeDesc(next), out, out)
		}
		ly.Bias = other
		ly.Nodes = append(ly.Nodes, next.GetName())
		if v, err = output(next); err != nil {
			return ly, err
		}
		if next, err = w.next(v); err != nil {
			return ly, err
		}
	}
	if next == nil || next.GetOpType() != "Relu" {
		got := "nothing"
		if next != nil {
			got = onnx.NodeDesc(next)
		}
		return ly, fmt.Errorf("vgg19: %s: want a Relu after it, got %s: not a VGG19 (a VGG19-BN has BatchNormalization there)", desc, got)
	}
	ly.Nodes = append(ly.Nodes, next.GetName())
	if ly.Value, err = output(next); err != nil {
		return ly, err
	}
	return ly, nil
}

// poolLayer checks that n is VGG's 2x2 max-pool of stride 2 reading v.
func poolLayer(spec LayerSpec, v string, n *onnx.NodeProto) (Layer, error) {
	ly := Layer{}
	if n.GetOpType() != "MaxPool" {
		if n.GetOpType() == "Conv" {
			return ly, fmt.Errorf("vgg19: block%d has more than %d convolutions (%s follows its last one, value %q): not a VGG19",
				spec.Block, BlockConvs[spec.Block-1], onnx.NodeDesc(n), v)
		}
		return ly, fmt.Errorf("vgg19: after value %q: want the MaxPool of %s, got %s: not a VGG19", v, spec.Name, onnx.NodeDesc(n))
	}
	desc := fmt.Sprintf("%s (%s)", onnx.NodeDesc(n), spec.Name)
	a := onnx.NewAttrs(n)
	ks := a.Ints("kernel_shape", nil)
	strides := a.Ints("strides", []int64{1, 1})
	pads := a.Ints("pads", []int64{0, 0, 0, 0})
	dil := a.Ints("dilations", []int64{1, 1})
	autoPad := a.String("auto_pad", "NOTSET")
	ceil := a.Int("ceil_mode", 0)
	if err := a.Err(); err != nil {
		return ly, fmt.Errorf("vgg19: %w", err)
	}
	switch {
	case !slices.Equal(ks, []int64{2, 2}):
		return ly, fmt.Errorf("vgg19: %s: kernel_shape %v, want [2 2]", desc, ks)
	case !slices.Equal(strides, []int64{2, 2}):
		return ly, fmt.Errorf("vgg19: %s: strides %v, want [2 2]", desc, strides)
	case !slices.Equal(pads, []int64{0, 0, 0, 0}) || (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != ""):
		return ly, fmt.Errorf("vgg19: %s: padding auto_pad=%s pads=%v, want none", desc, autoPad, pads)
	case !slices.Equal(dil, []int64{1, 1}):
		return ly, fmt.Errorf("vgg19: %s: dilations %v, want [1 1]", desc, dil)
	case ceil != 0:
		return ly, fmt.Errorf("vgg19: %s: ceil_mode %d, want 0 (Keras' 'valid' pooling)", desc, ceil)
	case len(n.GetOutput()) == 0 || n.GetOutput()[0] == "":
		return ly, fmt.Errorf("vgg19: %s: no output", desc)
	case len(n.GetOutput()) > 1 && n.GetOutput()[1] != "":
		return ly, fmt.Errorf("vgg19: %s: its Indices output is used; VGG19 does not", desc)
	}
	ly.Value = n.GetOutput()[0]
	ly.Nodes = []string{n.GetName()}
	return ly, nil
}

// exporter recognises the file's origin from its metadata and names.
func exporter(l *Layout, md map[string]string, ours bool) string {
	if ours {
		return ExporterGendl
	}
	if len(l.Layers) == 0 {
		return ExporterUnknown
	}
	first := l.Layers[0]
	has := func(sub string) bool {
		if strings.Contains(first.Weight, sub) || strings.Contains(first.Value, sub) {
			return true
		}
		for _, n := range first.Nodes {
			if strings.Contains(n, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case first.Weight == "vgg0_conv0_weight":
		return ExporterZoo
	case has("block1_conv1"):
		return ExporterKeras
	case first.Weight == "conv1_1_w_0":
		return ExporterCaffe2
	case strings.Contains(first.Weight, "features.0."):
		return ExporterTorchvision
	}
	return ExporterUnknown
}

// preprocessing determines Network and InputPreprocessing (see Analyze).
func (l *Layout) preprocessing(pre []*onnx.NodeProto, md map[string]string, ours bool, opts Options) error {
	spec, hasSpec := md[MetaPreprocessing]
	if ours {
		if !hasSpec {
			return fmt.Errorf("vgg19: gendl feature extractor without %s metadata: rewrite it with `gendl-train export vgg19`", MetaPreprocessing)
		}
		p, err := ParsePreprocessing(spec)
		if err != nil {
			return fmt.Errorf("vgg19: metadata %s: %w", MetaPreprocessing, err)
		}
		if want := preprocessingNodes(p); len(pre) != want {
			return fmt.Errorf("vgg19: gendl feature extractor: metadata says preprocessing %q (%d nodes), the graph has %d before the first convolution", spec, want, len(pre))
		}
		if opts.Preprocessing != nil && !opts.Preprocessing.IsIdentity() {
			return fmt.Errorf("vgg19: this gendl feature extractor applies its preprocessing (%s) in the graph and takes RGB in [0,255]; do not give another (%s)", p, opts.Preprocessing.Name)
		}
		for _, n := range pre {
			l.InGraph = append(l.InGraph, n.GetName())
		}
		l.Network, l.InputPreprocessing, l.PreprocessingSource = p, None, "in the graph (metadata "+MetaPreprocessing+")"
		return nil
	}
	if len(pre) > 0 {
		descs := make([]string, len(pre))
		for i, n := range pre {
			descs[i] = onnx.NodeDesc(n)
		}
		return fmt.Errorf("vgg19: the graph transforms its input before the first convolution (%s): unexpected preprocessing; gendl reads VGG19 files whose first node is the first 3x3 Conv (or an NHWC->NCHW Transpose)", strings.Join(descs, ", "))
	}
	var p Preprocessing
	switch {
	case opts.Preprocessing != nil:
		if err := opts.Preprocessing.Check(); err != nil {
			return err
		}
		p, l.PreprocessingSource = *opts.Preprocessing, "given"
	case hasSpec:
		var err error
		if p, err = ParsePreprocessing(spec); err != nil {
			return fmt.Errorf("vgg19: metadata %s: %w", MetaPreprocessing, err)
		}
		l.PreprocessingSource = "metadata " + MetaPreprocessing
	case l.Exporter == ExporterZoo:
		p, l.PreprocessingSource = Torch, "ONNX model zoo vgg19-7 names (MXNet Gluon); its README: RGB in [0,1], mean/std normalised"
	case l.Exporter == ExporterTorchvision:
		p, l.PreprocessingSource = Torch, "torchvision names (features.N)"
	case l.Exporter == ExporterKeras:
		p, l.PreprocessingSource = Caffe, "Keras names (block1_conv1): keras.applications.vgg19.preprocess_input is 'caffe' mode"
	case l.Exporter == ExporterCaffe2:
		p, l.PreprocessingSource = Caffe, "Caffe2 names (conv1_1_w_0): the original VGG release's BGR mean-pixel preprocessing"
	default:
		return fmt.Errorf("vgg19: cannot tell which preprocessing this VGG19 expects (no %s metadata, names of no known exporter: first conv weight %q); give it: torch (RGB [0,1], ImageNet mean/std), caffe (BGR [0,255] minus the mean pixel) or \"rgb|bgr range=1|255 mean=a,b,c std=a,b,c\"",
			MetaPreprocessing, l.Layers[0].Weight)
	}
	l.Network, l.InputPreprocessing = p, p
	return nil
}
