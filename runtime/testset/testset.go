// Package testset runs a model on an ONNX test_data_set_N folder and compares its outputs with
// the expected ones, the way ONNX's backend test runner does. Both `gendl run --inputs DIR
// --assert-outputs DIR` and the conformance tests use it.
//
// A folder holds input_<i>.pb and output_<i>.pb, serialized TensorProtos matched by position to
// the graph's inputs (initializers excluded) and outputs.
//
// Comparison follows onnx/backend/test/runner (assert_similar_outputs): same number of outputs,
// exactly the same shape and element type, and for numbers |got-want| <= atol + rtol*|want| per
// element with NaNs in the same places. ONNX's defaults are rtol 1e-3, atol 1e-7.
package testset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// ONNX's own tolerances for node tests (onnx/backend/test/loader/__init__.py).
const (
	DefaultRTol = 1e-3
	DefaultATol = 1e-7
)

// ReadDir reads the numbered <prefix>_<i>.pb tensors of dir ("input" or "output"), in order.
func ReadDir(dir, prefix string) ([]*tensor.Tensor, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("testset: %w", err)
	}
	idx := map[int]string{}
	maxI := -1
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix+"_") || !strings.HasSuffix(name, ".pb") {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix+"_"), ".pb"))
		if err != nil || i < 0 || i > 1<<16 {
			continue
		}
		idx[i] = filepath.Join(dir, name)
		maxI = max(maxI, i)
	}
	var ts []*tensor.Tensor
	var names []string
	for i := 0; i <= maxI; i++ {
		path, ok := idx[i]
		if !ok {
			return nil, nil, fmt.Errorf("testset: %s: %s_%d.pb is missing (files must be numbered from 0 without gaps)", dir, prefix, i)
		}
		tp, err := onnx.DecodeTensorFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("testset: %w", err)
		}
		t, err := onnx.ToTensor(tp, onnx.TensorOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("testset: %s: %w", path, err)
		}
		ts = append(ts, t)
		names = append(names, tp.GetName())
	}
	return ts, names, nil
}

// Feeds reads dir's inputs and matches them to the plan's graph inputs by position.
func Feeds(p *engine.Plan, dir string) (map[string]*tensor.Tensor, error) {
	ins, _, err := ReadDir(dir, "input")
	if err != nil {
		return nil, err
	}
	if len(ins) != len(p.Inputs) {
		return nil, fmt.Errorf("testset: %s has %d input files, the graph has %d inputs to feed", dir, len(ins), len(p.Inputs))
	}
	feeds := map[string]*tensor.Tensor{}
	for i, in := range p.Inputs {
		feeds[in.Name] = ins[i]
	}
	return feeds, nil
}

// OutputReport is the comparison of one output.
type OutputReport struct {
	Name           string
	Shape          []int
	DType          tensor.DType
	MaxAbs, MaxRel float64 // largest |got-want| and |got-want|/|want| (want != 0)
	Mismatches     int     // elements outside atol + rtol*|want|
	Err            error   // shape or type mismatch, or an element count over tolerance
}

// Compare checks got against want.
func Compare(name string, got, want *tensor.Tensor, rtol, atol float64) OutputReport {
	r := OutputReport{Name: name, Shape: got.Shape, DType: got.DType}
	if got.DType != want.DType {
		r.Err = fmt.Errorf("output %q: dtype %v, want %v", name, got.DType, want.DType)
		return r
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		r.Err = fmt.Errorf("output %q: shape %s, want %s", name, tensor.ShapeString(got.Shape), tensor.ShapeString(want.Shape))
		return r
	}
	first := -1
	for i := 0; i < got.Len(); i++ {
		g, w := got.Float64At(i), want.Float64At(i)
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				r.Mismatches++
				if first < 0 {
					first = i
				}
			}
			continue
		}
		if math.IsInf(w, 0) || math.IsInf(g, 0) {
			if g != w {
				r.Mismatches++
				if first < 0 {
					first = i
				}
			}
			continue
		}
		d := math.Abs(g - w)
		r.MaxAbs = max(r.MaxAbs, d)
		if w != 0 {
			r.MaxRel = max(r.MaxRel, d/math.Abs(w))
		}
		if d > atol+rtol*math.Abs(w) {
			r.Mismatches++
			if first < 0 {
				first = i
			}
		}
	}
	if r.Mismatches > 0 {
		r.Err = fmt.Errorf("output %q: %d of %d elements differ by more than %g + %g*|want| (max abs %.3g, max rel %.3g; first at flat index %d: got %v, want %v)",
			name, r.Mismatches, got.Len(), atol, rtol, r.MaxAbs, r.MaxRel, first, got.Float64At(first), want.Float64At(first))
	}
	return r
}

// Result is the outcome of running one data set.
type Result struct {
	Outputs []OutputReport
	Got     map[string]*tensor.Tensor
}

// Err returns the first output error, or nil when every output matched.
func (r *Result) Err() error {
	var errs []error
	for _, o := range r.Outputs {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}

// Run feeds inputsDir to a session of p and, when outputsDir is not empty, compares with its
// expected outputs (matched to the graph outputs by position).
func Run(s *engine.Session, p *engine.Plan, inputsDir, outputsDir string, rtol, atol float64) (*Result, error) {
	feeds, err := Feeds(p, inputsDir)
	if err != nil {
		return nil, err
	}
	got, err := s.Run(feeds)
	if err != nil {
		return nil, err
	}
	res := &Result{Got: got}
	if outputsDir == "" {
		for _, o := range p.Outputs {
			t := got[o.Name]
			res.Outputs = append(res.Outputs, OutputReport{Name: o.Name, Shape: t.Shape, DType: t.DType})
		}
		return res, nil
	}
	wants, _, err := ReadDir(outputsDir, "output")
	if err != nil {
		return nil, err
	}
	if len(wants) != len(p.Outputs) {
		return nil, fmt.Errorf("testset: %s has %d output files, the graph has %d outputs", outputsDir, len(wants), len(p.Outputs))
	}
	for i, o := range p.Outputs {
		res.Outputs = append(res.Outputs, Compare(o.Name, got[o.Name], wants[i], rtol, atol))
	}
	return res, nil
}

// WriteOutputs writes got as output_<i>.pb in dir, in the plan's output order.
func WriteOutputs(p *engine.Plan, got map[string]*tensor.Tensor, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("testset: %w", err)
	}
	for i, o := range p.Outputs {
		path := filepath.Join(dir, fmt.Sprintf("output_%d.pb", i))
		if err := onnx.EncodeTensorFile(path, onnx.FromTensor(o.Name, got[o.Name])); err != nil {
			return err
		}
	}
	return nil
}

// DataSets lists the test_data_set_N folders of a case directory, sorted by N.
func DataSets(caseDir string) ([]string, error) {
	entries, err := os.ReadDir(caseDir)
	if err != nil {
		return nil, fmt.Errorf("testset: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "test_data_set_") {
			out = append(out, filepath.Join(caseDir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
