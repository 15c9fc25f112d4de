package tfjsref

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Hand-made TF.js layers models for the tests: a Keras topology and weights, written as
// model.json plus weight shards the way tfjs-converter writes them.

// KL is one Keras layer of a test model: name, class, config and the layers it takes.
type KL struct {
	Name, Class string
	Cfg         map[string]any
	In          []string
}

// KW is one weight with its storage: "" (float32), "uint8", "uint16" or "float16".
type KW struct {
	Name  string
	Shape []int
	Data  []float32
	Quant string
}

// TestModel is a model to write: functional unless Seq.
type TestModel struct {
	Layers          []KL
	Inputs, Outputs []string
	Weights         []KW
	Shards          int  // weight files (the bytes are split evenly across them)
	Seq             bool // write a Sequential topology (layers chained, In ignored)
}

func (tm *TestModel) topology() map[string]any {
	var layers []any
	for _, l := range tm.Layers {
		cfg := map[string]any{"name": l.Name}
		for k, v := range l.Cfg {
			cfg[k] = v
		}
		layer := map[string]any{"name": l.Name, "class_name": l.Class, "config": cfg}
		if !tm.Seq {
			var refs []any
			for _, in := range l.In {
				refs = append(refs, []any{in, 0, 0, map[string]any{}})
			}
			calls := []any{}
			if len(refs) > 0 {
				calls = []any{refs}
			}
			layer["inbound_nodes"] = calls
		}
		layers = append(layers, layer)
	}
	if tm.Seq {
		return map[string]any{"keras_version": "2.2.4", "backend": "tensorflow",
			"model_config": map[string]any{"class_name": "Sequential", "config": map[string]any{"name": "seq", "layers": layers}}}
	}
	refs := func(names []string) []any {
		var out []any
		for _, n := range names {
			out = append(out, []any{n, 0, 0})
		}
		return out
	}
	return map[string]any{"keras_version": "2.2.4", "backend": "tensorflow",
		"model_config": map[string]any{"class_name": "Model", "config": map[string]any{
			"name": "m", "layers": layers, "input_layers": refs(tm.Inputs), "output_layers": refs(tm.Outputs)}}}
}

// encode stores the weights and returns the manifest specs, the bytes, and the values as
// TF.js will read them back (dequantised in float64: q*scale + min).
func (tm *TestModel) encode() ([]any, []byte, map[string][]float64) {
	var specs []any
	var buf []byte
	vals := map[string][]float64{}
	le := binary.LittleEndian
	for _, w := range tm.Weights {
		spec := map[string]any{"name": w.Name, "shape": w.Shape, "dtype": "float32"}
		deq := make([]float64, len(w.Data))
		switch w.Quant {
		case "":
			for i, v := range w.Data {
				buf = le.AppendUint32(buf, math.Float32bits(v))
				deq[i] = float64(v)
			}
		case "uint8", "uint16":
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range w.Data {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
			levels := 255.0
			if w.Quant == "uint16" {
				levels = 65535
			}
			scale := (hi - lo) / levels
			if scale == 0 {
				scale = 1
			}
			for i, v := range w.Data {
				q := math.Round((float64(v) - lo) / scale)
				if w.Quant == "uint8" {
					buf = append(buf, byte(q))
				} else {
					buf = le.AppendUint16(buf, uint16(q))
				}
				deq[i] = q*scale + lo
			}
			spec["quantization"] = map[string]any{"dtype": w.Quant, "min": lo, "scale": scale}
		case "float16":
			for i, v := range w.Data {
				h := toHalf(v)
				buf = le.AppendUint16(buf, h)
				deq[i] = halfToFloat(h)
			}
			spec["quantization"] = map[string]any{"dtype": "float16"}
		}
		specs = append(specs, spec)
		vals[w.Name] = deq
	}
	return specs, buf, vals
}

// Write writes model.json and its shards into dir and returns model.json's path and the
// weights as TF.js reads them back (dequantised, in float64).
func (tm *TestModel) Write(dir string) (string, map[string][]float64, error) {
	specs, buf, vals := tm.encode()
	shards := max(tm.Shards, 1)
	var paths []string
	for i := range shards {
		lo, hi := len(buf)*i/shards, len(buf)*(i+1)/shards
		p := "group1-shard" + strconv.Itoa(i+1) + "of" + strconv.Itoa(shards) + ".bin"
		if err := os.WriteFile(filepath.Join(dir, p), buf[lo:hi], 0o644); err != nil {
			return "", nil, err
		}
		paths = append(paths, p)
	}
	mf := map[string]any{
		"format":          "layers-model",
		"modelTopology":   tm.topology(),
		"weightsManifest": []any{map[string]any{"paths": paths, "weights": specs}},
	}
	b, err := json.MarshalIndent(mf, "", " ")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "model.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", nil, err
	}
	return path, vals, nil
}

// toHalf rounds a float32 to the nearest IEEE half (normal range only, enough for weights in
// [-4, 4]).
func toHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 {
		return sign // flush tiny values to zero
	}
	h := uint32(exp)<<10 | mant>>13
	if mant&0x1fff > 0x1000 || (mant&0x1fff == 0x1000 && h&1 == 1) {
		h++ // round to nearest even
	}
	return sign | uint16(h)
}

// halfToFloat widens a normal half or zero.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	if exp == 0 {
		return sign * mant * math.Pow(2, -24)
	}
	return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
}

// randWeights returns n values uniform in [-scale, scale].
func randWeights(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	return v
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Wts draws a weight of the given shape uniform in [-scale, scale] (positive in [0.5, 1.5]
// when pos, for variances), stored as quant.
func Wts(rng *rand.Rand, name, quant string, scale float64, pos bool, shape ...int) KW {
	v := randWeights(rng, numel(shape), scale)
	if pos {
		for i := range v {
			v[i] = 1 + v[i]/float32(2*scale)
		}
	}
	return KW{Name: name, Shape: shape, Data: v, Quant: quant}
}

// ModelA is a functional model with every layer type, free input size, and weights in every
// storage (float32, uint8, uint16, float16) spread over three shards.
func ModelA() *TestModel {
	rng := rand.New(rand.NewPCG(7, 7))
	in := func(names ...string) []string { return names }
	return &TestModel{
		Inputs:  []string{"in"},
		Outputs: []string{"d2", "drop", "sm", "cat2", "act_hs", "act_exp", "act_r6", "p3"},
		Shards:  3,
		Layers: []KL{
			{"in", "InputLayer", map[string]any{"batch_input_shape": []any{nil, 11, 10, 3}, "dtype": "float32"}, nil},
			{"c1", "Conv2D", map[string]any{"filters": 4, "kernel_size": []int{3, 3}, "strides": []int{2, 2}, "padding": "same", "activation": "relu", "use_bias": true, "data_format": "channels_last"}, in("in")},
			{"b1", "BatchNormalization", map[string]any{"axis": 3, "epsilon": 0.01, "center": true, "scale": true}, in("c1")},
			{"c2", "Conv2D", map[string]any{"filters": 6, "kernel_size": []int{2, 3}, "strides": 1, "padding": "same", "dilation_rate": []int{1, 2}, "use_bias": false, "activation": "linear"}, in("b1")},
			{"a2", "Activation", map[string]any{"activation": "sigmoid"}, in("c2")},
			{"c2g", "Conv2D", map[string]any{"filters": 6, "kernel_size": 3, "groups": 2, "padding": "valid", "activation": "tanh"}, in("b1")},
			{"p1", "MaxPooling2D", map[string]any{"pool_size": []int{3, 3}, "strides": []int{2, 2}, "padding": "same"}, in("a2")},
			{"p2", "AveragePooling2D", map[string]any{"pool_size": []int{3, 3}, "strides": []int{2, 2}, "padding": "same"}, in("a2")},
			{"p3", "AveragePooling2D", map[string]any{"pool_size": []int{2, 2}, "strides": nil, "padding": "valid"}, in("a2")},
			{"p4", "AveragePooling2D", map[string]any{"pool_size": []int{3, 2}, "strides": []int{1, 1}, "padding": "same"}, in("a2")},
			{"cat", "Concatenate", map[string]any{"axis": -1}, in("p1", "p2")},
			{"z", "ZeroPadding2D", map[string]any{"padding": [][]int{{1, 0}, {2, 1}}}, in("cat")},
			{"c3", "Conv2D", map[string]any{"filters": 5, "kernel_size": 1, "activation": "elu"}, in("z")},
			{"c4", "Conv2D", map[string]any{"filters": 5, "kernel_size": 1, "activation": "swish"}, in("z")},
			{"add", "Add", nil, in("c3", "c4", "c3")},
			{"sub", "Subtract", nil, in("c3", "c4")},
			{"mul", "Multiply", nil, in("c3", "c4")},
			{"mx", "Maximum", nil, in("c3", "c4")},
			{"avg", "Average", nil, in("c3", "c4", "add")},
			{"r6", "ReLU", map[string]any{"max_value": 0.6, "negative_slope": 0.1, "threshold": 0}, in("avg")},
			{"rl", "ReLU", nil, in("sub")},
			{"rc", "ReLU", map[string]any{"max_value": 0.05}, in("mul")},
			{"lk", "LeakyReLU", map[string]any{"alpha": 0.2}, in("mx")},
			{"sm", "Softmax", map[string]any{"axis": -1}, in("lk")},
			{"act_sel", "Activation", map[string]any{"activation": "selu"}, in("r6")},
			{"act_hs", "Activation", map[string]any{"activation": "hard_sigmoid"}, in("rl")},
			{"act_exp", "Activation", map[string]any{"activation": "exponential"}, in("rc")},
			{"act_r6", "Activation", map[string]any{"activation": "relu6"}, in("act_sel")},
			{"cat2", "Concatenate", map[string]any{"axis": 2}, in("c3", "c4")},
			{"gap", "GlobalAveragePooling2D", nil, in("sm")},
			{"gmp", "GlobalMaxPooling2D", nil, in("c2g")},
			{"catd", "Concatenate", map[string]any{"axis": -1}, in("gap", "gmp")},
			{"d1", "Dense", map[string]any{"units": 4, "activation": "softmax"}, in("catd")},
			{"bnd", "BatchNormalization", map[string]any{"axis": -1, "scale": false, "epsilon": 0.001}, in("d1")},
			{"d4", "Dense", map[string]any{"units": 3, "activation": "relu6"}, in("p4")},
			{"drop", "Dropout", map[string]any{"rate": 0.5}, in("d4")},
			{"d2", "Dense", map[string]any{"units": 2, "use_bias": false, "activation": "hard_sigmoid"}, in("bnd")},
		},
		Weights: []KW{
			Wts(rng, "c1/kernel", "uint8", 0.5, false, 3, 3, 3, 4),
			Wts(rng, "c1/bias", "", 0.2, false, 4),
			Wts(rng, "b1/gamma", "float16", 1, false, 4),
			Wts(rng, "b1/beta", "uint16", 0.5, false, 4),
			Wts(rng, "b1/moving_mean", "", 0.3, false, 4),
			Wts(rng, "b1/moving_variance", "uint8", 1, true, 4),
			Wts(rng, "c2/kernel", "float16", 0.5, false, 2, 3, 4, 6),
			Wts(rng, "c2g/kernel", "uint8", 0.5, false, 3, 3, 2, 6),
			Wts(rng, "c2g/bias", "uint8", 0.5, false, 6),
			Wts(rng, "c3/kernel", "", 0.5, false, 1, 1, 12, 5),
			Wts(rng, "c3/bias", "", 0.1, false, 5),
			Wts(rng, "c4/kernel", "uint16", 0.5, false, 1, 1, 12, 5),
			Wts(rng, "c4/bias", "", 0.1, false, 5),
			Wts(rng, "d1/kernel", "uint8", 1, false, 11, 4),
			Wts(rng, "d1/bias", "", 0.1, false, 4),
			Wts(rng, "bnd/beta", "", 0.1, false, 4),
			Wts(rng, "bnd/moving_mean", "", 0.1, false, 4),
			Wts(rng, "bnd/moving_variance", "", 0.01, true, 4),
			Wts(rng, "d4/kernel", "float16", 2, false, 6, 3),
			Wts(rng, "d4/bias", "", 0.5, false, 3),
			Wts(rng, "d2/kernel", "uint8", 1, false, 4, 2),
		},
	}
}

// ModelB is a Sequential model without an InputLayer whose Flatten fixes the input size, so
// the "same" padding of its stride-2 convolution is written as explicit, asymmetric pads.
func ModelB() *TestModel {
	rng := rand.New(rand.NewPCG(8, 8))
	return &TestModel{
		Seq: true,
		Layers: []KL{
			{"s1", "Conv2D", map[string]any{"batch_input_shape": []any{nil, 7, 6, 2}, "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}, nil},
			{"s2", "MaxPooling2D", map[string]any{"pool_size": 2, "strides": 1, "padding": "same"}, nil},
			{"s3", "Flatten", nil, nil},
			{"s4", "Dense", map[string]any{"units": 5, "activation": "tanh"}, nil},
			{"s5", "GaussianNoise", map[string]any{"stddev": 0.1}, nil},
			{"s6", "Dense", map[string]any{"units": 2}, nil},
		},
		Weights: []KW{
			Wts(rng, "s1/kernel", "", 0.5, false, 3, 3, 2, 3),
			Wts(rng, "s1/bias", "", 0.1, false, 3),
			Wts(rng, "s4/kernel", "uint8", 0.5, false, 36, 5),
			Wts(rng, "s4/bias", "uint16", 0.1, false, 5),
			Wts(rng, "s6/kernel", "float16", 0.5, false, 5, 2),
			Wts(rng, "s6/bias", "", 0.1, false, 2),
		},
	}
}
