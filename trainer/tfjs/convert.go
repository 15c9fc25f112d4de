package tfjs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// DefaultOpset is the ONNX opset of converted models.
const DefaultOpset = 13

// Options control Convert.
type Options struct {
	// Until, when set, makes Until the output and converts only the layers it depends on
	// (InceptionV3 --until mixed5 for DeepDream).
	Until string
	// Outputs are further layers to declare as graph outputs (every layer's output can be
	// fetched by name from a gendl session anyway; ONNX Runtime returns only graph outputs).
	// Layers that the graph does not otherwise need are added to it.
	Outputs []string
	// FoldBatchNorm folds a BatchNormalization into the Conv2D before it when the convolution
	// has no activation and nothing else uses its output. The convolution's own output then
	// no longer exists under its name (the folded node produces the BatchNormalization's).
	FoldBatchNorm bool
	// Opset is the default-domain opset (0: DefaultOpset). 13 to 17 give the same graph.
	Opset int64
	// Metadata entries to add to metadata_props (key, value pairs in order), e.g. the
	// preprocessing the network expects and where the weights come from.
	Metadata [][2]string
}

// Summary describes a conversion.
type Summary struct {
	// Layers lists the converted Keras layers in graph order.
	Layers []string
	// Inputs and Outputs are the graph's input and output names.
	Inputs, Outputs []string
	// InputShape is the first input's declared ONNX shape (-1: any size).
	InputShape []int
	// Params counts the elements of all initializers.
	Params int64
	// Ops counts the graph's nodes by op type.
	Ops map[string]int
	// Folded counts BatchNormalizations folded into convolutions.
	Folded int
	// UnusedWeights counts manifest weights the converted layers did not use (the layers
	// after Until, for example).
	UnusedWeights int
}

// OpList formats Ops as "Conv 94, Relu 94, ..." by decreasing count.
func (s *Summary) OpList() string {
	keys := slices.Sorted(maps.Keys(s.Ops))
	slices.SortStableFunc(keys, func(a, b string) int { return s.Ops[b] - s.Ops[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, s.Ops[k])
	}
	return strings.Join(parts, ", ")
}

// value is a converted layer's output: its ONNX value name and its Keras (channels-last)
// shape, -1 for a size not known at conversion time. Rank-4 values are stored NCHW in the ONNX
// graph.
type value struct {
	name  string
	shape []int
}

func (v *value) rank() int { return len(v.shape) }

// channels is the size of the last Keras axis.
func (v *value) channels() int { return v.shape[len(v.shape)-1] }

// onnxShape returns the ONNX (NCHW for rank 4) shape.
func (v *value) onnxShape() []int {
	if v.rank() == 4 {
		s := v.shape
		return []int{s[0], s[3], s[1], s[2]}
	}
	return slices.Clone(v.shape)
}

type converter struct {
	m         *Model
	opt       Options
	b         *onnx.Builder
	vals      map[string]*value
	folded    map[string]string // conv layer -> the BatchNormalization it was folded into
	foldInto  map[string]*Layer // BatchNormalization layer -> the conv folded into it
	consumers map[string]int
	keep      map[string]bool // layers whose own output must exist (graph outputs)
	used      map[string]bool // weights used
	anySize   bool
	sum       *Summary
}

// Convert turns the model's layers (all of them, or those Until needs) into an ONNX graph.
// The graph takes each Keras input as float32 NCHW ([N, C, H, W], transposed from Keras's
// NHWC; [N, F] for rank 2) and names every layer's output value by the Keras layer name, NCHW
// as well. H and W are left free (any size) unless the converted layers contain a Flatten,
// which fixes them to the sizes the Keras input declares.
func Convert(m *Model, opt Options) (*onnx.ModelProto, *Summary, error) {
	if opt.Opset == 0 {
		opt.Opset = DefaultOpset
	}
	if opt.Opset < 13 || opt.Opset > 17 {
		return nil, nil, fmt.Errorf("tfjs: opset %d: want 13 to 17", opt.Opset)
	}
	targets := m.Outputs
	if opt.Until != "" {
		targets = []string{opt.Until}
	}
	targets = append(slices.Clone(targets), opt.Outputs...)
	var missing []string
	for _, t := range targets {
		if m.byName[t] == nil {
			missing = append(missing, fmt.Sprintf("%q", t))
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("tfjs: the model has no layer %s; its layers are: %s", strings.Join(missing, ", "), strings.Join(m.layerNames(), ", "))
	}
	order, err := m.closure(targets)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSupported(order); err != nil {
		return nil, nil, err
	}

	name := m.Name
	if name == "" {
		name = "tfjs"
	}
	c := &converter{
		m: m, opt: opt, b: onnx.NewBuilder(name, opt.Opset),
		vals: map[string]*value{}, folded: map[string]string{}, foldInto: map[string]*Layer{},
		consumers: map[string]int{}, keep: map[string]bool{}, used: map[string]bool{},
		anySize: true,
		sum:     &Summary{Ops: map[string]int{}},
	}
	for _, l := range order {
		for _, in := range l.Inbound {
			c.consumers[in]++
		}
		if l.Class == "Flatten" {
			c.anySize = false
		}
	}
	for _, t := range targets {
		c.keep[t] = true
	}
	if opt.FoldBatchNorm {
		c.planFolds(order)
	}
	for _, l := range order {
		if err := c.layer(l); err != nil {
			return nil, nil, err
		}
		if c.vals[l.Name] != nil {
			c.sum.Layers = append(c.sum.Layers, l.Name)
		}
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t] {
			continue
		}
		seen[t] = true
		v := c.vals[t]
		if v == nil { // cannot happen: kept layers are never folded
			return nil, nil, fmt.Errorf("tfjs: layer %q has no output value", t)
		}
		c.b.OutputDims(v.name, tensor.Float32, c.dims(v)...)
		c.sum.Outputs = append(c.sum.Outputs, v.name)
	}
	c.metadata()
	model, err := c.b.Model()
	if err != nil {
		return nil, nil, fmt.Errorf("tfjs: building the ONNX graph: %w", err)
	}
	for _, w := range m.WeightOrder {
		if !c.used[w] {
			c.sum.UnusedWeights++
		}
	}
	return model, c.sum, nil
}

// layerNames lists the model's layer names in config order.
func (m *Model) layerNames() []string {
	names := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		names[i] = l.Name
	}
	return names
}

// closure returns the layers the targets depend on, in an order where each layer follows its
// inputs (the config order among independent layers).
func (m *Model) closure(targets []string) ([]*Layer, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []*Layer
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("tfjs: the layers form a cycle: %s -> %s", strings.Join(path, " -> "), name)
		}
		state[name] = visiting
		l := m.byName[name]
		for _, in := range l.Inbound {
			if err := visit(in, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, l)
		return nil
	}
	for _, t := range targets {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	// Prefer the config order (Keras lists layers as they were created), when it is
	// topological; otherwise keep the depth-first order.
	var sorted []*Layer
	placed := map[string]bool{}
	for _, l := range m.Layers {
		if state[l.Name] != done {
			continue
		}
		for _, in := range l.Inbound {
			if !placed[in] {
				return order, nil
			}
		}
		placed[l.Name] = true
		sorted = append(sorted, l)
	}
	return sorted, nil
}

// supported lists the layer classes Convert handles.
var supported = map[string]func(*converter, *Layer, []*value) (*value, error){
	"InputLayer":             nil, // handled by input
	"Conv2D":                 (*converter).conv2D,
	"Dense":                  (*converter).dense,
	"BatchNormalization":     (*converter).batchNorm,
	"Activation":             (*converter).activationLayer,
	"ReLU":                   (*converter).reluLayer,
	"LeakyReLU":              (*converter).leakyReLU,
	"Softmax":                (*converter).softmaxLayer,
	"MaxPooling2D":           (*converter).pool,
	"AveragePooling2D":       (*converter).pool,
	"GlobalAveragePooling2D": (*converter).globalPool,
	"GlobalMaxPooling2D":     (*converter).globalPool,
	"Concatenate":            (*converter).concatenate,
	"Add":                    (*converter).merge,
	"Subtract":               (*converter).merge,
	"Multiply":               (*converter).merge,
	"Maximum":                (*converter).merge,
	"Average":                (*converter).merge,
	"ZeroPadding2D":          (*converter).zeroPadding,
	"Flatten":                (*converter).flatten,
	"Dropout":                (*converter).identity,
	"SpatialDropout2D":       (*converter).identity,
	"GaussianNoise":          (*converter).identity,
	"GaussianDropout":        (*converter).identity,
	"AlphaDropout":           (*converter).identity,
}

// SupportedLayers lists the Keras layer classes that Convert handles, sorted.
func SupportedLayers() []string { return slices.Sorted(maps.Keys(supported)) }

// checkSupported lists every layer class and activation among the layers that Convert does not
// handle, all at once.
func checkSupported(order []*Layer) error {
	var bad []string
	for _, l := range order {
		if _, ok := supported[l.Class]; !ok {
			bad = append(bad, fmt.Sprintf("%s (layer %q)", l.Class, l.Name))
			continue
		}
		if act, ok := l.Config["activation"].(string); ok && l.Class != "InputLayer" {
			if !supportedActivation(act) {
				bad = append(bad, fmt.Sprintf("activation %q (layer %q)", act, l.Name))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("tfjs: unsupported layers: %s (supported: %s; activations: %s)",
			strings.Join(bad, ", "), strings.Join(SupportedLayers(), ", "), strings.Join(activationNames(), ", "))
	}
	return nil
}

// planFolds picks the Conv2D -> BatchNormalization pairs to fold.
func (c *converter) planFolds(order []*Layer) {
	for _, l := range order {
		if l.Class != "BatchNormalization" || len(l.Inbound) != 1 {
			continue
		}
		src := c.m.byName[l.Inbound[0]]
		if src.Class != "Conv2D" || c.consumers[src.Name] != 1 || c.keep[src.Name] {
			continue
		}
		if act, _ := src.Config["activation"].(string); act != "" && act != "linear" {
			continue
		}
		c.folded[src.Name] = l.Name
		c.foldInto[l.Name] = src
	}
}

// layer converts one layer and records its output value.
func (c *converter) layer(l *Layer) error {
	if l.Class == "InputLayer" {
		return c.input(l)
	}
	if _, ok := c.folded[l.Name]; ok {
		return nil // emitted with its BatchNormalization
	}
	ins := make([]*value, len(l.Inbound))
	for i, src := range l.Inbound {
		ins[i] = c.vals[src]
		if ins[i] == nil && c.folded[src] == "" {
			return fmt.Errorf("tfjs: layer %q: input %q has no value", l.Name, src)
		}
	}
	if len(l.Inbound) == 0 {
		return fmt.Errorf("tfjs: layer %q (%s) has no inputs", l.Name, l.Class)
	}
	if conv := c.foldInto[l.Name]; conv != nil {
		v, err := c.foldedConv(conv, l, c.vals[conv.Inbound[0]])
		if err != nil {
			return err
		}
		c.vals[l.Name] = v
		return nil
	}
	v, err := supported[l.Class](c, l, ins)
	if err != nil {
		return err
	}
	c.vals[l.Name] = v
	return nil
}

// node appends a node named name (the Keras layer, or layer/part) and counts its op.
func (c *converter) node(name, op string, inputs []string, output string, attrs ...*onnx.AttributeProto) {
	c.b.NamedNode(name, op, inputs, []string{output}, attrs...)
	c.sum.Ops[op]++
}

// init adds an initializer and counts its parameters.
func (c *converter) init(name string, t *tensor.Tensor) string {
	c.b.Initializer(name, t)
	c.sum.Params += int64(t.Len())
	return name
}

// weight returns the float32 values of the layer's parameter param ("kernel", "bias", ...),
// checking its shape. TF.js names weights "<layer>/<param>", sometimes under a further scope
// ("<model>/<layer>/<param>").
func (c *converter) weight(l *Layer, param string, shape ...int) ([]float32, error) {
	want := l.Name + "/" + param
	w := c.m.Weights[want]
	if w == nil {
		var found []*Weight
		for _, name := range c.m.WeightOrder {
			if strings.HasSuffix(name, "/"+want) {
				found = append(found, c.m.Weights[name])
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("tfjs: layer %q (%s): weight %q is not in the weights manifest", l.Name, l.Class, want)
		case 1:
			w = found[0]
		default:
			return nil, fmt.Errorf("tfjs: layer %q (%s): weight %q matches %d manifest entries", l.Name, l.Class, want, len(found))
		}
	}
	if !slices.Equal(w.Shape, shape) {
		return nil, fmt.Errorf("tfjs: layer %q (%s): weight %q has shape %v, the layer needs %v", l.Name, l.Class, w.Name, w.Shape, shape)
	}
	if w.raw == nil && w.Len() > 0 {
		return nil, fmt.Errorf("tfjs: layer %q (%s): weight %q has no data", l.Name, l.Class, w.Name)
	}
	c.used[w.Name] = true
	return w.Float32(), nil
}

// input declares a Keras input layer as a graph input.
func (c *converter) input(l *Layer) error {
	k := &cfg{l: l}
	shape := k.shape("batch_input_shape")
	if shape == nil && k.err == nil {
		if s := k.shape("batchInputShape"); s != nil {
			shape = s
		}
	}
	dtype := k.str("dtype", "float32")
	if k.err != nil {
		return k.err
	}
	if dtype != "float32" {
		return fmt.Errorf("tfjs: input layer %q: dtype %q: want float32", l.Name, dtype)
	}
	if len(shape) != 4 && len(shape) != 2 {
		return fmt.Errorf("tfjs: input layer %q: batch_input_shape %v: want [batch, height, width, channels] or [batch, features]", l.Name, shape)
	}
	if shape[len(shape)-1] < 0 {
		return fmt.Errorf("tfjs: input layer %q: batch_input_shape %v: the channel count must be fixed", l.Name, shape)
	}
	shape[0] = -1
	if len(shape) == 4 && c.anySize {
		shape[1], shape[2] = -1, -1
	}
	v := &value{name: l.Name, shape: shape}
	c.sum.Inputs = append(c.sum.Inputs, l.Name)
	c.b.InputDims(l.Name, tensor.Float32, c.dims(v)...)
	if c.sum.InputShape == nil {
		c.sum.InputShape = v.onnxShape()
	}
	c.vals[l.Name] = v
	return nil
}

// dims returns v's declared ONNX dimensions: N for the batch, H and W for free spatial sizes.
func (c *converter) dims(v *value) []onnx.Dim {
	s := v.onnxShape()
	d := make([]onnx.Dim, len(s))
	for i, n := range s {
		switch {
		case n >= 0:
			d[i] = onnx.Fixed(int64(n))
		case i == 0:
			d[i] = onnx.Sym("N")
		default:
			d[i] = onnx.UnknownDim
		}
	}
	if v.name == c.firstInput() && len(s) == 4 {
		for i, sym := range map[int]string{2: "H", 3: "W"} {
			if s[i] < 0 {
				d[i] = onnx.Sym(sym)
			}
		}
	}
	return d
}

func (c *converter) firstInput() string {
	if len(c.sum.Inputs) == 0 {
		return ""
	}
	return c.sum.Inputs[0]
}

// metadata writes what a user of the file needs to feed it.
func (c *converter) metadata() {
	in := c.firstInput()
	layout := "inputs and layer outputs are NCHW float32 (Keras's NHWC transposed): input " + in +
		" is [N, C, H, W]"
	if c.anySize {
		layout += " with H and W free"
	}
	c.b.Metadata("source_format", "tensorflowjs layers-model (Keras "+c.m.KerasVersion+")")
	c.b.Metadata("layout", layout)
	c.b.Metadata("keras_layers", strings.Join(c.sum.Layers, ","))
	for _, kv := range c.opt.Metadata {
		if kv[0] == "" {
			continue
		}
		c.b.Metadata(kv[0], kv[1])
	}
	c.b.Doc("Converted by gendl-train import tfjs from a TensorFlow.js layers model; every Keras layer's output is the value of the same name.")
}

// errRank reports a layer given an input of a rank it does not take.
func errRank(l *Layer, v *value, want string) error {
	return fmt.Errorf("tfjs: layer %q (%s): input %q has Keras shape %s; want %s", l.Name, l.Class, v.name, shapeString(v.shape), want)
}

// shapeString prints a Keras shape with "?" for unknown sizes.
func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// kerasAxis maps a Keras axis of a rank-r value to the ONNX axis.
func kerasAxis(axis, r int) (int, error) {
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return 0, errors.New("axis out of range")
	}
	if r == 4 {
		return [4]int{0, 2, 3, 1}[axis], nil
	}
	return axis, nil
}
