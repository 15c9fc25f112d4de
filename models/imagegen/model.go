package imagegen

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Model is an image model that follows the contract, planned for execution.
type Model struct {
	// Name says where the model came from in messages (a file path, "embedded ...").
	Name  string
	Proto *onnx.ModelProto
	Info  Info
	Plan  *engine.Plan
	// Classes is the classifier's number of classes, Features the size of its features (0
	// when the file leaves them symbolic); 0 for other kinds.
	Classes, Features int
	batch             int // fixed batch size of the graph, 0 if any
}

// LoadFile reads, checks and plans the model at path (external data resolves in its
// directory).
func LoadFile(path string) (*Model, error) {
	m, err := onnx.DecodeFile(path)
	if err != nil {
		return nil, fmt.Errorf("imagegen: %s: %w", path, err)
	}
	return FromProto(m, path, engine.Options{BaseDir: filepath.Dir(path)})
}

// Decode reads, checks and plans a model from bytes (an embedded model); name is for
// messages.
func Decode(b []byte, name string) (*Model, error) {
	m, err := onnx.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("imagegen: %s: %w", name, err)
	}
	return FromProto(m, name, engine.Options{})
}

// FromProto checks a decoded model against the contract and plans it; name is for messages.
func FromProto(m *onnx.ModelProto, name string, opt engine.Options) (*Model, error) {
	wrap := func(err error) error {
		return fmt.Errorf("imagegen: %s: %s", name, strings.TrimPrefix(err.Error(), "imagegen: "))
	}
	info, err := ReadInfo(m)
	if err != nil {
		return nil, wrap(err)
	}
	plan, err := engine.New(m, opt)
	if err != nil {
		return nil, wrap(err)
	}
	mod := &Model{Name: name, Proto: m, Info: info, Plan: plan}
	if err := mod.checkGraph(); err != nil {
		return nil, wrap(err)
	}
	return mod, nil
}

// Expect returns an error unless the model is of one of the given kinds.
func (m *Model) Expect(kinds ...Kind) error {
	for _, k := range kinds {
		if m.Info.Kind == k {
			return nil
		}
	}
	want := make([]string, len(kinds))
	for i, k := range kinds {
		want[i] = string(k)
	}
	return fmt.Errorf("imagegen: %s is a %s model, want a %s", m.Name, m.Info.Kind, strings.Join(want, " or "))
}

// ports lists the inputs and outputs of each kind with their non-batch dimensions (-1: any).
func (m *Model) ports() (ins, outs map[string][]int) {
	i := m.Info
	img := []int{i.C, i.H, i.W}
	lat := []int{i.LatentDim}
	switch i.Kind {
	case VAEDecoder, DCGANGenerator:
		return map[string][]int{InputZ: lat}, map[string][]int{OutputImage: img}
	case VAEEncoder:
		return map[string][]int{InputImage: img}, map[string][]int{OutputZMean: lat, OutputZLogVar: lat}
	}
	n := -1
	if len(i.Classes) > 0 {
		n = len(i.Classes)
	}
	return map[string][]int{InputImage: img}, map[string][]int{OutputLogits: {n}, OutputFeatures: {-1}}
}

// describe says what a declared shape is, for errors.
func describe(v engine.ValueInfo) string {
	if !v.HasShape {
		return "no declared shape"
	}
	s := v.String()
	return "shape " + s[strings.Index(s, "["):]
}

func wantShape(dims []int) string {
	parts := []string{"N"}
	for _, d := range dims {
		if d < 0 {
			parts = append(parts, "?")
		} else {
			parts = append(parts, fmt.Sprint(d))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (m *Model) checkGraph() error {
	ins, outs := m.ports()
	k := m.Info.Kind
	what := map[string]string{InputZ: "a latent vector", InputImage: "a batch of images", // OutputImage is InputImage
		OutputZMean: "a batch of latent vectors", OutputZLogVar: "a batch of latent vectors", OutputLogits: "a batch of logits", OutputFeatures: "a batch of feature vectors"}
	batchDims := map[int]bool{}
	check := func(kind string, v engine.ValueInfo, dims []int) error {
		if v.DType != tensor.Float32 && v.DType != tensor.Undefined {
			return fmt.Errorf("imagegen: %s %s %q is %v, want float32", k, kind, v.Name, v.DType)
		}
		if !v.HasShape {
			return nil
		}
		want := 1 + len(dims)
		if len(v.Shape) != want || !fits(v.Shape[1:], dims) {
			return fmt.Errorf("imagegen: %s %s %q has %s: want %s %s (%s=%d, %s=%q)", k, kind, v.Name, describe(v), what[v.Name], wantShape(dims),
				MetaLatentDim, m.Info.LatentDim, MetaImageShape, m.Info.ImageShape())
		}
		if v.Shape[0] >= 0 {
			batchDims[v.Shape[0]] = true
		}
		return nil
	}
	var names []string
	for _, in := range m.Plan.Inputs {
		names = append(names, in.Name)
	}
	for name, dims := range ins {
		found := false
		for _, in := range m.Plan.Inputs {
			if in.Name == name {
				found = true
				if err := check("input", in, dims); err != nil {
					return err
				}
			}
		}
		if !found {
			return fmt.Errorf("imagegen: %s has no graph input %q (%s %s); its inputs: %s", k, name, what[name], wantShape(dims), strings.Join(names, ", "))
		}
	}
	if len(m.Plan.Inputs) != len(ins) {
		return fmt.Errorf("imagegen: a %s takes only the input %q, this graph has inputs %s", k, keys(ins), strings.Join(names, ", "))
	}
	names = names[:0]
	for _, o := range m.Plan.Outputs {
		names = append(names, o.Name)
	}
	for name, dims := range outs {
		found := false
		for _, o := range m.Plan.Outputs {
			if o.Name == name {
				found = true
				if err := check("output", o, dims); err != nil {
					return err
				}
				if k == Classifier && o.HasShape && len(o.Shape) == 2 {
					if name == OutputLogits {
						m.Classes = max(o.Shape[1], 0)
					} else {
						m.Features = max(o.Shape[1], 0)
					}
				}
			}
		}
		if !found {
			return fmt.Errorf("imagegen: %s has no graph output %q (%s %s); its outputs: %s", k, name, what[name], wantShape(dims), strings.Join(names, ", "))
		}
	}
	if k == Classifier && m.Classes == 0 && len(m.Info.Classes) > 0 {
		m.Classes = len(m.Info.Classes)
	}
	if len(batchDims) > 1 {
		return fmt.Errorf("imagegen: %s declares different fixed batch sizes on its inputs and outputs", k)
	}
	for b := range batchDims {
		if b == 0 {
			return fmt.Errorf("imagegen: %s declares a batch size of 0", k)
		}
		m.batch = b
	}
	return nil
}

// fits reports whether declared dims agree with wanted ones (-1 on either side: any).
func fits(got, want []int) bool {
	for i := range got {
		if got[i] >= 0 && want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

func keys(m map[string][]int) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return strings.Join(s, ", ")
}
