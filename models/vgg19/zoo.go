package vgg19

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// The ONNX model zoo's vgg19-7.onnx, as its layout is known from listings of the file (the
// file itself is 548 MB and in no registry): converted from MXNet Gluon's vgg19 by MXNet's
// ONNX exporter (ONNX 1.2.1), IR version 3, opset 7, every weight an initializer that is
// also listed in graph.input.
//
//	input  "data"                        float32 [1, 3, 224, 224]
//	Conv   "vgg0_conv<k>_fwd"            (X, vgg0_conv<k>_weight [Cout,Cin,3,3], vgg0_conv<k>_bias)
//	       kernel_shape 3,3  pads 1,1,1,1  strides 1,1  dilations 1,1  group 1
//	Relu   "vgg0_relu<k>_fwd"            k = 0..15
//	MaxPool "vgg0_pool<b>_fwd"           kernel_shape 2,2  strides 2,2  pads 0,0,0,0; b = 0..4
//	Flatten "flatten_72" -> Gemm "vgg0_dense0_fwd" (transB 1) -> Relu "vgg0_dense0_relu_fwd"
//	  -> Dropout "vgg0_dropout0_fwd" -> Flatten "flatten_77" -> Gemm "vgg0_dense1_fwd" -> Relu
//	  -> Dropout "vgg0_dropout1_fwd" -> Flatten "flatten_82" -> Gemm "vgg0_dense2_fwd"
//	output "vgg0_dense2_fwd"             float32 [1, 1000] (logits: no Softmax)
//
// Node names equal their output value names. The zoo's other VGG19, vgg19-caffe2-N.onnx, is a
// different file (input "data_0", Caffe names conv1_1_w_0, BGR "caffe" preprocessing).
const (
	ZooOpset  = 7
	ZooInput  = "data"
	ZooOutput = "vgg0_dense2_fwd"
	zooFC     = 4096
	zooClass  = 1000
)

// zooFlatten names the three Flatten nodes of the head as MXNet's exporter numbered them.
var zooFlatten = [3]string{"flatten_72", "flatten_77", "flatten_82"}

// Flavor selects the naming and conventions of the file BuildZoo writes.
type Flavor int

const (
	// FlavorZoo is the ONNX model zoo's vgg19-7.onnx (above).
	FlavorZoo Flavor = iota
	// FlavorCaffe2 is named like the zoo's vgg19-caffe2-N.onnx: input "data_0", weights
	// conv1_1_w_0 / conv1_1_b_0 ... fc8_w_0, output "prob_1" after a Softmax (the value
	// names between are illustrative). Its names say BGR "caffe" preprocessing.
	FlavorCaffe2
	// FlavorKeras is a Keras VGG19 (include_top=False) as Keras-to-ONNX converters write it:
	// opset 13, NHWC input "input_1" [N, H, W, 3] transposed to NCHW, node names like
	// "vgg19/block1_conv1/BiasAdd", 'same' padding as auto_pad SAME_UPPER, some biases as
	// separate Add nodes, and block5_pool transposed back to NHWC. No classifier head.
	FlavorKeras
)

// ZooOptions shape the model BuildZoo writes.
type ZooOptions struct {
	// Batch, Height and Width are the declared input size; 0 means 1, 224, 224 (the zoo's).
	// The features accept any H, W >= 32; the head's first Gemm takes C*(H/32)*(W/32) inputs,
	// 25088 at 224x224. FlavorKeras declares N, H and W symbolic.
	Batch, Height, Width int
	// Channels is block 1's width; 0 means 64 (VGG19). Smaller values shrink every layer in
	// proportion (the head's 4096 units too), for fast tests; the layout stays the same.
	Channels int
	// NoHead stops the graph at block5_pool (then the graph output).
	NoHead bool
	// Flavor is the file's naming; the zero value is the zoo's vgg19-7.onnx.
	Flavor Flavor
}

func (o ZooOptions) withDefaults() ZooOptions {
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Height == 0 {
		o.Height = 224
	}
	if o.Width == 0 {
		o.Width = 224
	}
	if o.Channels == 0 {
		o.Channels = StandardWidth
	}
	if o.Flavor == FlavorKeras {
		o.NoHead = true
	}
	return o
}

// ZooConvName, ZooReluName and ZooPoolName are the zoo's names of the k-th conv (0..15),
// its Relu and the b-th pool (0..4), nodes and values alike.
func ZooConvName(k int) string { return fmt.Sprintf("vgg0_conv%d_fwd", k) }
func ZooReluName(k int) string { return fmt.Sprintf("vgg0_relu%d_fwd", k) }
func ZooPoolName(b int) string { return fmt.Sprintf("vgg0_pool%d_fwd", b) }

// flavorNames gives each flavor's names.
type flavorNames struct {
	opset           int64
	input           string
	weight, bias    func(k int, keras string) string
	conv, relu      func(k int, keras string) string // node = value names
	pool            func(b int, keras string) string
	fcW, fcB, fc    func(i int) string
	fcRelu, fcDrop  func(i int) string
	flatten         func(i int) string
	softmax, output string
}

func namesFor(f Flavor) flavorNames {
	fi := func(format string) func(int) string { return func(i int) string { return fmt.Sprintf(format, i) } }
	switch f {
	case FlavorCaffe2:
		caffe := func(keras string) string { // block3_conv2 -> conv3_2
			var b, i int
			fmt.Sscanf(keras, "block%d_conv%d", &b, &i)
			return fmt.Sprintf("conv%d_%d", b, i)
		}
		return flavorNames{
			opset: 9, input: "data_0",
			weight: func(_ int, k string) string { return caffe(k) + "_w_0" },
			bias:   func(_ int, k string) string { return caffe(k) + "_b_0" },
			conv:   func(_ int, k string) string { return caffe(k) + "_1" },
			relu:   func(_ int, k string) string { return caffe(k) + "_2" },
			pool:   func(b int, _ string) string { return fmt.Sprintf("pool%d_1", b+1) },
			fcW:    func(i int) string { return fmt.Sprintf("fc%d_w_0", i+6) },
			fcB:    func(i int) string { return fmt.Sprintf("fc%d_b_0", i+6) },
			fc:     func(i int) string { return fmt.Sprintf("fc%d_1", i+6) },
			fcRelu: func(i int) string { return fmt.Sprintf("fc%d_2", i+6) },
			fcDrop: func(i int) string { return fmt.Sprintf("fc%d_3", i+6) },
			flatten: func(i int) string {
				if i == 0 {
					return "flatten_1"
				}
				return ""
			},
			softmax: "prob_1", output: "prob_1",
		}
	case FlavorKeras:
		return flavorNames{
			opset: 13, input: "input_1",
			weight: func(_ int, k string) string { return "vgg19/" + k + "/Conv2D/ReadVariableOp:0" },
			bias:   func(_ int, k string) string { return "vgg19/" + k + "/BiasAdd/ReadVariableOp:0" },
			conv:   func(_ int, k string) string { return "vgg19/" + k + "/BiasAdd:0" },
			relu:   func(_ int, k string) string { return "vgg19/" + k + "/Relu:0" },
			pool:   func(_ int, k string) string { return "vgg19/" + k + "/MaxPool:0" },
		}
	}
	return flavorNames{
		opset: ZooOpset, input: ZooInput,
		weight: func(k int, _ string) string { return fmt.Sprintf("vgg0_conv%d_weight", k) },
		bias:   func(k int, _ string) string { return fmt.Sprintf("vgg0_conv%d_bias", k) },
		conv:   func(k int, _ string) string { return ZooConvName(k) },
		relu:   func(k int, _ string) string { return ZooReluName(k) },
		pool:   func(b int, _ string) string { return ZooPoolName(b) },
		fcW:    fi("vgg0_dense%d_weight"), fcB: fi("vgg0_dense%d_bias"), fc: fi("vgg0_dense%d_fwd"),
		fcRelu: fi("vgg0_dense%d_relu_fwd"), fcDrop: fi("vgg0_dropout%d_fwd"),
		flatten: func(i int) string { return zooFlatten[i] },
		output:  ZooOutput,
	}
}

// BuildZoo returns a VGG19 in the layout of the zoo's vgg19-7.onnx (or another Flavor) with
// random weights drawn from rng: He-uniform weights (U(±sqrt(6/fan_in)), so activations
// keep their scale through the 16 convs and the head) and biases U(±0.01). The same rng
// state gives the same model. Weights are generated straight into raw_data, so the full
// model (143.7M parameters) costs its 575 MB once, plus what the caller does with it.
func BuildZoo(rng *rand.Rand, opts ZooOptions) (*onnx.ModelProto, error) {
	if rng == nil {
		return nil, errors.New("vgg19: BuildZoo: nil random source")
	}
	o := opts.withDefaults()
	if o.Batch < 1 || o.Height < 32 || o.Width < 32 || o.Channels < 1 {
		return nil, fmt.Errorf("vgg19: BuildZoo: batch %d, size %dx%d, channels %d: want batch >= 1, H and W >= 32 (five 2x2 pools), channels >= 1",
			o.Batch, o.Height, o.Width, o.Channels)
	}
	nm := namesFor(o.Flavor)
	keras := o.Flavor == FlavorKeras
	b := onnx.NewBuilder("vgg19", nm.opset)
	cur := nm.input
	if keras {
		b.InputDims(nm.input, tensor.Float32, onnx.Sym("N"), onnx.Sym("H"), onnx.Sym("W"), onnx.Fixed(3))
		b.NamedNode("vgg19/block1_conv1/Conv2D__6", "Transpose", []string{cur}, []string{"vgg19/block1_conv1/Conv2D__6:0"},
			onnx.AttrInts("perm", 0, 3, 1, 2))
		cur = "vgg19/block1_conv1/Conv2D__6:0"
	} else {
		b.Input(nm.input, tensor.Float32, int64(o.Batch), 3, int64(o.Height), int64(o.Width))
	}

	// Initializers are declared without data here and filled in the built model, so that the
	// Builder's copy of the model does not duplicate hundreds of megabytes.
	type weight struct {
		name  string
		shape []int64
		bound float64
	}
	var weights []weight
	init := func(name string, bound float64, shape ...int64) {
		weights = append(weights, weight{name, shape, bound})
		b.InitializerProto(&onnx.TensorProto{Name: proto.String(name), Dims: shape, DataType: proto.Int32(int32(tensor.Float32))})
	}

	specs := Layers()
	c, k := int64(3), 0
	for _, spec := range specs {
		if spec.Kind == Pool {
			pool := nm.pool(spec.Block-1, spec.Name)
			attrs := []*onnx.AttributeProto{onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("pads", 0, 0, 0, 0), onnx.AttrInts("strides", 2, 2)}
			if keras {
				attrs = []*onnx.AttributeProto{onnx.AttrString("auto_pad", "VALID"), onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2)}
			}
			b.NamedNode(pool, "MaxPool", []string{cur}, []string{pool}, attrs...)
			cur = pool
			continue
		}
		cout := int64(o.Channels * spec.Channels)
		wn, bn, conv, relu := nm.weight(k, spec.Name), nm.bias(k, spec.Name), nm.conv(k, spec.Name), nm.relu(k, spec.Name)
		init(wn, math.Sqrt(6/float64(c*9)), cout, c, 3, 3)
		switch {
		case keras && k%2 == 1:
			// A bias added by its own node, as some converters leave it.
			init(bn, 0.01, 1, cout, 1, 1)
			b.NamedNode(conv+"/conv", "Conv", []string{cur, wn}, []string{conv + "/conv"},
				onnx.AttrString("auto_pad", "SAME_UPPER"), onnx.AttrInts("dilations", 1, 1), onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("strides", 1, 1))
			b.NamedNode(conv, "Add", []string{conv + "/conv", bn}, []string{conv})
		case keras:
			init(bn, 0.01, cout)
			b.NamedNode(conv, "Conv", []string{cur, wn, bn}, []string{conv},
				onnx.AttrString("auto_pad", "SAME_UPPER"), onnx.AttrInts("dilations", 1, 1), onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("strides", 1, 1))
		default:
			init(bn, 0.01, cout)
			b.NamedNode(conv, "Conv", []string{cur, wn, bn}, []string{conv},
				onnx.AttrInts("dilations", 1, 1), onnx.AttrInt("group", 1), onnx.AttrInts("kernel_shape", 3, 3),
				onnx.AttrInts("pads", 1, 1, 1, 1), onnx.AttrInts("strides", 1, 1))
		}
		b.NamedNode(relu, "Relu", []string{conv}, []string{relu})
		cur, c = relu, cout
		k++
	}
	h, w := int64(o.Height>>5), int64(o.Width>>5)
	switch {
	case keras:
		b.NamedNode("vgg19/block5_pool/MaxPool__38", "Transpose", []string{cur}, []string{"block5_pool"}, onnx.AttrInts("perm", 0, 2, 3, 1))
		b.OutputDims("block5_pool", tensor.Float32, onnx.Sym("N"), onnx.UnknownDim, onnx.UnknownDim, onnx.Fixed(c))
	case o.NoHead:
		b.Output(cur, tensor.Float32, int64(o.Batch), c, h, w)
	default:
		in := c * h * w
		units := max(int64(zooFC*o.Channels/StandardWidth), 1)
		for i := range 3 {
			out := units
			if i == 2 {
				out = zooClass
			}
			if fl := nm.flatten(i); fl != "" {
				b.NamedNode(fl, "Flatten", []string{cur}, []string{fl}, onnx.AttrInt("axis", 1))
				cur = fl
			}
			wn, bn, fwd := nm.fcW(i), nm.fcB(i), nm.fc(i)
			init(wn, math.Sqrt(6/float64(in)), out, in)
			init(bn, 0.01, out)
			b.NamedNode(fwd, "Gemm", []string{cur, wn, bn}, []string{fwd},
				onnx.AttrFloat("alpha", 1), onnx.AttrFloat("beta", 1), onnx.AttrInt("transA", 0), onnx.AttrInt("transB", 1))
			cur, in = fwd, out
			if i < 2 {
				relu, drop := nm.fcRelu(i), nm.fcDrop(i)
				b.NamedNode(relu, "Relu", []string{fwd}, []string{relu})
				b.NamedNode(drop, "Dropout", []string{relu}, []string{drop}, onnx.AttrFloat("ratio", 0.5))
				cur = drop
			}
		}
		if nm.softmax != "" {
			b.NamedNode(nm.softmax, "Softmax", []string{cur}, []string{nm.softmax}, onnx.AttrInt("axis", 1))
			cur = nm.softmax
		}
		b.Output(cur, tensor.Float32, int64(o.Batch), zooClass)
	}
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("vgg19: BuildZoo: %w", err)
	}
	byName := map[string]*onnx.TensorProto{}
	for _, tp := range m.GetGraph().GetInitializer() {
		byName[tp.GetName()] = tp
	}
	for _, wt := range weights {
		byName[wt.name].RawData = uniformRaw(rng, tensor.Numel(int64sToInts(wt.shape)), wt.bound)
	}
	return m, nil
}

// uniformRaw returns n float32 values U(±bound), little-endian.
func uniformRaw(rng *rand.Rand, n int, bound float64) []byte {
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32((2*rng.Float64()-1)*bound)))
	}
	return raw
}

func int64sToInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}
