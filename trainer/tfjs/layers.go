package tfjs

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// one returns the single input of a layer that takes one tensor of one of the given ranks.
func one(l *Layer, ins []*value, ranks ...int) (*value, error) {
	if len(ins) != 1 {
		return nil, fmt.Errorf("tfjs: layer %q (%s): takes one input, got %d", l.Name, l.Class, len(ins))
	}
	if !slices.Contains(ranks, ins[0].rank()) {
		want := make([]string, len(ranks))
		for i, r := range ranks {
			want[i] = map[int]string{2: "rank 2 ([batch, features])", 4: "rank 4 ([batch, height, width, channels])"}[r]
		}
		return nil, errRank(l, ins[0], strings.Join(want, " or "))
	}
	return ins[0], nil
}

// channelsLast refuses data_format channels_first (TF.js layers models are channels-last).
func channelsLast(k *cfg) {
	if f := k.str("data_format", "channels_last"); f != "channels_last" {
		k.fail("data_format", "%q: only channels_last is supported", f)
	}
}

// window computes the ONNX padding attributes and the Keras output size of a convolution or
// pooling window over the spatial sizes in (-1: unknown). TF's "same" pads
// max((ceil(in/s)-1)*s + k_eff - in, 0) in total, the odd one at the end; with stride 1 that
// is k_eff-1 whatever the size, so the pads are explicit; with a larger stride and an unknown
// size it is auto_pad SAME_UPPER, which ONNX defines the same way.
func window(l *Layer, mode string, in, k, s, d []int) ([]*onnx.AttributeProto, [2]int, error) {
	var out [2]int
	var pads [4]int64
	auto := false
	for i := range 2 {
		keff := (k[i]-1)*d[i] + 1
		switch mode {
		case "valid":
			if in[i] < 0 {
				out[i] = -1
				continue
			}
			if in[i] < keff {
				return nil, out, fmt.Errorf("tfjs: layer %q (%s): input size %s is smaller than the window (%d) with padding \"valid\"",
					l.Name, l.Class, shapeString(in), keff)
			}
			out[i] = (in[i]-keff)/s[i] + 1
		case "same":
			total := -1
			switch {
			case s[i] == 1:
				total = keff - 1
				out[i] = in[i]
			case in[i] >= 0:
				out[i] = (in[i] + s[i] - 1) / s[i]
				total = max((out[i]-1)*s[i]+keff-in[i], 0)
			default:
				out[i] = -1
				auto = true
			}
			if total >= 0 {
				pads[i], pads[i+2] = int64(total/2), int64(total-total/2)
			}
		default:
			return nil, out, fmt.Errorf("tfjs: layer %q (%s): padding %q: want \"valid\" or \"same\"", l.Name, l.Class, mode)
		}
	}
	switch {
	case auto:
		return []*onnx.AttributeProto{onnx.AttrString("auto_pad", "SAME_UPPER")}, out, nil
	case pads != [4]int64{}:
		return []*onnx.AttributeProto{onnx.AttrInts("pads", pads[:]...)}, out, nil
	}
	return nil, out, nil
}

// convSpec is a Conv2D layer's configuration and weights in ONNX layout.
type convSpec struct {
	attrs []*onnx.AttributeProto
	w     []float32 // [filters, cin/groups, kh, kw]
	wDims []int
	bias  []float32 // nil without bias
	act   string
	out   []int // Keras output shape
}

func (c *converter) convSpec(l *Layer, x *value) (*convSpec, error) {
	k := &cfg{l: l}
	channelsLast(k)
	filters := k.integer("filters", 0, 1)
	ks := k.ints("kernel_size", 2, nil, 1)
	st := k.ints("strides", 2, []int{1, 1}, 1)
	dil := k.ints("dilation_rate", 2, []int{1, 1}, 1)
	groups := k.integer("groups", 1, 1)
	mode := k.str("padding", "valid")
	useBias := k.boolean("use_bias", true)
	act := k.str("activation", "linear")
	if k.err == nil && filters == 0 {
		k.fail("filters", "missing")
	}
	if k.err == nil && ks == nil {
		k.fail("kernel_size", "missing")
	}
	if k.err != nil {
		return nil, k.err
	}
	cin := x.channels()
	if cin%groups != 0 || filters%groups != 0 {
		return nil, fmt.Errorf("tfjs: layer %q (Conv2D): %d input channels and %d filters are not divisible into %d groups", l.Name, cin, filters, groups)
	}
	cg := cin / groups
	kern, err := c.weight(l, "kernel", ks[0], ks[1], cg, filters)
	if err != nil {
		return nil, err
	}
	// Keras kernel [kh, kw, cin/groups, filters] -> ONNX [filters, cin/groups, kh, kw].
	kh, kw := ks[0], ks[1]
	w := make([]float32, len(kern))
	for y := range kh {
		for xx := range kw {
			for i := range cg {
				for o := range filters {
					w[((o*cg+i)*kh+y)*kw+xx] = kern[((y*kw+xx)*cg+i)*filters+o]
				}
			}
		}
	}
	sp := &convSpec{w: w, wDims: []int{filters, cg, kh, kw}, act: act}
	if useBias {
		if sp.bias, err = c.weight(l, "bias", filters); err != nil {
			return nil, err
		}
	}
	pad, hw, err := window(l, mode, x.shape[1:3], ks, st, dil)
	if err != nil {
		return nil, err
	}
	sp.attrs = append([]*onnx.AttributeProto{
		onnx.AttrInts("kernel_shape", int64(kh), int64(kw)),
		onnx.AttrInts("strides", int64(st[0]), int64(st[1])),
		onnx.AttrInts("dilations", int64(dil[0]), int64(dil[1])),
		onnx.AttrInt("group", int64(groups)),
	}, pad...)
	sp.out = []int{x.shape[0], hw[0], hw[1], filters}
	return sp, nil
}

func (c *converter) conv2D(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 4)
	if err != nil {
		return nil, err
	}
	sp, err := c.convSpec(l, x)
	if err != nil {
		return nil, err
	}
	return c.emitConv(l, l.Name, x, sp)
}

// emitConv writes the Conv node (named after layer l) and its activation; the result is the
// value out.
func (c *converter) emitConv(l *Layer, out string, x *value, sp *convSpec) (*value, error) {
	inputs := []string{x.name, c.init(l.Name+"/kernel", tensor.FromFloat32(sp.w, sp.wDims...))}
	if sp.bias != nil {
		inputs = append(inputs, c.init(l.Name+"/bias", tensor.FromFloat32(sp.bias, len(sp.bias))))
	}
	convOut := out
	if !isLinear(sp.act) {
		convOut = out + "/linear"
	}
	c.node(l.Name, "Conv", inputs, convOut, sp.attrs...)
	if !isLinear(sp.act) {
		if err := c.activation(l, l.Name+"/"+sp.act, sp.act, convOut, out); err != nil {
			return nil, err
		}
	}
	return &value{name: out, shape: sp.out}, nil
}

// bnSpec is a BatchNormalization's parameters, with the absent gamma (scale=false) as ones and
// the absent beta (center=false) as zeros.
type bnSpec struct {
	gamma, beta, mean, variance []float32
	eps                         float64
}

func (c *converter) bnSpec(l *Layer, x *value) (*bnSpec, error) {
	k := &cfg{l: l}
	axis := k.axis("axis", -1)
	eps := k.float("epsilon", 1e-3)
	center := k.boolean("center", true)
	scale := k.boolean("scale", true)
	if k.err != nil {
		return nil, k.err
	}
	if a := axis; a != -1 && a != x.rank()-1 {
		return nil, fmt.Errorf("tfjs: layer %q (BatchNormalization): axis %d of a rank-%d input: only the channel axis (-1 or %d) is supported", l.Name, a, x.rank(), x.rank()-1)
	}
	if eps < 0 {
		return nil, fmt.Errorf("tfjs: layer %q (BatchNormalization): epsilon %v is negative", l.Name, eps)
	}
	ch := x.channels()
	sp := &bnSpec{eps: eps}
	var err error
	if scale {
		if sp.gamma, err = c.weight(l, "gamma", ch); err != nil {
			return nil, err
		}
	} else {
		sp.gamma = slices.Repeat([]float32{1}, ch)
	}
	if center {
		if sp.beta, err = c.weight(l, "beta", ch); err != nil {
			return nil, err
		}
	} else {
		sp.beta = make([]float32, ch)
	}
	if sp.mean, err = c.weight(l, "moving_mean", ch); err != nil {
		return nil, err
	}
	if sp.variance, err = c.weight(l, "moving_variance", ch); err != nil {
		return nil, err
	}
	return sp, nil
}

func (c *converter) batchNorm(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	sp, err := c.bnSpec(l, x)
	if err != nil {
		return nil, err
	}
	n := len(sp.gamma)
	inputs := []string{
		x.name,
		c.init(l.Name+"/gamma", tensor.FromFloat32(sp.gamma, n)),
		c.init(l.Name+"/beta", tensor.FromFloat32(sp.beta, n)),
		c.init(l.Name+"/moving_mean", tensor.FromFloat32(sp.mean, n)),
		c.init(l.Name+"/moving_variance", tensor.FromFloat32(sp.variance, n)),
	}
	c.node(l.Name, "BatchNormalization", inputs, l.Name, onnx.AttrFloat("epsilon", float32(sp.eps)))
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}

// foldedConv emits conv and the BatchNormalization bn after it as one Conv:
// W'[o] = W[o]*s[o], b'[o] = (b[o]-mean[o])*s[o] + beta[o] with s = gamma/sqrt(var+eps).
func (c *converter) foldedConv(conv, bn *Layer, x *value) (*value, error) {
	sp, err := c.convSpec(conv, x)
	if err != nil {
		return nil, err
	}
	bs, err := c.bnSpec(bn, &value{name: conv.Name, shape: sp.out})
	if err != nil {
		return nil, err
	}
	filters := sp.wDims[0]
	per := len(sp.w) / filters
	bias := make([]float32, filters)
	for o := range filters {
		s := float64(bs.gamma[o]) / math.Sqrt(float64(bs.variance[o])+bs.eps)
		for i := range per {
			sp.w[o*per+i] = float32(float64(sp.w[o*per+i]) * s)
		}
		b := 0.0
		if sp.bias != nil {
			b = float64(sp.bias[o])
		}
		bias[o] = float32((b-float64(bs.mean[o]))*s + float64(bs.beta[o]))
	}
	sp.bias = bias
	c.sum.Folded++
	return c.emitConv(conv, bn.Name, x, sp)
}

func (c *converter) dense(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	units := k.integer("units", 0, 1)
	useBias := k.boolean("use_bias", true)
	act := k.str("activation", "linear")
	if k.err == nil && units == 0 {
		k.fail("units", "missing")
	}
	if k.err != nil {
		return nil, k.err
	}
	in := x.channels()
	if in < 0 {
		return nil, fmt.Errorf("tfjs: layer %q (Dense): the input's last size is not known at conversion time", l.Name)
	}
	kern, err := c.weight(l, "kernel", in, units)
	if err != nil {
		return nil, err
	}
	var bias []float32
	if useBias {
		if bias, err = c.weight(l, "bias", units); err != nil {
			return nil, err
		}
	}
	out := l.Name
	if !isLinear(act) {
		out = l.Name + "/linear"
	}
	shape := slices.Clone(x.shape)
	shape[len(shape)-1] = units
	if x.rank() == 4 {
		// A Dense on an image acts on the channels of each pixel: a 1x1 convolution.
		w := make([]float32, len(kern))
		for i := range in {
			for o := range units {
				w[o*in+i] = kern[i*units+o]
			}
		}
		inputs := []string{x.name, c.init(l.Name+"/kernel", tensor.FromFloat32(w, units, in, 1, 1))}
		if bias != nil {
			inputs = append(inputs, c.init(l.Name+"/bias", tensor.FromFloat32(bias, units)))
		}
		c.node(l.Name, "Conv", inputs, out, onnx.AttrInts("kernel_shape", 1, 1))
	} else {
		kname := c.init(l.Name+"/kernel", tensor.FromFloat32(kern, in, units))
		if bias != nil {
			c.node(l.Name, "Gemm", []string{x.name, kname, c.init(l.Name+"/bias", tensor.FromFloat32(bias, units))}, out)
		} else {
			c.node(l.Name, "MatMul", []string{x.name, kname}, out)
		}
	}
	if !isLinear(act) {
		if err := c.activation(l, l.Name+"/"+act, act, out, l.Name); err != nil {
			return nil, err
		}
	}
	return &value{name: l.Name, shape: shape}, nil
}

func (c *converter) activationLayer(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	act := k.str("activation", "")
	if k.err == nil && act == "" {
		k.fail("activation", "missing")
	}
	if k.err != nil {
		return nil, k.err
	}
	if err := c.activation(l, l.Name, act, x.name, l.Name); err != nil {
		return nil, err
	}
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}

// activations maps the Keras and TF.js activation names Convert handles to a canonical name.
var activations = map[string]string{
	"linear": "linear", "relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh",
	"softmax": "softmax", "elu": "elu", "selu": "selu", "exponential": "exponential",
	"swish": "swish", "silu": "swish", "hard_sigmoid": "hard_sigmoid", "hardSigmoid": "hard_sigmoid",
}

func supportedActivation(a string) bool { _, ok := activations[a]; return ok }

func activationNames() []string {
	names := make([]string, 0, len(activations))
	for k := range activations {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func isLinear(act string) bool { return act == "" || act == "linear" }

// scalar adds a float32 scalar initializer.
func (c *converter) scalar(name string, v float32) string {
	return c.init(name, tensor.FromFloat32([]float32{v}))
}

// activation applies a Keras activation to value in, producing out; node names start with
// node. Softmax acts on the channel axis, which is ONNX axis 1 for rank 2 and rank 4 alike.
func (c *converter) activation(l *Layer, node, act, in, out string) error {
	switch activations[act] {
	case "linear":
		c.node(node, "Identity", []string{in}, out)
	case "relu":
		c.node(node, "Relu", []string{in}, out)
	case "sigmoid":
		c.node(node, "Sigmoid", []string{in}, out)
	case "tanh":
		c.node(node, "Tanh", []string{in}, out)
	case "elu":
		c.node(node, "Elu", []string{in}, out, onnx.AttrFloat("alpha", 1))
	case "selu":
		c.node(node, "Selu", []string{in}, out)
	case "exponential":
		c.node(node, "Exp", []string{in}, out)
	case "softmax":
		c.node(node, "Softmax", []string{in}, out, onnx.AttrInt("axis", 1))
	case "relu6":
		c.node(node, "Clip", []string{in, c.scalar(node+"/min", 0), c.scalar(node+"/max", 6)}, out)
	case "swish":
		c.node(node+"/sigmoid", "Sigmoid", []string{in}, out+"/sigmoid")
		c.node(node, "Mul", []string{in, out + "/sigmoid"}, out)
	case "hard_sigmoid": // clip(0.2x + 0.5, 0, 1), as Keras 2 and TF.js
		c.node(node+"/mul", "Mul", []string{in, c.scalar(node+"/slope", 0.2)}, out+"/mul")
		c.node(node+"/add", "Add", []string{out + "/mul", c.scalar(node+"/offset", 0.5)}, out+"/add")
		c.node(node, "Clip", []string{out + "/add", c.scalar(node+"/min", 0), c.scalar(node+"/max", 1)}, out)
	default:
		return fmt.Errorf("tfjs: layer %q (%s): activation %q is not supported (supported: %s)", l.Name, l.Class, act, strings.Join(activationNames(), ", "))
	}
	return nil
}

func (c *converter) reluLayer(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	hasMax := k.present("max_value")
	maxV := k.float("max_value", 0)
	slope := k.float("negative_slope", 0)
	thr := k.float("threshold", 0)
	if k.err != nil {
		return nil, k.err
	}
	if thr != 0 {
		return nil, fmt.Errorf("tfjs: layer %q (ReLU): threshold %v: only 0 is supported", l.Name, thr)
	}
	switch {
	case slope == 0 && !hasMax:
		c.node(l.Name, "Relu", []string{x.name}, l.Name)
	case slope == 0:
		c.node(l.Name, "Clip", []string{x.name, c.scalar(l.Name+"/min", 0), c.scalar(l.Name+"/max", float32(maxV))}, l.Name)
	case !hasMax:
		c.node(l.Name, "LeakyRelu", []string{x.name}, l.Name, onnx.AttrFloat("alpha", float32(slope)))
	default:
		c.node(l.Name+"/leaky", "LeakyRelu", []string{x.name}, l.Name+"/leaky", onnx.AttrFloat("alpha", float32(slope)))
		c.node(l.Name, "Clip", []string{l.Name + "/leaky", c.scalar(l.Name+"/min", -math.MaxFloat32), c.scalar(l.Name+"/max", float32(maxV))}, l.Name)
	}
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}

func (c *converter) leakyReLU(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	alpha := k.float("alpha", 0.3) // Keras's and TF.js's default
	if k.err != nil {
		return nil, k.err
	}
	c.node(l.Name, "LeakyRelu", []string{x.name}, l.Name, onnx.AttrFloat("alpha", float32(alpha)))
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}

func (c *converter) softmaxLayer(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	axis := k.axis("axis", -1)
	if k.err != nil {
		return nil, k.err
	}
	a, err := kerasAxis(axis, x.rank())
	if err != nil {
		return nil, fmt.Errorf("tfjs: layer %q (Softmax): axis %d of a rank-%d input: %v", l.Name, axis, x.rank(), err)
	}
	c.node(l.Name, "Softmax", []string{x.name}, l.Name, onnx.AttrInt("axis", int64(a)))
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}

// pool converts MaxPooling2D and AveragePooling2D. Keras's "same" average excludes the
// padding from the count (count_include_pad 0).
func (c *converter) pool(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	channelsLast(k)
	size := k.ints("pool_size", 2, []int{2, 2}, 1)
	st := k.ints("strides", 2, size, 1)
	mode := k.str("padding", "valid")
	if k.err != nil {
		return nil, k.err
	}
	pad, hw, err := window(l, mode, x.shape[1:3], size, st, []int{1, 1})
	if err != nil {
		return nil, err
	}
	attrs := append([]*onnx.AttributeProto{
		onnx.AttrInts("kernel_shape", int64(size[0]), int64(size[1])),
		onnx.AttrInts("strides", int64(st[0]), int64(st[1])),
	}, pad...)
	op := "MaxPool"
	if l.Class == "AveragePooling2D" {
		op = "AveragePool"
		attrs = append(attrs, onnx.AttrInt("count_include_pad", 0))
	}
	c.node(l.Name, op, []string{x.name}, l.Name, attrs...)
	return &value{name: l.Name, shape: []int{x.shape[0], hw[0], hw[1], x.channels()}}, nil
}

func (c *converter) globalPool(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	channelsLast(k)
	keep := k.boolean("keepdims", false)
	if k.err != nil {
		return nil, k.err
	}
	shape := []int{x.shape[0], x.channels()}
	if keep {
		shape = []int{x.shape[0], 1, 1, x.channels()}
	}
	if l.Class == "GlobalMaxPooling2D" {
		c.node(l.Name, "ReduceMax", []string{x.name}, l.Name, onnx.AttrInts("axes", 2, 3), onnx.AttrInt("keepdims", b2i(keep)))
		return &value{name: l.Name, shape: shape}, nil
	}
	if keep {
		c.node(l.Name, "GlobalAveragePool", []string{x.name}, l.Name)
	} else {
		c.node(l.Name, "GlobalAveragePool", []string{x.name}, l.Name+"/pool")
		c.node(l.Name+"/flatten", "Flatten", []string{l.Name + "/pool"}, l.Name, onnx.AttrInt("axis", 1))
	}
	return &value{name: l.Name, shape: shape}, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// sameShapes checks that the inputs of a merge layer agree everywhere except along axis
// (-1: everywhere) and returns the merged Keras shape.
func sameShapes(l *Layer, ins []*value, axis int) ([]int, error) {
	out := slices.Clone(ins[0].shape)
	for _, v := range ins[1:] {
		if v.rank() != len(out) {
			return nil, fmt.Errorf("tfjs: layer %q (%s): inputs %q %s and %q %s differ in rank", l.Name, l.Class, ins[0].name, shapeString(ins[0].shape), v.name, shapeString(v.shape))
		}
		for i, d := range v.shape {
			switch {
			case i == axis:
				if out[i] < 0 || d < 0 {
					out[i] = -1
				} else {
					out[i] += d
				}
			case out[i] >= 0 && d >= 0 && out[i] != d:
				return nil, fmt.Errorf("tfjs: layer %q (%s): inputs %q %s and %q %s differ in axis %d", l.Name, l.Class, ins[0].name, shapeString(ins[0].shape), v.name, shapeString(v.shape), i)
			case out[i] < 0:
				out[i] = d
			}
		}
	}
	return out, nil
}

func (c *converter) concatenate(l *Layer, ins []*value) (*value, error) {
	if len(ins) < 1 {
		return nil, fmt.Errorf("tfjs: layer %q (Concatenate): no inputs", l.Name)
	}
	k := &cfg{l: l}
	axis := k.axis("axis", -1)
	if k.err != nil {
		return nil, k.err
	}
	r := ins[0].rank()
	ka := axis
	if ka < 0 {
		ka += r
	}
	a, err := kerasAxis(axis, r)
	if err != nil || ka == 0 {
		return nil, fmt.Errorf("tfjs: layer %q (Concatenate): axis %d of rank-%d inputs: want a non-batch axis", l.Name, axis, r)
	}
	shape, err := sameShapes(l, ins, ka)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ins))
	for i, v := range ins {
		names[i] = v.name
	}
	c.node(l.Name, "Concat", names, l.Name, onnx.AttrInt("axis", int64(a)))
	return &value{name: l.Name, shape: shape}, nil
}

// merge converts the element-wise merge layers; their inputs must have equal shapes.
func (c *converter) merge(l *Layer, ins []*value) (*value, error) {
	if len(ins) < 2 || (l.Class == "Subtract" && len(ins) != 2) {
		return nil, fmt.Errorf("tfjs: layer %q (%s): %d inputs", l.Name, l.Class, len(ins))
	}
	shape, err := sameShapes(l, ins, -1)
	if err != nil {
		return nil, err
	}
	if l.Class == "Maximum" {
		names := make([]string, len(ins))
		for i, v := range ins {
			names[i] = v.name
		}
		c.node(l.Name, "Max", names, l.Name)
		return &value{name: l.Name, shape: shape}, nil
	}
	op := map[string]string{"Add": "Add", "Average": "Add", "Subtract": "Sub", "Multiply": "Mul"}[l.Class]
	acc := ins[0].name
	for i, v := range ins[1:] {
		out := fmt.Sprintf("%s/%d", l.Name, i+1)
		if i == len(ins)-2 && l.Class != "Average" {
			out = l.Name
		}
		c.node(out, op, []string{acc, v.name}, out)
		acc = out
	}
	if l.Class == "Average" {
		c.node(l.Name, "Mul", []string{acc, c.scalar(l.Name+"/scale", 1/float32(len(ins)))}, l.Name)
	}
	return &value{name: l.Name, shape: shape}, nil
}

func (c *converter) zeroPadding(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	channelsLast(k)
	if k.err != nil {
		return nil, k.err
	}
	// padding: n, [h, w] or [[top, bottom], [left, right]].
	var p [4]int // top, bottom, left, right
	bad := fmt.Errorf("tfjs: layer %q (ZeroPadding2D): config \"padding\": want n, [h, w] or [[top, bottom], [left, right]], got %v", l.Name, l.Config["padding"])
	switch v := l.Config["padding"].(type) {
	case nil:
		p = [4]int{1, 1, 1, 1} // Keras's default
	case float64:
		n, ok := toInt(v, 0, maxDim)
		if !ok {
			return nil, bad
		}
		p = [4]int{n, n, n, n}
	case []any:
		if len(v) != 2 {
			return nil, bad
		}
		for i, e := range v {
			if n, ok := toInt(e, 0, maxDim); ok {
				p[2*i], p[2*i+1] = n, n
				continue
			}
			pair, ok := e.([]any)
			if !ok || len(pair) != 2 {
				return nil, bad
			}
			for j, f := range pair {
				n, ok := toInt(f, 0, maxDim)
				if !ok {
					return nil, bad
				}
				p[2*i+j] = n
			}
		}
	default:
		return nil, bad
	}
	pads := tensor.FromInt64([]int64{0, 0, int64(p[0]), int64(p[2]), 0, 0, int64(p[1]), int64(p[3])}, 8)
	c.b.Initializer(l.Name+"/pads", pads)
	c.node(l.Name, "Pad", []string{x.name, l.Name + "/pads"}, l.Name)
	shape := slices.Clone(x.shape)
	if shape[1] >= 0 {
		shape[1] += p[0] + p[1]
	}
	if shape[2] >= 0 {
		shape[2] += p[2] + p[3]
	}
	return &value{name: l.Name, shape: shape}, nil
}

// flatten flattens in Keras's order (height, width, channels): a rank-4 value is transposed
// back to NHWC first.
func (c *converter) flatten(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	k := &cfg{l: l}
	channelsLast(k)
	if k.err != nil {
		return nil, k.err
	}
	if x.rank() == 2 {
		c.node(l.Name, "Identity", []string{x.name}, l.Name)
		return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
	}
	c.node(l.Name+"/nhwc", "Transpose", []string{x.name}, l.Name+"/nhwc", onnx.AttrInts("perm", 0, 2, 3, 1))
	c.node(l.Name, "Flatten", []string{l.Name + "/nhwc"}, l.Name, onnx.AttrInt("axis", 1))
	n := 1
	for _, d := range x.shape[1:] {
		if d < 0 {
			n = -1
			break
		}
		n *= d
	}
	return &value{name: l.Name, shape: []int{x.shape[0], n}}, nil
}

// identity converts layers that do nothing at inference (Dropout and the noise layers).
func (c *converter) identity(l *Layer, ins []*value) (*value, error) {
	x, err := one(l, ins, 2, 4)
	if err != nil {
		return nil, err
	}
	c.node(l.Name, "Identity", []string{x.name}, l.Name)
	return &value{name: l.Name, shape: slices.Clone(x.shape)}, nil
}
