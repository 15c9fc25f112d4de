package tfjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxModelJSONBytes caps the size of a model.json file read by Load (InceptionV3's is 200 KB).
const MaxModelJSONBytes = 64 << 20

// MaxWeightBytes caps the total size of the weight files of one model (4 GiB).
const MaxWeightBytes = 4 << 30

// Model is a parsed TF.js layers model: its Keras topology and its weights, read but not yet
// dequantised.
type Model struct {
	// Format is model.json's "format" ("layers-model"; empty in older files).
	Format string
	// KerasVersion and Backend come from the topology when present.
	KerasVersion, Backend string
	// Name is the Keras model's name.
	Name string
	// Layers in the order of the Keras config.
	Layers []*Layer
	// Inputs and Outputs name the model's input and output layers.
	Inputs, Outputs []string
	// Weights by name, in manifest order in WeightOrder.
	Weights     map[string]*Weight
	WeightOrder []string

	byName map[string]*Layer
}

// Layer is one Keras layer of the topology.
type Layer struct {
	Name  string
	Class string
	// Config is the layer's Keras config.
	Config map[string]any
	// Inbound lists the layers whose outputs this layer takes, in order.
	Inbound []string
}

// Weight is one entry of the weights manifest with its raw bytes.
type Weight struct {
	Name  string
	Shape []int
	// DType is the dtype of the values ("float32" or "int32"); Quant, when not nil, says how
	// they are stored.
	DType string
	Quant *Quantization
	raw   []byte
}

// Quantization is a weight's storage scheme: uint8 or uint16 codes q standing for
// q*Scale + Min, or float16 values.
type Quantization struct {
	DType     string   `json:"dtype"`
	Min       *float64 `json:"min"`
	Scale     *float64 `json:"scale"`
	OrigDType string   `json:"original_dtype"`
}

// Layer returns the layer called name, or nil.
func (m *Model) Layer(name string) *Layer { return m.byName[name] }

// The JSON shapes of model.json.
type modelFile struct {
	Format          string          `json:"format"`
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []manifestGroup `json:"weightsManifest"`
}

type manifestGroup struct {
	Paths   []string       `json:"paths"`
	Weights []manifestSpec `json:"weights"`
}

type manifestSpec struct {
	Name         string        `json:"name"`
	Shape        []int64       `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization"`
}

type topologyFile struct {
	KerasVersion string          `json:"keras_version"`
	Backend      string          `json:"backend"`
	ModelConfig  json.RawMessage `json:"model_config"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
}

type layerFile struct {
	Name          string          `json:"name"`
	ClassName     string          `json:"class_name"`
	Config        map[string]any  `json:"config"`
	InboundNodes  json.RawMessage `json:"inbound_nodes"`
	LayerInbounds []string        `json:"-"`
}

type functionalConfig struct {
	Name         string            `json:"name"`
	Layers       []layerFile       `json:"layers"`
	InputLayers  []json.RawMessage `json:"input_layers"`
	OutputLayers []json.RawMessage `json:"output_layers"`
}

// Load reads a TF.js layers model: model.json and the weight files its manifest names, which
// must lie in the same directory as model.json (or below it).
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxModelJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tfjs: reading %s: %w", path, err)
	}
	if len(data) > MaxModelJSONBytes {
		return nil, fmt.Errorf("tfjs: %s is larger than %d bytes: not a model.json", path, MaxModelJSONBytes)
	}
	dir := filepath.Dir(path)
	root, err := os.OpenRoot(dir) // confines weight paths, symlinks included, to dir
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	defer root.Close()
	return Parse(data, root.FS(), dir)
}

// Parse decodes a model.json and reads the weight files its manifest names from fsys (paths
// are relative and slash-separated); dir only names the directory in errors. fsys may be nil
// for a model.json without weights.
func Parse(data []byte, fsys fs.FS, dir string) (*Model, error) {
	var mf modelFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&mf); err != nil {
		return nil, fmt.Errorf("tfjs: model.json: %s", jsonError(data, err))
	}
	if mf.Format != "" && mf.Format != "layers-model" {
		return nil, fmt.Errorf("tfjs: model.json: format %q: only TF.js layers models (\"layers-model\") can be imported; graph models are TensorFlow graphs, not Keras layers", mf.Format)
	}
	if len(mf.ModelTopology) == 0 || string(mf.ModelTopology) == "null" {
		return nil, errors.New("tfjs: model.json: no modelTopology")
	}
	m := &Model{Format: mf.Format, byName: map[string]*Layer{}, Weights: map[string]*Weight{}}
	if err := m.parseTopology(mf.ModelTopology); err != nil {
		return nil, err
	}
	if err := m.readWeights(mf.WeightsManifest, fsys, dir); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonError adds the line and column of a syntax error.
func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("ends early after %d bytes (truncated file?)", len(data))
	}
	if off < 1 || off > int64(len(data)) {
		return err.Error()
	}
	at := off - 1 // the offending byte
	line := 1 + bytes.Count(data[:at], []byte("\n"))
	col := at - int64(bytes.LastIndexByte(data[:at], '\n'))
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

func (m *Model) parseTopology(raw json.RawMessage) error {
	var top topologyFile
	if err := json.Unmarshal(raw, &top); err != nil {
		return fmt.Errorf("tfjs: modelTopology: %v", err)
	}
	m.KerasVersion, m.Backend = top.KerasVersion, top.Backend
	class, cfg := top.ClassName, top.Config
	if len(top.ModelConfig) > 0 {
		var mc topologyFile
		if err := json.Unmarshal(top.ModelConfig, &mc); err != nil {
			return fmt.Errorf("tfjs: modelTopology.model_config: %v", err)
		}
		class, cfg = mc.ClassName, mc.Config
	}
	switch class {
	case "Model", "Functional":
		return m.parseFunctional(cfg)
	case "Sequential":
		return m.parseSequential(cfg)
	case "":
		return errors.New("tfjs: modelTopology: no model class_name (want Model, Functional or Sequential)")
	}
	return fmt.Errorf("tfjs: modelTopology: model class %q: want Model, Functional or Sequential", class)
}

func (m *Model) addLayer(lf layerFile, inbound []string) error {
	if lf.Name == "" {
		return fmt.Errorf("tfjs: a layer of class %q has no name", lf.ClassName)
	}
	if lf.ClassName == "" {
		return fmt.Errorf("tfjs: layer %q has no class_name", lf.Name)
	}
	if _, dup := m.byName[lf.Name]; dup {
		return fmt.Errorf("tfjs: layer name %q is used twice", lf.Name)
	}
	if lf.Config == nil {
		lf.Config = map[string]any{}
	}
	l := &Layer{Name: lf.Name, Class: lf.ClassName, Config: lf.Config, Inbound: inbound}
	m.Layers = append(m.Layers, l)
	m.byName[l.Name] = l
	return nil
}

func (m *Model) parseFunctional(raw json.RawMessage) error {
	var fc functionalConfig
	if err := json.Unmarshal(raw, &fc); err != nil {
		return fmt.Errorf("tfjs: model config: %v", err)
	}
	m.Name = fc.Name
	if len(fc.Layers) == 0 {
		return errors.New("tfjs: model config has no layers")
	}
	for _, lf := range fc.Layers {
		in, err := parseInbound(lf.Name, lf.InboundNodes)
		if err != nil {
			return err
		}
		if err := m.addLayer(lf, in); err != nil {
			return err
		}
	}
	for _, l := range m.Layers {
		for _, src := range l.Inbound {
			if m.byName[src] == nil {
				return fmt.Errorf("tfjs: layer %q takes the output of %q, which is not a layer of the model", l.Name, src)
			}
		}
	}
	var err error
	if m.Inputs, err = layerRefs("input_layers", fc.InputLayers); err != nil {
		return err
	}
	if m.Outputs, err = layerRefs("output_layers", fc.OutputLayers); err != nil {
		return err
	}
	for _, n := range append(append([]string{}, m.Inputs...), m.Outputs...) {
		if m.byName[n] == nil {
			return fmt.Errorf("tfjs: model config names %q as an input or output, but there is no such layer", n)
		}
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		return errors.New("tfjs: model config: input_layers or output_layers is empty")
	}
	return nil
}

// parseInbound reads Keras 2's inbound_nodes: a list of calls, each a list of
// [layer_name, node_index, tensor_index, kwargs]. A layer called more than once (a shared
// layer) is refused.
func parseInbound(layer string, raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var calls [][][]any
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, fmt.Errorf("tfjs: layer %q: inbound_nodes: want Keras 2's [[[layer, node, tensor, kwargs], ...]] (Keras 3 files are not supported): %v", layer, err)
	}
	switch len(calls) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("tfjs: layer %q is called %d times (a shared layer): not supported", layer, len(calls))
	}
	var in []string
	for i, ref := range calls[0] {
		if len(ref) < 3 {
			return nil, fmt.Errorf("tfjs: layer %q: inbound_nodes[0][%d]: want [layer, node, tensor, ...], got %d items", layer, i, len(ref))
		}
		name, ok := ref[0].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("tfjs: layer %q: inbound_nodes[0][%d]: the layer name is not a string", layer, i)
		}
		node, ok1 := ref[1].(float64)
		tens, ok2 := ref[2].(float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("tfjs: layer %q: inbound_nodes[0][%d]: node and tensor indices are not numbers", layer, i)
		}
		if node != 0 || tens != 0 {
			return nil, fmt.Errorf("tfjs: layer %q: input %d is output %v of call %v of %q: only single-output layers called once are supported", layer, i, tens, node, name)
		}
		in = append(in, name)
	}
	return in, nil
}

// layerRefs reads input_layers / output_layers: a list of [name, node, tensor].
func layerRefs(field string, refs []json.RawMessage) ([]string, error) {
	var out []string
	for i, r := range refs {
		var ref []any
		if err := json.Unmarshal(r, &ref); err != nil || len(ref) < 1 {
			return nil, fmt.Errorf("tfjs: model config %s[%d]: want [layer, node, tensor]", field, i)
		}
		name, ok := ref[0].(string)
		if !ok {
			return nil, fmt.Errorf("tfjs: model config %s[%d]: the layer name is not a string", field, i)
		}
		out = append(out, name)
	}
	return out, nil
}

// parseSequential turns a Sequential model into the equivalent chain. Its config is either
// the list of layers (older Keras) or {"name", "layers"}. Without an InputLayer first, an input
// layer is made from the first layer's batch_input_shape.
func (m *Model) parseSequential(raw json.RawMessage) error {
	var layers []layerFile
	if err := json.Unmarshal(raw, &layers); err != nil {
		var sc functionalConfig
		if err2 := json.Unmarshal(raw, &sc); err2 != nil {
			return fmt.Errorf("tfjs: Sequential config: %v", err2)
		}
		m.Name, layers = sc.Name, sc.Layers
	}
	if len(layers) == 0 {
		return errors.New("tfjs: Sequential model has no layers")
	}
	prev := ""
	if layers[0].ClassName != "InputLayer" {
		shape, ok := layers[0].Config["batch_input_shape"]
		if !ok {
			return fmt.Errorf("tfjs: Sequential model: the first layer %q has no batch_input_shape and there is no InputLayer", layers[0].Name)
		}
		prev = layers[0].Name + "_input"
		cfg := map[string]any{"batch_input_shape": shape, "name": prev}
		if err := m.addLayer(layerFile{Name: prev, ClassName: "InputLayer", Config: cfg}, nil); err != nil {
			return err
		}
	}
	for _, lf := range layers {
		var in []string
		if prev != "" {
			in = []string{prev}
		}
		if err := m.addLayer(lf, in); err != nil {
			return err
		}
		prev = lf.Name
	}
	m.Inputs = []string{m.Layers[0].Name}
	m.Outputs = []string{prev}
	return nil
}

// readWeights reads every weight file of the manifest and splits the bytes among the specs,
// which are laid out back to back across the group's files in order.
func (m *Model) readWeights(groups []manifestGroup, fsys fs.FS, dir string) error {
	var total int64
	for gi, g := range groups {
		if len(g.Weights) == 0 {
			continue
		}
		if len(g.Paths) == 0 {
			return fmt.Errorf("tfjs: weightsManifest[%d] lists weights but no files", gi)
		}
		if fsys == nil {
			return fmt.Errorf("tfjs: weightsManifest[%d]: no directory to read %s from", gi, g.Paths[0])
		}
		var buf []byte
		for _, p := range g.Paths {
			if !validPath(p) {
				return fmt.Errorf("tfjs: weight file %q: want a relative path inside the model's directory", p)
			}
			data, err := readAll(fsys, p, MaxWeightBytes-total)
			if err != nil {
				return fmt.Errorf("tfjs: weight file %s: %w", filepath.Join(dir, filepath.FromSlash(p)), err)
			}
			total += int64(len(data))
			buf = append(buf, data...)
		}
		off := 0
		for _, s := range g.Weights {
			w, n, err := newWeight(s)
			if err != nil {
				return err
			}
			if _, dup := m.Weights[w.Name]; dup {
				return fmt.Errorf("tfjs: weight %q is listed twice in the manifest", w.Name)
			}
			if int64(len(buf)-off) < n {
				return fmt.Errorf("tfjs: weight %q (%v %s): needs %d bytes at offset %d, but the files %s hold only %d bytes (truncated or missing weight file?)",
					w.Name, w.Shape, w.storage(), n, off, strings.Join(g.Paths, ", "), len(buf))
			}
			w.raw = buf[off : off+int(n)]
			off += int(n)
			m.Weights[w.Name] = w
			m.WeightOrder = append(m.WeightOrder, w.Name)
		}
		if off != len(buf) {
			return fmt.Errorf("tfjs: weightsManifest[%d]: the files %s hold %d bytes, the manifest describes %d (wrong or extra weight file?)",
				gi, strings.Join(g.Paths, ", "), len(buf), off)
		}
	}
	return nil
}

// validPath accepts a relative, slash-separated path that stays in the model's directory.
func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || filepath.IsAbs(p) {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" {
			return false
		}
	}
	return true
}

// readAll reads a whole file of fsys, refusing one larger than limit bytes.
func readAll(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%d bytes: the weights of one model are capped at %d bytes", st.Size(), int64(MaxWeightBytes))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
