package engine_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/runtime/testset"
)

// Robustness tests: models from untrusted files must give errors, never panics, and never
// answers that contradict planning or change between runs.
//
//   - FuzzDecodePlan: arbitrary bytes -> onnx.Decode -> engine.New -> two runs on zero inputs.
//   - FuzzMutate: conformance cases with a few structure-aware mutations (attributes, wiring,
//     shapes, index values) -> plan -> two runs on the case's own inputs.
//   - TestSingleMutations: every single mutation of every conformance case, deterministically.
//
// Environment for fuzzing sessions: GENDL_FUZZ_DUMP=dir writes failing FuzzMutate cases out as
// ONNX test case folders; GENDL_FUZZ_IGNORE=regexp passes over failures already reported.
// Crashers found are kept in testdata/fuzz/<target>/ as regression cases.

// Memory caps while fuzzing, so that a mutated shape cannot make the process allocate
// gigabytes: 1<<20 elements (8 MiB of float64) per tensor, whether read from the file
// (engine.Options.Limits) or computed at run time (tensor.MaxElements).
const (
	fuzzMaxElements = 1 << 20
	fuzzMaxBytes    = 8 << 20
	// fuzzMaxFeed bounds the elements of each input the targets feed.
	fuzzMaxFeed = 1 << 12
)

// FuzzDecodePlan feeds arbitrary bytes through onnx.Decode and engine.New and, when the model
// plans and its inputs are small, runs it twice on zero inputs. Nothing may panic; errors are
// fine, except an engine "internal error" (an op panicked and the engine recovered it), a run
// whose results contradict the types planning inferred, or two runs of the same inputs that
// disagree (a reused buffer not fully rewritten). The seed corpus is every vendored ONNX node
// conformance model plus testdata/fuzz/FuzzDecodePlan.
//
//	go test ./runtime/engine -run XXX -fuzz FuzzDecodePlan -fuzztime 3m
func FuzzDecodePlan(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "conformance", "testdata", "node", "*", "model.onnx"))
	if err != nil {
		f.Fatal(err)
	}
	if len(seeds) == 0 {
		f.Fatal("no conformance models found to seed the corpus")
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	chain, err := onnx.Encode(chainModel(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(chain)

	saved := tensor.MaxElements
	tensor.MaxElements = fuzzMaxElements
	f.Cleanup(func() { tensor.MaxElements = saved })

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Decode(data)
		if err != nil {
			return
		}
		p, err := engine.New(m, engine.Options{Limits: onnx.Limits{MaxElements: fuzzMaxElements, MaxBytes: fuzzMaxBytes}})
		if err != nil {
			if err := internal(err); err != nil && !ignored(err) {
				t.Fatal(err)
			}
			return
		}
		feeds, ok := zeroFeeds(p)
		if !ok {
			return
		}
		if err := checkRuns(m, p, feeds); err != nil && !ignored(err) {
			t.Fatal(err)
		}
	})
}

// checkRuns runs p on feeds and returns an error for an internal error, for results that
// contradict the types planning inferred, and, unless the model is random, for a second run
// that disagrees with the first. Other errors are the model's fault and fine.
func checkRuns(m *onnx.ModelProto, p *engine.Plan, feeds map[string]*tensor.Tensor) error {
	s := p.NewSession(engine.SessionOptions{})
	first, err := s.Run(feeds)
	if err != nil {
		return internal(err)
	}
	for name, got := range first {
		if typ, ok := p.ValueType(name); ok && !typ.Compatible(got) {
			return fmt.Errorf("output %q: planning inferred %v, the run produced %v", name, typ, got)
		}
	}
	if nondeterministic(m) {
		return nil
	}
	second, err := s.Run(feeds)
	if err != nil {
		return fmt.Errorf("first run succeeded, second failed: %w", err)
	}
	for name, a := range first {
		if !sameValues(a, second[name]) {
			return fmt.Errorf("output %q: two runs on the same inputs differ:\nfirst  %v %v\nsecond %v %v", name, a, a.Data, second[name], second[name].Data)
		}
	}
	return nil
}

// ignoreRE matches failures the fuzz targets pass over: $GENDL_FUZZ_IGNORE, a regular
// expression, lets a fuzzing session go on past bugs already reported (for example
// GENDL_FUZZ_IGNORE='\(GRU\)|\(Identity\)'). Unset, nothing is ignored.
var ignoreRE = sync.OnceValue(func() *regexp.Regexp {
	if s := os.Getenv("GENDL_FUZZ_IGNORE"); s != "" {
		return regexp.MustCompile(s)
	}
	return nil
})

// ignored reports whether err matches $GENDL_FUZZ_IGNORE.
func ignored(err error) bool {
	re := ignoreRE()
	return re != nil && re.MatchString(err.Error())
}

// internal returns err if it means a bug in gendl rather than in the model (an op panicked and
// the engine recovered it), else nil.
func internal(err error) error {
	if err != nil && strings.Contains(err.Error(), "internal error") {
		return err
	}
	return nil
}

// zeroFeeds returns zero tensors for every input of p, with unknown dimensions set to 1, or
// false when an input has no declared shape, a dtype the runtime cannot hold, or too many
// elements.
func zeroFeeds(p *engine.Plan) (map[string]*tensor.Tensor, bool) {
	feeds := map[string]*tensor.Tensor{}
	for _, in := range p.Inputs {
		if !in.HasShape || !in.DType.Supported() {
			return nil, false
		}
		shape := make([]int, len(in.Shape))
		n := 1
		for i, d := range in.Shape {
			if d < 0 {
				d = 1
			}
			if d > fuzzMaxFeed || n*d > fuzzMaxFeed {
				return nil, false
			}
			shape[i] = d
			n *= d
		}
		feeds[in.Name] = tensor.New(in.DType, shape...)
	}
	return feeds, true
}

// nondeterministic reports whether m uses an op whose results may differ between runs.
func nondeterministic(m *onnx.ModelProto) bool {
	for _, n := range m.GetGraph().GetNode() {
		switch op := n.GetOpType(); {
		case strings.HasPrefix(op, "Random"), op == "Bernoulli", op == "Multinomial", op == "Dropout":
			return true
		}
	}
	return false
}

// sameValues reports whether two tensors have the same dtype, shape and elements, NaNs
// matching NaNs (bit patterns of NaNs may differ).
func sameValues(a, b *tensor.Tensor) bool {
	if b == nil || a.DType != b.DType || !tensor.SameShape(a.Shape, b.Shape) {
		return false
	}
	switch x := a.Data.(type) {
	case []float32:
		y := b.F32()
		for i := range x {
			if x[i] != y[i] && !(math.IsNaN(float64(x[i])) && math.IsNaN(float64(y[i]))) {
				return false
			}
		}
		return true
	case []float64:
		y := b.F64()
		for i := range x {
			if x[i] != y[i] && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Data, b.Data)
}

// mutCase is a conformance case ready for mutation: its model and its stored inputs.
type mutCase struct {
	name  string
	model *onnx.ModelProto
	feeds map[string]*tensor.Tensor
}

// loadMutCases reads every conformance case, in name order so that an index names the same
// case as long as the vendored cases do not change. A case whose files do not load is nil.
func loadMutCases(tb testing.TB) []*mutCase {
	dirs, err := filepath.Glob(filepath.Join("..", "conformance", "testdata", "node", "*"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(dirs) == 0 {
		tb.Fatal("no conformance cases found")
	}
	slices.Sort(dirs)
	cases := make([]*mutCase, len(dirs))
	for i, dir := range dirs {
		m, err := onnx.DecodeFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			continue
		}
		ins, _, err := testset.ReadDir(filepath.Join(dir, "test_data_set_0"), "input")
		if err != nil {
			continue
		}
		// Inputs match the graph inputs that are not initializers, by position.
		inits := map[string]bool{}
		for _, tp := range m.GetGraph().GetInitializer() {
			inits[tp.GetName()] = true
		}
		feeds := map[string]*tensor.Tensor{}
		k := 0
		for _, vi := range m.GetGraph().GetInput() {
			if !inits[vi.GetName()] && k < len(ins) {
				feeds[vi.GetName()] = ins[k]
				k++
			}
		}
		if k != len(ins) {
			continue
		}
		cases[i] = &mutCase{filepath.Base(dir), m, feeds}
	}
	return cases
}

// apply returns a copy of the case's model and feeds with the mutations ops applies: each
// mutation is three bytes, two choosing the place (modulo the number of places) and one the
// value. At most 8 mutations are applied.
func (c *mutCase) apply(ops []byte) (*onnx.ModelProto, map[string]*tensor.Tensor) {
	m := proto.Clone(c.model).(*onnx.ModelProto)
	feeds := map[string]*tensor.Tensor{}
	for name, x := range c.feeds {
		feeds[name] = x.Clone()
	}
	muts := mutations(m, feeds)
	if len(muts) == 0 {
		return m, feeds
	}
	for i := 0; i+2 < len(ops) && i < 3*8; i += 3 {
		k := (int(ops[i]) | int(ops[i+1])<<8) % len(muts)
		muts[k](m, feeds, int(ops[i+2]))
	}
	return m, feeds
}

// checkMutated plans and runs a mutated case and returns an error only for a bug in gendl (see
// checkRuns). Planning errors and run errors are the mutated model's fault and fine.
func checkMutated(m *onnx.ModelProto, feeds map[string]*tensor.Tensor) error {
	p, err := engine.New(m, engine.Options{Limits: onnx.Limits{MaxElements: fuzzMaxElements, MaxBytes: fuzzMaxBytes}})
	if err != nil {
		return internal(err)
	}
	return checkRuns(m, p, feeds)
}

// Values that mutations write: boundaries, small sizes and axes, and huge or special numbers.
var (
	mutInts   = []int64{math.MinInt64, -1 << 40, -1000, -5, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 64, 1 << 20, 1 << 31, math.MaxInt64}
	mutFloats = []float32{0, float32(math.Copysign(0, -1)), -1, 0.5, 1, 3, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	mutDims   = []int{0, 1, 2, 3, 5}
	mutStrs   = []string{"", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "linear", "nearest", "cubic", "bogus"}
)

// mutation is one way to change a case: apply writes choice (an index into the value tables,
// taken modulo their length) into the model or the feeds.
type mutation func(m *onnx.ModelProto, feeds map[string]*tensor.Tensor, choice int)

// mutations lists every place of m and feeds that FuzzMutate may change: attribute values
// (set, remove, lengthen, shorten), node inputs (drop or rewire to another value), elements of
// integer and float feeds and initializers, and feed shapes (the graph input then loses its
// declared shape, so that the ops see the new one).
func mutations(m *onnx.ModelProto, feeds map[string]*tensor.Tensor) []mutation {
	var muts []mutation
	g := m.GetGraph()
	var valueNames []string
	for _, vi := range g.GetInput() {
		valueNames = append(valueNames, vi.GetName())
	}
	for _, tp := range g.GetInitializer() {
		valueNames = append(valueNames, tp.GetName())
	}
	for ni, n := range g.GetNode() {
		for ai, a := range n.GetAttribute() {
			switch a.GetType() {
			case onnx.AttributeProto_INT:
				muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
					m.Graph.Node[ni].Attribute[ai].I = proto.Int64(mutInts[c%len(mutInts)])
				})
			case onnx.AttributeProto_FLOAT:
				muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
					m.Graph.Node[ni].Attribute[ai].F = proto.Float32(mutFloats[c%len(mutFloats)])
				})
			case onnx.AttributeProto_STRING:
				muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
					m.Graph.Node[ni].Attribute[ai].S = []byte(mutStrs[c%len(mutStrs)])
				})
			case onnx.AttributeProto_INTS:
				for k := range a.GetInts() {
					muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
						if ints := m.Graph.Node[ni].Attribute[ai].Ints; k < len(ints) {
							ints[k] = mutInts[c%len(mutInts)]
						}
					})
				}
				muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
					at := m.Graph.Node[ni].Attribute[ai]
					if c%2 == 0 && len(at.Ints) > 0 {
						at.Ints = at.Ints[:len(at.Ints)-1]
					} else {
						at.Ints = append(at.Ints, mutInts[c%len(mutInts)])
					}
				})
			case onnx.AttributeProto_FLOATS:
				for k := range a.GetFloats() {
					muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
						if fl := m.Graph.Node[ni].Attribute[ai].Floats; k < len(fl) {
							fl[k] = mutFloats[c%len(mutFloats)]
						}
					})
				}
			}
			muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, _ int) {
				if at := m.Graph.Node[ni].Attribute; ai < len(at) {
					at[ai] = &onnx.AttributeProto{Name: proto.String("removed_" + at[ai].GetName()), Type: onnx.AttributeProto_INT.Enum(), I: proto.Int64(0)}
				}
			})
		}
		for k := range n.GetInput() {
			muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
				if c%(len(valueNames)+1) == 0 || len(valueNames) == 0 {
					m.Graph.Node[ni].Input[k] = ""
					return
				}
				m.Graph.Node[ni].Input[k] = valueNames[c%(len(valueNames)+1)-1]
			})
		}
	}
	for ii, tp := range g.GetInitializer() {
		if dt := tensor.DType(tp.GetDataType()); dt == tensor.Int64 || dt == tensor.Int32 {
			muts = append(muts, func(m *onnx.ModelProto, _ map[string]*tensor.Tensor, c int) {
				t, err := onnx.ToTensor(m.Graph.Initializer[ii], onnx.TensorOptions{})
				if err != nil || t.Len() == 0 {
					return
				}
				setInt(t, c/len(mutInts)%t.Len(), mutInts[c%len(mutInts)])
				m.Graph.Initializer[ii] = onnx.FromTensor(tp.GetName(), t)
			})
		}
	}
	names := make([]string, 0, len(feeds))
	for name := range feeds {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		x := feeds[name]
		switch x.DType {
		case tensor.Int64, tensor.Int32:
			for k := range min(x.Len(), 8) {
				muts = append(muts, func(_ *onnx.ModelProto, feeds map[string]*tensor.Tensor, c int) {
					setInt(feeds[name], k, mutInts[c%len(mutInts)])
				})
			}
		case tensor.Float32:
			for k := range min(x.Len(), 4) {
				muts = append(muts, func(_ *onnx.ModelProto, feeds map[string]*tensor.Tensor, c int) {
					if d := feeds[name].F32(); k < len(d) {
						d[k] = mutFloats[c%len(mutFloats)]
					}
				})
			}
		}
		for d := range x.Rank() + 1 {
			muts = append(muts, func(m *onnx.ModelProto, feeds map[string]*tensor.Tensor, c int) {
				shape := append([]int{}, feeds[name].Shape...)
				switch {
				case d == len(shape): // change the rank
					if c%2 == 0 && len(shape) > 0 {
						shape = shape[:len(shape)-1]
					} else {
						shape = append(shape, 1+c%2)
					}
				case d < len(shape):
					shape[d] = mutDims[c%len(mutDims)]
				}
				if tensor.Numel(shape) > max(fuzzMaxFeed, x.Len()) {
					return // several mutations could otherwise grow a feed without bound
				}
				feeds[name] = reshapeCyclic(feeds[name], shape)
				for _, vi := range m.Graph.Input {
					if vi.GetName() == name {
						if tt := vi.GetType().GetTensorType(); tt != nil {
							tt.Shape = nil
						}
					}
				}
			})
		}
	}
	return muts
}

// setInt sets element k of an int64 or int32 tensor (truncating to int32).
func setInt(t *tensor.Tensor, k int, v int64) {
	switch d := t.Data.(type) {
	case []int64:
		if k < len(d) {
			d[k] = v
		}
	case []int32:
		if k < len(d) {
			d[k] = int32(v)
		}
	}
}

// reshapeCyclic returns a tensor of x's dtype and the given shape, filled with x's elements
// repeated (zeros if x is empty).
func reshapeCyclic(x *tensor.Tensor, shape []int) *tensor.Tensor {
	out := tensor.New(x.DType, shape...)
	n := x.Len()
	if n == 0 {
		return out
	}
	for i := range out.Len() {
		switch d := out.Data.(type) {
		case []float32:
			d[i] = x.F32()[i%n]
		case []float64:
			d[i] = x.F64()[i%n]
		case []int64:
			d[i] = x.I64()[i%n]
		case []int32:
			d[i] = x.I32()[i%n]
		case []int8:
			d[i] = x.Data.([]int8)[i%n]
		case []uint8:
			d[i] = x.Data.([]uint8)[i%n]
		case []bool:
			d[i] = x.Bools()[i%n]
		}
	}
	return out
}

// FuzzMutate is a structure-aware companion of FuzzDecodePlan: it takes a conformance case
// (model and stored inputs; which indexes the cases in name order), applies the mutations
// chosen by ops (see mutCase.apply) and checks the result like FuzzDecodePlan. Byte-level
// mutation of protobuf mostly breaks the encoding; this target instead reaches the ops with
// valid models whose attributes, wiring, shapes and index values are wrong in the ways real
// files and bugs are. Set GENDL_FUZZ_DUMP=dir to have failing cases written out as ONNX test
// case folders.
//
//	go test ./runtime/engine -run XXX -fuzz FuzzMutate -fuzztime 3m
func FuzzMutate(f *testing.F) {
	cases := loadMutCases(f)
	for i, c := range cases {
		if c != nil {
			f.Add(uint16(i), []byte{})
		}
	}
	saved := tensor.MaxElements
	tensor.MaxElements = fuzzMaxElements
	f.Cleanup(func() { tensor.MaxElements = saved })

	f.Fuzz(func(t *testing.T, which uint16, ops []byte) {
		c := cases[int(which)%len(cases)]
		if c == nil {
			return
		}
		m, feeds := c.apply(ops)
		if err := checkMutated(m, feeds); err != nil && !ignored(err) {
			dumpCase(t, c.name, m, feeds)
			t.Fatalf("%s mutated by %v: %v", c.name, ops, err)
		}
	})
}

// dumpCase writes a failing mutated case as an ONNX test case folder (model.onnx and
// test_data_set_0/input_<i>.pb) under $GENDL_FUZZ_DUMP, when that is set, so that it can be
// replayed with `gendl run --inputs` or the conformance tools.
func dumpCase(t *testing.T, name string, m *onnx.ModelProto, feeds map[string]*tensor.Tensor) {
	root := os.Getenv("GENDL_FUZZ_DUMP")
	if root == "" {
		return
	}
	dir := filepath.Join(root, fmt.Sprintf("%s_%d", name, time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Join(dir, "test_data_set_0"), 0o755); err != nil {
		t.Log(err)
		return
	}
	if err := onnx.EncodeFile(filepath.Join(dir, "model.onnx"), m); err != nil {
		t.Log(err)
		return
	}
	inits := map[string]bool{}
	for _, tp := range m.GetGraph().GetInitializer() {
		inits[tp.GetName()] = true
	}
	i := 0
	for _, vi := range m.GetGraph().GetInput() {
		x, ok := feeds[vi.GetName()]
		if !ok || inits[vi.GetName()] {
			continue
		}
		if err := onnx.EncodeTensorFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", i)), onnx.FromTensor(vi.GetName(), x)); err != nil {
			t.Log(err)
			return
		}
		i++
	}
	t.Logf("case written to %s", dir)
}

var allMutations = flag.Bool("allmutations", false, "TestSingleMutations: try every value at every place (256 values: about 40x longer)")

// sweepChoices are the value choices TestSingleMutations tries by default: through the value
// tables' different lengths they give MinInt64, -1, 0, 1, 2, 5 and 1<<20 for integers, the
// dims 0 to 5, rank changes both ways, absent and rewired inputs, and a spread of floats and
// strings.
var sweepChoices = []int{0, 6, 7, 8, 9, 11, 15}

// TestSingleMutations applies single mutations of FuzzMutate (every place, the values of
// sweepChoices, or every value with -allmutations) to every conformance case and checks each
// result like the fuzz targets do: a deterministic first ring around the conformance cases.
// Failures are grouped by message so that one op bug is reported once, with a count and the
// first case that shows it (replay it with FuzzMutate's arguments).
func TestSingleMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("single mutations of every conformance case: skipped in -short mode")
	}
	choices := sweepChoices
	if *allMutations {
		choices = nil
		for v := range 256 {
			choices = append(choices, v)
		}
	}
	saved := tensor.MaxElements
	tensor.MaxElements = fuzzMaxElements
	defer func() { tensor.MaxElements = saved }()

	type failure struct {
		count int
		first string
	}
	failures := map[string]*failure{}
	var keys []string
	runs := 0
	for i, c := range loadMutCases(t) {
		if c == nil {
			continue
		}
		m0, f0 := c.apply(nil)
		n := len(mutations(m0, f0))
		for k := range n {
			for _, v := range choices {
				ops := []byte{byte(k), byte(k >> 8), byte(v)}
				m, feeds := c.apply(ops)
				runs++
				err := checkMutatedNoPanic(m, feeds)
				if err == nil {
					continue
				}
				key := err.Error()
				if f, ok := failures[key]; ok {
					f.count++
					continue
				}
				failures[key] = &failure{1, fmt.Sprintf("FuzzMutate(%d, %v) on %s", i, ops, c.name)}
				dumpCase(t, c.name, m, feeds)
				keys = append(keys, key)
			}
		}
	}
	for _, key := range keys {
		f := failures[key]
		t.Errorf("%s (%d mutations; first: %s)", key, f.count, f.first)
	}
	t.Logf("%d mutated models checked", runs)
}

// checkMutatedNoPanic is checkMutated with a panic (one the engine did not recover) turned into
// an error that names the gendl functions on the panicking stack, so that a sweep goes on.
func checkMutatedNoPanic(m *onnx.ModelProto, feeds map[string]*tensor.Tensor) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v [%s]", r, gendlFrames(debug.Stack()))
		}
	}()
	return checkMutated(m, feeds)
}

// gendlFrames returns the gendl function names of a stack, innermost first, test code excluded.
func gendlFrames(stack []byte) string {
	var frames []string
	for _, line := range strings.Split(string(stack), "\n") {
		if strings.HasPrefix(line, "github.com/gendl/gendl/") && !strings.Contains(line, "_test.") {
			fn, _, _ := strings.Cut(strings.TrimPrefix(line, "github.com/gendl/gendl/"), "(0x")
			frames = append(frames, strings.TrimSuffix(fn, "(...)"))
		}
	}
	return strings.Join(frames, " < ")
}
