//go:build ort

package ortcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// ortLibRel is where scripts/install-ort.sh puts the library, relative to its install
// directory (<repo>/.ort by default): the shared library shipped inside onnxruntime-node.
const ortLibRel = "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// ORT's environment is process-wide: it is created once, on first use, and destroyed by
// TestMain after every test and benchmark has run.
var ortEnv struct {
	once    sync.Once
	err     error
	lib     string
	version string
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeVGGFiles()
	if ort.IsInitialized() {
		if err := ort.DestroyEnvironment(); err != nil {
			fmt.Fprintln(os.Stderr, "ortcheck: destroying the ORT environment:", err)
		}
	}
	os.Exit(code)
}

// repoRoot walks up from the working directory (the package's, under go test) to go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ortLibPath returns $GENDL_ORT_LIB, or the default install location under the repository.
func ortLibPath() (string, error) {
	if p := os.Getenv("GENDL_ORT_LIB"); p != "" {
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".ort", ortLibRel), nil
}

func initORT() {
	lib, err := ortLibPath()
	if err != nil {
		ortEnv.err = err
		return
	}
	ortEnv.lib = lib
	if _, err := os.Stat(lib); err != nil {
		ortEnv.err = fmt.Errorf("ONNX Runtime library not found at %s: run scripts/install-ort.sh (or set GENDL_ORT_LIB to libonnxruntime.so.1)", lib)
		return
	}
	ort.SetSharedLibraryPath(lib)
	// Log level fatal: every error comes back as a Go error; ORT's own log would repeat it
	// on stderr.
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		ortEnv.err = fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
		return
	}
	ortEnv.version = ort.GetVersion()
}

// requireORT makes sure ORT is loaded. Without it, tb is skipped, or fails when
// GENDL_REQUIRE_ORT=1 (CI sets it, so that a missing install cannot pass as a skip).
func requireORT(tb testing.TB) {
	tb.Helper()
	ortEnv.once.Do(initORT)
	if ortEnv.err == nil {
		return
	}
	if os.Getenv("GENDL_REQUIRE_ORT") == "1" {
		tb.Fatalf("GENDL_REQUIRE_ORT=1: %v", ortEnv.err)
	}
	tb.Skip(ortEnv.err)
}

// TestORTLoads pins the combination that works: onnxruntime_go's C API version against the
// library that scripts/install-ort.sh installs.
func TestORTLoads(t *testing.T) {
	requireORT(t)
	t.Logf("ONNX Runtime %s from %s", ortEnv.version, ortEnv.lib)
	if ortEnv.version == "" {
		t.Fatal("ORT reports an empty version")
	}
}

// ortModel is a model loaded in ORT with one intra-op and one inter-op thread (the same
// budget as a one-thread gendl session, and deterministic).
type ortModel struct {
	sess    *ort.DynamicAdvancedSession
	inputs  []string // graph inputs to feed, initializers excluded
	outputs []string // graph outputs
}

// feedNames returns the graph inputs of m that are not initializers, in graph order: the
// inputs a caller must feed (IR < 4 models list initializers as inputs too).
func feedNames(m *onnx.ModelProto) []string {
	inits := map[string]bool{}
	for _, tp := range m.GetGraph().GetInitializer() {
		inits[tp.GetName()] = true
	}
	var names []string
	for _, vi := range m.GetGraph().GetInput() {
		if !inits[vi.GetName()] {
			names = append(names, vi.GetName())
		}
	}
	return names
}

func outputNames(m *onnx.ModelProto) []string {
	var names []string
	for _, vi := range m.GetGraph().GetOutput() {
		names = append(names, vi.GetName())
	}
	return names
}

// newORTModel loads the serialized model data in ORT.
func newORTModel(m *onnx.ModelProto, data []byte) (*ortModel, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	om := &ortModel{inputs: feedNames(m), outputs: outputNames(m)}
	om.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(data, om.inputs, om.outputs, opts)
	if err != nil {
		return nil, err
	}
	return om, nil
}

func (om *ortModel) Destroy() {
	if om.sess != nil {
		om.sess.Destroy()
	}
}

// run feeds the inputs by name and returns the outputs by name. like, when not nil, gives
// for each output (by position) a tensor of its dtype and shape, so that the output is
// allocated before the run; onnxruntime_go cannot receive a rank-0 output that ORT
// allocated, so scalar outputs need it.
func (om *ortModel) run(feeds map[string]*tensor.Tensor, like []*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	if len(om.inputs) == 0 || len(om.outputs) == 0 {
		// onnxruntime_go v1.27.0 indexes the first input and output unconditionally.
		return nil, errors.New("ort: onnxruntime_go cannot run a model without inputs or outputs")
	}
	var vals []ort.Value
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	ins := make([]ort.Value, len(om.inputs))
	for i, name := range om.inputs {
		t, ok := feeds[name]
		if !ok {
			return nil, fmt.Errorf("ort: input %q is not fed", name)
		}
		v, err := toORT(t)
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", name, err)
		}
		vals = append(vals, v)
		ins[i] = v
	}
	outs := make([]ort.Value, len(om.outputs))
	for i := range outs {
		if i < len(like) && like[i] != nil {
			v, err := newORTOutput(like[i].DType, like[i].Shape)
			if err != nil {
				return nil, fmt.Errorf("ort: output %q: %w", om.outputs[i], err)
			}
			vals = append(vals, v)
			outs[i] = v
		}
	}
	err := om.sess.Run(ins, outs)
	for _, v := range outs {
		if v != nil && !slices.Contains(vals, v) {
			vals = append(vals, v) // allocated by Run
		}
	}
	if err != nil {
		return nil, err
	}
	res := map[string]*tensor.Tensor{}
	for i, v := range outs {
		t, err := fromORT(v)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", om.outputs[i], err)
		}
		res[om.outputs[i]] = t
	}
	return res, nil
}

func ortShape(shape []int) ort.Shape {
	s := make(ort.Shape, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	return s
}

// wrapORT makes an ORT value that reads data (not copied): a scalar for rank 0.
func wrapORT[T ort.TensorData](shape []int, data []T) (ort.Value, error) {
	if len(shape) == 0 {
		return ort.NewScalar(data[0])
	}
	return ort.NewTensor(ortShape(shape), data)
}

// toORT wraps t's data for ORT without copying it.
func toORT(t *tensor.Tensor) (ort.Value, error) {
	switch t.DType {
	case tensor.Float32:
		return wrapORT(t.Shape, t.F32())
	case tensor.Float64:
		return wrapORT(t.Shape, t.F64())
	case tensor.Int64:
		return wrapORT(t.Shape, t.I64())
	case tensor.Int32:
		return wrapORT(t.Shape, t.I32())
	case tensor.Int8:
		return wrapORT(t.Shape, t.Data.([]int8))
	case tensor.Uint8:
		return wrapORT(t.Shape, t.Data.([]uint8))
	case tensor.Bool:
		return wrapORT(t.Shape, t.Bools())
	}
	return nil, fmt.Errorf("dtype %v has no ORT counterpart here", t.DType)
}

// newORTOutput allocates a zeroed ORT value of the given dtype and shape.
func newORTOutput(dt tensor.DType, shape []int) (ort.Value, error) {
	t := tensor.New(dt, shape...)
	return toORT(t)
}

func fromTensor[T ort.TensorData](dt tensor.DType, v *ort.Tensor[T]) *tensor.Tensor {
	shape := make([]int, len(v.GetShape()))
	for i, d := range v.GetShape() {
		shape[i] = int(d)
	}
	return &tensor.Tensor{DType: dt, Shape: shape, Data: slices.Clone(v.GetData())}
}

func fromScalar[T ort.TensorData](dt tensor.DType, v *ort.Scalar[T]) *tensor.Tensor {
	return &tensor.Tensor{DType: dt, Shape: []int{}, Data: []T{v.GetData()}}
}

// fromORT copies an ORT value into a gendl tensor.
func fromORT(v ort.Value) (*tensor.Tensor, error) {
	switch x := v.(type) {
	case *ort.Tensor[float32]:
		return fromTensor(tensor.Float32, x), nil
	case *ort.Tensor[float64]:
		return fromTensor(tensor.Float64, x), nil
	case *ort.Tensor[int64]:
		return fromTensor(tensor.Int64, x), nil
	case *ort.Tensor[int32]:
		return fromTensor(tensor.Int32, x), nil
	case *ort.Tensor[int8]:
		return fromTensor(tensor.Int8, x), nil
	case *ort.Tensor[uint8]:
		return fromTensor(tensor.Uint8, x), nil
	case *ort.Tensor[bool]:
		return fromTensor(tensor.Bool, x), nil
	case *ort.Scalar[float32]:
		return fromScalar(tensor.Float32, x), nil
	case *ort.Scalar[float64]:
		return fromScalar(tensor.Float64, x), nil
	case *ort.Scalar[int64]:
		return fromScalar(tensor.Int64, x), nil
	case *ort.Scalar[int32]:
		return fromScalar(tensor.Int32, x), nil
	case *ort.Scalar[int8]:
		return fromScalar(tensor.Int8, x), nil
	case *ort.Scalar[uint8]:
		return fromScalar(tensor.Uint8, x), nil
	case *ort.Scalar[bool]:
		return fromScalar(tensor.Bool, x), nil
	}
	return nil, fmt.Errorf("ORT value %T (%v) has no gendl counterpart", v, v.GetONNXType())
}

// Errors of pair.run wrap one of these, naming the executor that failed.
var (
	errGendl = errors.New("gendl")
	errORT   = errors.New("ORT")
)

// pair is one model loaded in both executors.
type pair struct {
	model *onnx.ModelProto
	plan  *engine.Plan
	sess  *engine.Session
	ort   *ortModel
}

// errPlan marks a model that gendl cannot plan (typically an op not registered yet): the
// caller skips it rather than failing.
type errPlan struct{ err error }

func (e *errPlan) Error() string { return "gendl cannot plan the model: " + e.err.Error() }
func (e *errPlan) Unwrap() error { return e.err }

// loadPair plans m in gendl (one thread) and loads it in ORT. The model is serialized for
// ORT with onnx.Encode, so the bytes ORT reads are those a gendl export would write.
func loadPair(m *onnx.ModelProto) (*pair, error) {
	plan, err := engine.New(m, engine.Options{})
	if err != nil {
		return nil, &errPlan{err}
	}
	data, err := onnx.Encode(m)
	if err != nil {
		return nil, err
	}
	om, err := newORTModel(m, data)
	if err != nil {
		return nil, fmt.Errorf("ORT cannot load the model: %w", err)
	}
	return &pair{model: m, plan: plan, sess: plan.NewSession(engine.SessionOptions{Threads: 1}), ort: om}, nil
}

func (p *pair) Destroy() { p.ort.Destroy() }

// run runs both executors on feeds and returns gendl's outputs and ORT's, in graph output
// order. Scalar outputs are allocated for ORT with gendl's dtype (see ortModel.run); the
// others are allocated by ORT, so their shapes are ORT's own.
func (p *pair) run(feeds map[string]*tensor.Tensor) (got, want []*tensor.Tensor, err error) {
	g, err := p.sess.Run(feeds)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errGendl, err)
	}
	like := make([]*tensor.Tensor, len(p.plan.Outputs))
	for i, o := range p.plan.Outputs {
		got = append(got, g[o.Name])
		if g[o.Name].Rank() == 0 {
			like[i] = g[o.Name]
		}
	}
	r, err := p.ort.run(feeds, like)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errORT, err)
	}
	for _, name := range p.ort.outputs {
		want = append(want, r[name])
	}
	return got, want, nil
}
