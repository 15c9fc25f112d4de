package vgg19

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
)

// progressReader reports the bytes read so far.
type progressReader struct {
	r           io.Reader
	read, total int64
	report      func(read, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	const chunk = 4 << 20 // report at least every 4 MB (a file may come in one read)
	if len(b) > chunk {
		b = b[:chunk]
	}
	n, err := p.r.Read(b)
	p.read += int64(n)
	p.report(p.read, p.total)
	return n, err
}

// ReadModel reads and decodes the ONNX file at path, calling progress (when not nil) as its
// bytes are read. The file is read into one buffer of its size (no growth copies): decoding
// the zoo's 548 MB file peaks at about twice its size, the buffer and the decoded weights.
func ReadModel(path string, progress func(read, total int64)) (*onnx.ModelProto, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vgg19: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vgg19: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("vgg19: %s is a directory, want an ONNX file", path)
	}
	size := st.Size()
	if size > onnx.MaxModelBytes {
		return nil, fmt.Errorf("vgg19: %s is %d bytes, over the 2 GiB protobuf limit", path, size)
	}
	var r io.Reader = f
	if progress != nil {
		r = &progressReader{r: f, total: size, report: progress}
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("vgg19: reading %s: %w", path, err)
	}
	m, err := onnx.Decode(buf)
	if err != nil {
		return nil, fmt.Errorf("vgg19: %w (file %s)", err, path)
	}
	return m, nil
}

// Load reads the model at path and analyses it (see Analyze); external data may be read from
// the file's directory.
func Load(path string, opts Options, progress func(read, total int64)) (*onnx.ModelProto, *Layout, error) {
	m, err := ReadModel(path, progress)
	if err != nil {
		return nil, nil, err
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	l, err := Analyze(m, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, l, nil
}

// Features is a planned VGG19 feature extractor: what neural style transfer needs. Feed
// Input a float32 [N, 3, H, W] RGB image in [0, 255] (any H, W the deepest layer's pools
// allow); the graph preprocesses it. Every Keras layer up to the deepest asked for is a value
// named by its Keras name, so Plan's sessions (and gradients) can read Layers — or any other
// of Source.Names() up to the deepest — by those names.
type Features struct {
	Plan   *engine.Plan
	Input  string   // InputName
	Layers []string // the layers asked for, the graph outputs
	// Model is the extractor (as Extract writes it); Source what Analyze found in the file
	// it was made from.
	Model  *onnx.ModelProto
	Source *Layout
}

// NewFeatures extracts layers (nil: DefaultLayers) from m, which may be a whole VGG19 in any
// layout Analyze recognises or a feature extractor written by Extract, and plans the result.
func NewFeatures(m *onnx.ModelProto, layers []string, opts Options) (*Features, error) {
	l, err := Analyze(m, opts)
	if err != nil {
		return nil, err
	}
	layers, _, err = l.Resolve(layers)
	if err != nil {
		return nil, err
	}
	x, err := l.Extract(layers, opts)
	if err != nil {
		return nil, err
	}
	plan, err := engine.New(x, engine.Options{Limits: opts.Limits})
	if err != nil {
		return nil, fmt.Errorf("vgg19: planning the feature extractor: %w", err)
	}
	return &Features{Plan: plan, Input: InputName, Layers: layers, Model: x, Source: l}, nil
}

// OpenFeatures is NewFeatures on the file at path (the zoo's vgg19-7.onnx, or a
// vgg19-features.onnx from `gendl-train export vgg19`).
func OpenFeatures(path string, layers []string, opts Options) (*Features, error) {
	m, err := ReadModel(path, nil)
	if err != nil {
		return nil, err
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	f, err := NewFeatures(m, layers, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

// ExportConfig configures ExportFile.
type ExportConfig struct {
	From, Out string
	// Layers to export (nil: DefaultLayers).
	Layers []string
	// Preprocessing the source expects: "" or "auto" detects it (see Analyze), otherwise a
	// ParsePreprocessing string.
	Preprocessing string
	// Progress, when set, is called while From is read.
	Progress func(read, total int64)
	// Log receives one line per stage; nil discards them.
	Log io.Writer
}

// ExportResult summarises an export.
type ExportResult struct {
	// Source describes the source file (its weights are released: it cannot Extract again).
	Source     *Layout
	Layers     []string
	Parameters int64 // weights in the extractor
	Bytes      int64 // size of the written file
}

// ExportFile reads a VGG19 ONNX file, extracts the feature layers, checks that the result
// plans in gendl, and writes it atomically to Out.
func ExportFile(cfg ExportConfig) (*ExportResult, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	if cfg.From == "" || cfg.Out == "" {
		return nil, errors.New("vgg19: export needs a source file and an output file")
	}
	if a, errA := filepath.Abs(cfg.From); errA == nil {
		if b, errB := filepath.Abs(cfg.Out); errB == nil && a == b {
			return nil, fmt.Errorf("vgg19: the output %s would overwrite the source", cfg.Out)
		}
	}
	for _, name := range cfg.Layers { // fail before reading hundreds of megabytes
		if LayerIndex(name) < 0 {
			return nil, fmt.Errorf("vgg19: no layer %q: VGG19's layers are %s", name, strings.Join(LayerNames(), ", "))
		}
	}
	var opts Options
	if p := strings.TrimSpace(cfg.Preprocessing); p != "" && p != "auto" {
		pp, err := ParsePreprocessing(p)
		if err != nil {
			return nil, err
		}
		opts.Preprocessing = &pp
	}
	t0 := time.Now()
	_, l, err := Load(cfg.From, Options{Preprocessing: opts.Preprocessing}, cfg.Progress)
	if err != nil {
		return nil, err
	}
	opts.BaseDir = filepath.Dir(cfg.From)
	fmt.Fprintf(log, "read %s in %.1fs: %s\n", cfg.From, time.Since(t0).Seconds(), l.Summary())
	layers, deepest, err := l.Resolve(cfg.Layers)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, cfg.From)
	}
	x, err := l.Extract(layers, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, cfg.From)
	}
	l.model, l.inits = nil, nil // the source's weights may be freed from here on
	var params int64
	for _, tp := range x.GetGraph().GetInitializer() {
		params += numel(tp.GetDims())
	}
	fmt.Fprintf(log, "extracted %s..%s: %d nodes, %d parameters; outputs %s\n", Layers()[0].Name, Layers()[deepest].Name,
		len(x.GetGraph().GetNode()), params, strings.Join(layers, ", "))
	if _, err := engine.New(x, engine.Options{}); err != nil {
		return nil, fmt.Errorf("vgg19: the extractor does not plan in gendl (a bug): %w", err)
	}
	data, err := onnx.Encode(x)
	if err != nil {
		return nil, err
	}
	if err := onnx.WriteFileAtomic(cfg.Out, data); err != nil {
		return nil, fmt.Errorf("vgg19: %w", err)
	}
	fmt.Fprintf(log, "wrote %s (%.1f MB)\n", cfg.Out, float64(len(data))/1e6)
	return &ExportResult{Source: l, Layers: layers, Parameters: params, Bytes: int64(len(data))}, nil
}

// Summary describes the layout in one line.
func (l *Layout) Summary() string {
	shape := "NCHW"
	if l.NHWC {
		shape = "NHWC"
	}
	s := fmt.Sprintf("VGG19 (%s layout, opset %d, %s input %q, width %d, %d feature layers", l.Exporter, l.Opset, shape, l.Input, l.Width, len(l.Layers))
	if l.Head {
		s += ", then more nodes (a head)"
	}
	return s + fmt.Sprintf("); preprocessing %s [%s]", l.Network.Describe(), l.PreprocessingSource)
}
