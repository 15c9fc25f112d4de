package engine

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gendl/gendl/runtime/ops"
	"github.com/gendl/gendl/runtime/tensor"
)

// Session runs a Plan. It owns the buffers of every intermediate value and reuses them between
// runs. A Session may be shared by goroutines (runs are serialised); for parallel runs give
// each goroutine its own Session of the same Plan.
type Session struct {
	plan    *Plan
	threads int

	noFusion bool

	mu     sync.Mutex
	values []*tensor.Tensor     // session-owned buffers, one per value produced by a step
	ctxs   []ops.Ctx            // per step
	needs  map[string]*runSteps // cache: requested outputs -> steps to run
	uses   []int                // per value: how many input slots of all steps read it; nil until needed
}

// runSteps is what Run executes for one set of requested values: the steps in order, and
// the fused ones.
type runSteps struct {
	steps []int
	// fused is nil, or holds per step index the fusion that replaces the step: a Conv whose
	// output only a Relu reads runs as ops.FuseRelu's op writing the Relu's outputs, and the
	// Relu step is left out of steps.
	fused []*fusedStep
}

// fusedStep is a step run as a fused op, writing the values out (the last step's outputs).
type fusedStep struct {
	op  ops.Op
	out []int
}

// SessionOptions configure a session.
type SessionOptions struct {
	// Threads is the number of goroutines ops may use; 0 means 1.
	Threads int
	// NoFusion turns off the fusion of Conv and Relu in Run (see Run), for comparisons.
	NoFusion bool
}

// NewSession creates a session for p.
func (p *Plan) NewSession(opt SessionOptions) *Session {
	if opt.Threads <= 0 {
		opt.Threads = 1
	}
	s := &Session{plan: p, threads: opt.Threads, noFusion: opt.NoFusion, values: make([]*tensor.Tensor, len(p.names)),
		ctxs: make([]ops.Ctx, len(p.steps)), needs: map[string]*runSteps{}}
	for i := range s.ctxs {
		s.ctxs[i].Threads = opt.Threads
	}
	return s
}

// Run feeds the inputs by name and returns the requested values by name: the graph outputs
// when names is empty, otherwise any graph value (node outputs included, so intermediate
// layers can be read). Only the nodes the requested values depend on run. The returned
// tensors are fresh copies owned by the caller.
//
// A Conv whose output is read by a Relu and by nothing else, and is not requested, runs with
// the Relu applied as the convolution stores its results (ops.FuseRelu), and the Relu step
// is skipped; the results are bitwise those of the two steps. RunNodes never fuses.
func (s *Session) Run(feeds map[string]*tensor.Tensor, names ...string) (map[string]*tensor.Tensor, error) {
	p := s.plan
	if len(names) == 0 {
		for _, o := range p.Outputs {
			names = append(names, o.Name)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	key := strings.Join(names, "\x00")
	rs, ok := s.needs[key]
	if !ok {
		steps, err := p.stepsFor(names)
		if err != nil {
			return nil, err
		}
		rs = s.fuse(steps, names)
		s.needs[key] = rs
	}
	env := make([]*tensor.Tensor, len(p.names))
	if err := s.runFused(feeds, rs.steps, rs.fused, env); err != nil {
		return nil, err
	}

	res := make(map[string]*tensor.Tensor, len(names))
	for _, name := range names {
		t := env[p.index[name]]
		if t == nil {
			return nil, fmt.Errorf("engine: value %q was not computed", name)
		}
		res[name] = t.Clone()
	}
	return res, nil
}

// fuse finds the Conv+Relu pairs among steps that Run may fuse when names are requested:
// the Conv's output is read by one input slot of all the plan's steps, a Relu's, which is
// among steps, and is not requested. The caller holds s.mu.
func (s *Session) fuse(steps []int, names []string) *runSteps {
	rs := &runSteps{steps: steps}
	if s.noFusion {
		return rs
	}
	p := s.plan
	if s.uses == nil {
		s.uses = make([]int, len(p.names))
		for i := range p.steps {
			for _, v := range p.steps[i].in {
				if v >= 0 {
					s.uses[v]++
				}
			}
		}
	}
	requested := make(map[int]bool, len(names))
	for _, name := range names {
		requested[p.index[name]] = true
	}
	needed := make(map[int]bool, len(steps))
	for _, si := range steps {
		needed[si] = true
	}
	skip := map[int]bool{}
	for _, si := range steps {
		st := &p.steps[si]
		if len(st.out) != 1 || st.out[0] < 0 {
			continue
		}
		v := st.out[0]
		if s.uses[v] != 1 || requested[v] {
			continue
		}
		fused, ok := ops.FuseRelu(st.op)
		if !ok {
			continue
		}
		// The one reader of v: a needed Relu step.
		for ri := si + 1; ri < len(p.steps); ri++ {
			rt := &p.steps[ri]
			if len(rt.in) != 1 || rt.in[0] != v {
				continue
			}
			if needed[ri] && ops.IsRelu(rt.op) {
				if rs.fused == nil {
					rs.fused = make([]*fusedStep, len(p.steps))
				}
				rs.fused[si] = &fusedStep{op: fused, out: rt.out}
				skip[ri] = true
			}
			break
		}
	}
	if len(skip) > 0 {
		kept := make([]int, 0, len(steps)-len(skip))
		for _, si := range steps {
			if !skip[si] {
				kept = append(kept, si)
			}
		}
		rs.steps = kept
	}
	return rs
}

// run checks and places the feeds in env (beside the plan's constants) and runs the given
// steps, in order, leaving every value in env. The caller holds s.mu.
func (s *Session) run(feeds map[string]*tensor.Tensor, steps []int, env []*tensor.Tensor) error {
	return s.runFused(feeds, steps, nil, env)
}

// runFused is run with fused (nil, or indexed by step) replacing steps by fused ops (see
// fuse).
func (s *Session) runFused(feeds map[string]*tensor.Tensor, steps []int, fused []*fusedStep, env []*tensor.Tensor) error {
	p := s.plan
	copy(env, p.consts)
	for name, t := range feeds {
		v, ok := p.feedable[name]
		if !ok {
			if _, isValue := p.index[name]; isValue {
				return fmt.Errorf("engine: %q is not a graph input and cannot be fed", name)
			}
			return fmt.Errorf("engine: feed %q: the graph has no input of that name (inputs: %s)", name, p.inputNames())
		}
		if t == nil {
			return fmt.Errorf("engine: input %q: nil tensor", name)
		}
		if err := checkTensor(t); err != nil {
			return fmt.Errorf("engine: input %q: %w", name, err)
		}
		env[v] = t
	}
	var dims map[string]int // symbolic dimensions: only allocated when the inputs have some
	for _, in := range p.Inputs {
		v := p.index[in.Name]
		t := env[v]
		if t == nil {
			return fmt.Errorf("engine: input %q (%s) was not fed", in.Name, in)
		}
		if dims == nil && symbolic(in) {
			dims = map[string]int{}
		}
		if err := checkInput(in, t, dims); err != nil {
			return err
		}
	}

	bufs := argBufs.Get().(*[2][]*tensor.Tensor)
	defer func() {
		clear(bufs[0][:cap(bufs[0])])
		clear(bufs[1][:cap(bufs[1])])
		argBufs.Put(bufs)
	}()
	inBuf, outBuf := bufs[0][:0], bufs[1][:0]
	for _, si := range steps {
		st := &p.steps[si]
		op, outs := st.op, st.out
		if fused != nil && fused[si] != nil {
			op, outs = fused[si].op, fused[si].out
		}
		inBuf = inBuf[:0]
		for _, v := range st.in {
			if v < 0 {
				inBuf = append(inBuf, nil)
				continue
			}
			if env[v] == nil {
				return fmt.Errorf("engine: %s: input %q was not computed (RunNodes needs the nodes in execution order, as NodesFor gives them)", st.desc, p.names[v])
			}
			inBuf = append(inBuf, env[v])
		}
		outBuf = outBuf[:0]
		for _, v := range outs {
			if v < 0 {
				outBuf = append(outBuf, nil)
				continue
			}
			if s.values[v] == nil {
				s.values[v] = &tensor.Tensor{}
			}
			outBuf = append(outBuf, s.values[v])
		}
		if err := runOp(op, &s.ctxs[si], inBuf, outBuf); err != nil {
			return fmt.Errorf("engine: %s: %w", st.desc, err)
		}
		for i, t := range outBuf {
			if t != nil {
				if err := checkTensor(t); err != nil {
					return fmt.Errorf("engine: %s: internal error: output %d is malformed after the run (%v); please report it with the model", st.desc, i, err)
				}
			}
		}
		for i, v := range outs {
			if v >= 0 {
				env[v] = outBuf[i]
			}
		}
	}
	bufs[0], bufs[1] = inBuf, outBuf // keep what append grew
	return nil
}

// stepsFor returns, in order, the steps needed to compute the named values.
func (p *Plan) stepsFor(names []string) ([]int, error) {
	need := make([]bool, len(p.steps))
	var stack []int
	for _, name := range names {
		v, ok := p.index[name]
		if !ok {
			return nil, fmt.Errorf("engine: the graph has no value named %q", name)
		}
		stack = append(stack, v)
	}
	seen := make([]bool, len(p.names))
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		si := p.producer[v]
		if si < 0 || need[si] {
			continue
		}
		need[si] = true
		for _, in := range p.steps[si].in {
			if in >= 0 {
				stack = append(stack, in)
			}
		}
	}
	var out []int
	for i, n := range need {
		if n {
			out = append(out, i)
		}
	}
	return out, nil
}

func (p *Plan) inputNames() string {
	var names []string
	for _, in := range p.Inputs {
		names = append(names, fmt.Sprintf("%q", in.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkTensor verifies that a caller's tensor is self-consistent.
func checkTensor(t *tensor.Tensor) error {
	if !t.DType.Supported() {
		return fmt.Errorf("unsupported dtype %v", t.DType)
	}
	for i, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
	}
	n := tensor.Numel(t.Shape)
	var got int
	ok := true
	switch d := t.Data.(type) {
	case []float32:
		got, ok = len(d), t.DType == tensor.Float32
	case []float64:
		got, ok = len(d), t.DType == tensor.Float64
	case []int64:
		got, ok = len(d), t.DType == tensor.Int64
	case []int32:
		got, ok = len(d), t.DType == tensor.Int32
	case []int8:
		got, ok = len(d), t.DType == tensor.Int8
	case []uint8:
		got, ok = len(d), t.DType == tensor.Uint8
	case []bool:
		got, ok = len(d), t.DType == tensor.Bool
	default:
		return fmt.Errorf("data of Go type %T is not a supported slice", t.Data)
	}
	if !ok {
		return fmt.Errorf("data of Go type %T does not match dtype %v", t.Data, t.DType)
	}
	if got != n {
		return fmt.Errorf("shape %v needs %d elements, data has %d", t.Shape, n, got)
	}
	return nil
}

// checkInput checks a fed tensor against the graph's declaration; symbolic dims must agree
// across inputs within one run.
func checkInput(in ValueInfo, t *tensor.Tensor, dims map[string]int) error {
	if in.DType != tensor.Undefined && t.DType != in.DType {
		return fmt.Errorf("engine: input %q: want dtype %v, got %v", in.Name, in.DType, t.DType)
	}
	if !in.HasShape {
		return nil
	}
	if len(t.Shape) != len(in.Shape) {
		return fmt.Errorf("engine: input %q: want shape %s, got %v (rank %d, want %d)", in.Name, in, tensor.ShapeString(t.Shape), len(t.Shape), len(in.Shape))
	}
	for i, d := range in.Shape {
		got := t.Shape[i]
		if d >= 0 && got != d {
			return fmt.Errorf("engine: input %q: dimension %d: want %d, got %d (declared %s, fed %s)", in.Name, i, d, got, in, tensor.ShapeString(t.Shape))
		}
		if d < 0 && in.DimNames[i] != "" {
			if prev, ok := dims[in.DimNames[i]]; ok && prev != got {
				return fmt.Errorf("engine: input %q: dimension %d (%s) is %d, but %s is %d in another input", in.Name, i, in.DimNames[i], got, in.DimNames[i], prev)
			}
			dims[in.DimNames[i]] = got
		}
	}
	return nil
}

// runOp runs one op, turning a panic into an error. Ops check their inputs and return errors;
// the recover is the last line of defence that keeps a hostile model from crashing the
// process. A *tensor.SizeError is the expected case (an output shape over the memory cap);
// any other panic is a bug in an op, and its message says so ("internal error").
func runOp(op ops.Op, ctx *ops.Ctx, in, out []*tensor.Tensor) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if se, ok := r.(*tensor.SizeError); ok {
				err = se
				return
			}
			err = fmt.Errorf("internal error (panic: %v at %s); please report it with the model", r, panicSite())
		}
	}()
	return op.Run(ctx, in, out)
}

// panicSite returns file:line of the innermost gendl frame of a panicking goroutine (called
// from a deferred recover), so an internal error says where the op went wrong.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, "gendl/gendl/") && !strings.Contains(f.Function, "/engine.") && !strings.Contains(f.Function, "/tensor.") {
			return fmt.Sprintf("%s:%d", f.File[strings.LastIndex(f.File, "/")+1:], f.Line)
		}
		if !more {
			return "unknown location"
		}
	}
}
