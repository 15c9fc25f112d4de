package imagemodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Limits against hostile metadata.
const (
	MaxDim     = 1 << 14
	MaxLayers  = 8
	MaxFilters = 4096
)

// Parameter kinds.
const (
	KindConv  = "conv"
	KindConvT = "convT"
	KindDense = "dense"
	KindBias  = "bias"
)

// ParamShape names one parameter (its initializer name in the exported file) and gives its
// shape and kind (KindConv, KindConvT, KindDense for weights; KindBias).
type ParamShape struct {
	Name  string
	Shape []int
	Kind  string
}

// Pair returns a layer's weight (of the given kind) and bias, in that order.
func Pair(name, kind string, w, b []int) []ParamShape {
	return []ParamShape{{name + ".W", w, kind}, {name + ".B", b, KindBias}}
}

// Count returns the number of values of shapes.
func Count(shapes []ParamShape) int {
	n := 0
	for _, s := range shapes {
		n += tensor.Numel(s.Shape)
	}
	return n
}

// Zeros returns zero float32 tensors of the given shapes.
func Zeros(shapes []ParamShape) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		ts[i] = tensor.New(tensor.Float32, s.Shape...)
	}
	return ts
}

// CheckParam checks that t is a float32 tensor of the given shape holding its values.
func CheckParam(pkg, name string, t *tensor.Tensor, shape []int) error {
	if t == nil {
		return fmt.Errorf("%s: parameter %s is missing", pkg, name)
	}
	if t.DType != tensor.Float32 {
		return fmt.Errorf("%s: parameter %s is %v, want float32", pkg, name, t.DType)
	}
	if !tensor.SameShape(t.Shape, shape) {
		return fmt.Errorf("%s: parameter %s has shape %s, want %s", pkg, name, tensor.ShapeString(t.Shape), tensor.ShapeString(shape))
	}
	if d, ok := t.Data.([]float32); !ok || len(d) != tensor.Numel(shape) {
		return fmt.Errorf("%s: parameter %s does not hold %d float32 values", pkg, name, tensor.Numel(shape))
	}
	return nil
}

// CheckParams checks that ts has one tensor per shape, each as CheckParam wants.
func CheckParams(pkg string, ts []*tensor.Tensor, shapes []ParamShape) error {
	if len(ts) != len(shapes) {
		return fmt.Errorf("%s: %d parameter tensors, want %d", pkg, len(ts), len(shapes))
	}
	for i, s := range shapes {
		if err := CheckParam(pkg, s.Name, ts[i], s.Shape); err != nil {
			return err
		}
	}
	return nil
}

// ReadParams reads the initializers named by shapes from the graphs of ms (a later model's
// initializer of the same name wins) and checks them, in shapes order.
func ReadParams(pkg string, shapes []ParamShape, ms ...*onnx.ModelProto) ([]*tensor.Tensor, error) {
	inits := map[string]*onnx.TensorProto{}
	for _, m := range ms {
		for _, tp := range m.GetGraph().GetInitializer() {
			inits[tp.GetName()] = tp
		}
	}
	var ts []*tensor.Tensor
	for _, s := range shapes {
		tp, ok := inits[s.Name]
		if !ok {
			return nil, fmt.Errorf("%s: initializer %q is missing", pkg, s.Name)
		}
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: initializer %q: %w", pkg, s.Name, err)
		}
		if err := CheckParam(pkg, s.Name, t, s.Shape); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// Clone returns deep copies of ts.
func Clone(ts []*tensor.Tensor) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ts))
	for i, t := range ts {
		out[i] = t.Clone()
	}
	return out
}

// Slices returns the tensors' float32 data (aliasing ts).
func Slices(ts []*tensor.Tensor) [][]float32 {
	out := make([][]float32, len(ts))
	for i, t := range ts {
		out[i] = t.F32()
	}
	return out
}

// Info returns the contract metadata with config encoded as JSON into info.Config.
func Info(pkg string, info imagegen.Info, config any) (imagegen.Info, error) {
	cj, err := json.Marshal(config)
	if err != nil {
		return imagegen.Info{}, fmt.Errorf("%s: encoding the config: %w", pkg, err)
	}
	info.Config = cj
	return info, nil
}

// ReadConfig reads m's contract metadata, checks that m is a kind, and decodes its
// gendl.config metadata into config (a pointer). The caller validates config and checks it
// against the returned Info.
func ReadConfig(pkg string, m *onnx.ModelProto, kind imagegen.Kind, config any) (imagegen.Info, error) {
	info, err := imagegen.ReadInfo(m)
	if err != nil {
		return info, fmt.Errorf("%s: %s", pkg, strings.TrimPrefix(err.Error(), "imagegen: "))
	}
	if info.Kind != kind {
		return info, fmt.Errorf("%s: model is a %s, not a %s", pkg, info.Kind, kind)
	}
	if len(info.Config) == 0 {
		return info, fmt.Errorf("%s: model has no %s metadata", pkg, imagegen.MetaConfig)
	}
	if err := json.NewDecoder(bytes.NewReader(info.Config)).Decode(config); err != nil {
		return info, fmt.Errorf("%s: %s metadata is not a valid config: %w", pkg, imagegen.MetaConfig, err)
	}
	return info, nil
}

// EncodeFile writes m to path atomically.
func EncodeFile(pkg, path string, m *onnx.ModelProto) error {
	if err := onnx.EncodeFile(path, m); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	return nil
}

// LoadFile decodes the file at path and reads it with load, naming the file in load's errors.
func LoadFile[T any](pkg, path string, load func(*onnx.ModelProto) (T, error)) (T, error) {
	var zero T
	m, err := onnx.DecodeFile(path)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", pkg, err)
	}
	mm, err := load(m)
	if err != nil {
		return zero, fmt.Errorf("%w (file %s)", err, path)
	}
	return mm, nil
}

// ShapeString formats an image shape as the gendl.image_shape metadata value, "C,H,W".
func ShapeString(s [3]int) string { return fmt.Sprintf("%d,%d,%d", s[0], s[1], s[2]) }

// SamePads returns the pads (begin, end) on one axis of a Keras "same" convolution of kernel
// k and stride s on an input of size in, and, for s dividing in, of its transpose: the
// padding (out-1)·s + k - in split with the odd pixel at the end.
func SamePads(in, k, s int) (begin, end int) {
	out := (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return total / 2, total - total/2
}

// HalvedMaps returns the spatial size after each of n "same" stride-2 convolutions of an
// h x w input: ceil(size/2) each time.
func HalvedMaps(h, w, n int) [][2]int {
	var out [][2]int
	for range n {
		h, w = (h+1)/2, (w+1)/2
		out = append(out, [2]int{h, w})
	}
	return out
}

// Flat is the size of the flattened output of n "same" stride-2 convolutions of an h x w
// input whose last has f filters.
func Flat(h, w, n, f int) int {
	m := HalvedMaps(h, w, n)
	last := m[len(m)-1]
	return f * last[0] * last[1]
}
