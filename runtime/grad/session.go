package grad

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Session runs a Grad: Forward computes the differentiated values, Backward turns their
// gradients into the gradients of the inputs. It owns every buffer (the forward values through
// its own engine.Session, the gradients in a pool) and reuses them between calls, so that
// steady-state calls allocate little. Calls on one Session are serialised, but the tensors it
// returns are only valid until its next call and a Backward uses whatever Forward ran last:
// give each goroutine its own Session of the shared Grad (or use Step, which is one call).
type Session struct {
	g    *Grad
	eng  *engine.Session
	mu   sync.Mutex
	c    ctx
	env  []*tensor.Tensor // forward values by id, borrowed from eng and the feeds
	ok   bool             // env holds a successful Forward
	vals map[string]*tensor.Tensor

	grads   []*tensor.Tensor // value id -> gradient buffer of the current Backward, nil: zero
	pool    pool
	results []*tensor.Tensor // per wrt input: its gradient buffer (not pooled)
	out     map[string]*tensor.Tensor
	in      []*tensor.Tensor // scratch argument slices
	outs    []*tensor.Tensor
	dOut    []*tensor.Tensor
	dIn     []*tensor.Tensor
}

// NewSession creates a session. opt.Threads goroutines (0: 1) serve both the forward ops and
// the backward kernels.
func (g *Grad) NewSession(opt engine.SessionOptions) *Session {
	if opt.Threads <= 0 {
		opt.Threads = 1
	}
	nv := g.plan.NumValues()
	s := &Session{g: g, eng: g.plan.NewSession(opt), env: make([]*tensor.Tensor, nv),
		vals: make(map[string]*tensor.Tensor, len(g.of)), grads: make([]*tensor.Tensor, nv),
		results: make([]*tensor.Tensor, len(g.wrt)), out: make(map[string]*tensor.Tensor, len(g.wrt))}
	s.c.threads = opt.Threads
	for i := range s.results {
		s.results[i] = &tensor.Tensor{}
	}
	return s
}

// Forward feeds the inputs (every graph input, as engine.Session.Run wants them) and returns
// the values of, by name. Only the nodes those values depend on run. The returned tensors
// (and the map) are borrowed: they belong to the session and stay valid until its next call
// of Forward or Backward; clone what must outlive it. A Backward after Forward uses the
// intermediate values this call computed.
func (s *Session) Forward(feeds map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forward(feeds)
}

func (s *Session) forward(feeds map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	s.ok = false
	clear(s.vals)
	if err := s.eng.RunNodes(feeds, s.g.fwd, s.env); err != nil {
		return nil, fmt.Errorf("grad: forward: %w", err)
	}
	for i, v := range s.g.of {
		t := s.env[v]
		if t == nil {
			return nil, fmt.Errorf("grad: forward: value %q was not computed", s.g.ofNames[i])
		}
		if t.DType != tensor.Float32 {
			return nil, fmt.Errorf("grad: forward: value %q is %v; gradients are float32 only", s.g.ofNames[i], t.DType)
		}
		s.vals[s.g.ofNames[i]] = t
	}
	for i, v := range s.g.wrt {
		if t := s.env[v]; t.DType != tensor.Float32 {
			return nil, fmt.Errorf("grad: forward: input %q is %v; gradients are float32 only", s.g.wrtNames[i], t.DType)
		}
	}
	s.ok = true
	return s.vals, nil
}

// Backward takes the gradients of a scalar loss with respect to values of (seeds, by name;
// each of the shape Forward returned for that value; a value without a seed contributes
// nothing) and returns the gradients of the loss with respect to every input of wrt, by name,
// each of its input's shape (zeros where the loss does not depend on the input). It needs a
// successful Forward before it and may be called again for other seeds on the same forward
// values. The returned tensors (and the map) are borrowed until the session's next call; the
// seeds are only read.
func (s *Session) Backward(seeds map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backward(seeds)
}

func (s *Session) backward(seeds map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	if !s.ok {
		return nil, errors.New("grad: Backward needs a successful Forward first")
	}
	g := s.g
	for name, t := range seeds {
		i, ok := g.ofIndex[name]
		if !ok {
			return nil, fmt.Errorf("grad: seed %q: not one of the differentiated values (%s)", name, quoteAll(g.ofNames))
		}
		if t == nil {
			return nil, fmt.Errorf("grad: seed %q: nil tensor", name)
		}
		val := s.env[g.of[i]]
		if t.DType != tensor.Float32 {
			return nil, fmt.Errorf("grad: seed %q: want float32, got %v", name, t.DType)
		}
		if !tensor.SameShape(t.Shape, val.Shape) {
			return nil, fmt.Errorf("grad: seed %q: want the shape of the value, %s, got %s", name, tensor.ShapeString(val.Shape), tensor.ShapeString(t.Shape))
		}
		if d, ok := t.Data.([]float32); !ok || len(d) != val.Len() {
			return nil, fmt.Errorf("grad: seed %q: data does not match shape %s", name, tensor.ShapeString(t.Shape))
		}
	}
	defer s.releaseAll()
	for name, t := range seeds {
		v := g.of[g.ofIndex[name]]
		buf := s.acquire(v)
		copy(buf.F32(), t.F32())
	}
	for k := range g.bwd {
		bn := &g.bwd[k]
		n := &bn.node
		s.in, s.outs, s.dOut, s.dIn = s.in[:0], s.outs[:0], s.dOut[:0], s.dIn[:0]
		live := false
		for _, v := range n.Outputs {
			var t, d *tensor.Tensor
			if v >= 0 {
				t, d = s.env[v], s.grads[v]
			}
			s.outs = append(s.outs, t)
			s.dOut = append(s.dOut, d)
			if d != nil {
				live = true
			}
		}
		if !live {
			continue // nothing downstream depends on this node's outputs in this pass
		}
		for i, v := range n.Inputs {
			var t, d *tensor.Tensor
			if v >= 0 {
				t = s.env[v]
			}
			if bn.diff[i] {
				if t.DType != tensor.Float32 {
					return nil, fmt.Errorf("grad: %s: input %d (%q) is %v; gradients are float32 only", n.Desc, i, g.plan.ValueName(v), t.DType)
				}
				d = s.acquire(v)
			}
			s.in = append(s.in, t)
			s.dIn = append(s.dIn, d)
		}
		if err := safeBackward(bn.op, &s.c, s.in, s.outs, s.dOut, s.dIn); err != nil {
			return nil, fmt.Errorf("grad: %s: backward: %w", n.Desc, err)
		}
		// The outputs' gradients are used up.
		for _, v := range n.Outputs {
			if v >= 0 && s.grads[v] != nil {
				s.pool.put(s.grads[v])
				s.grads[v] = nil
			}
		}
	}
	clear(s.out)
	for i, v := range g.wrt {
		r := s.results[i]
		if s.grads[v] == nil { // the loss does not depend on this input
			r.Reset(tensor.Float32, s.env[v].Shape)
			r.Zero()
		}
		s.out[g.wrtNames[i]] = r
	}
	return s.out, nil
}

// GradBytes is the memory the session holds for the backward pass: pooled gradient buffers,
// the inputs' gradients and scratch (the forward values are the engine session's). After a
// first Backward it is what every later Backward of the same shapes uses.
func (s *Session) GradBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.pool.bytes()
	for _, t := range s.results {
		if d, ok := t.Data.([]float32); ok {
			n += 4 * cap(d)
		}
	}
	for _, b := range s.c.f32 {
		n += 4 * cap(b)
	}
	return n
}

// acquire returns the gradient buffer of value v for this pass, zeroed the first time: the
// wrt inputs' own result buffers, pooled buffers for the others.
func (s *Session) acquire(v int) *tensor.Tensor {
	if t := s.grads[v]; t != nil {
		return t
	}
	shape := s.env[v].Shape
	var t *tensor.Tensor
	if i := s.g.isWrt[v]; i >= 0 {
		t = s.results[i]
		t.Reset(tensor.Float32, shape)
	} else {
		t = s.pool.get(shape)
	}
	t.Zero()
	s.grads[v] = t
	return t
}

// releaseAll returns every pooled gradient buffer still held (a failed pass, or the seeds of
// values no node consumed) and forgets the wrt buffers.
func (s *Session) releaseAll() {
	for v, t := range s.grads {
		if t == nil {
			continue
		}
		if s.g.isWrt[v] < 0 {
			s.pool.put(t)
		}
		s.grads[v] = nil
	}
	clear(s.in[:cap(s.in)])
	clear(s.outs[:cap(s.outs)])
	clear(s.dOut[:cap(s.dOut)])
	clear(s.dIn[:cap(s.dIn)])
}

// Step is a Forward followed by a Backward whose seeds the loss function computes from the
// forward values: loss fills seeds[name] (buffers of each value's shape, zeroed, kept by the
// session) with the gradient of the loss with respect to that value and returns the loss.
// Step returns the loss and the input gradients (borrowed until the session's next call).
// The whole step holds the session, so concurrent Steps on one session do not interleave;
// loss must not call the session.
func (s *Session) Step(feeds map[string]*tensor.Tensor, loss func(vals, seeds map[string]*tensor.Tensor) (float64, error)) (float64, map[string]*tensor.Tensor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vals, err := s.forward(feeds)
	if err != nil {
		return 0, nil, err
	}
	seeds := s.seedBuffers(vals)
	l, err := loss(vals, seeds)
	if err != nil {
		return 0, nil, err
	}
	grads, err := s.backward(seeds)
	return l, grads, err
}

// seedBuffers returns zeroed float32 buffers shaped like vals, kept by the session.
func (s *Session) seedBuffers(vals map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	if s.c.seeds == nil {
		s.c.seeds = make(map[string]*tensor.Tensor, len(vals))
	}
	for name, v := range vals {
		t := s.c.seeds[name]
		if t == nil {
			t = &tensor.Tensor{}
			s.c.seeds[name] = t
		}
		t.Reset(tensor.Float32, v.Shape)
		t.Zero()
	}
	return s.c.seeds
}

// safeBackward runs one backward, turning a panic into an error: a panic is a bug in this
// package, and the message says where.
func safeBackward(op gradOp, c *ctx, in, out, dOut, dIn []*tensor.Tensor) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (panic: %v at %s); please report it with the model", r, panicSite())
		}
	}()
	return op.backward(c, in, out, dOut, dIn)
}

func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, "gendl/gendl/") {
			return fmt.Sprintf("%s:%d", f.File[strings.LastIndex(f.File, "/")+1:], f.Line)
		}
		if !more {
			return "unknown location"
		}
	}
}

// pool keeps the gradient buffers between uses, by element count: get reuses a free buffer
// of exactly the requested size or allocates one. (Reusing a larger buffer would re-slice
// it, and a tensor re-sliced to another length allocates; exact sizes keep a steady-state
// pass allocation-free.) The pool holds, per size, as many buffers as were ever live at once
// (in a VGG, about two per layer shape), fewer than one buffer per value.
type pool struct{ free map[int][]*tensor.Tensor }

func (p *pool) get(shape []int) *tensor.Tensor {
	n := tensor.Numel(shape)
	var t *tensor.Tensor
	if l := p.free[n]; len(l) > 0 {
		t = l[len(l)-1]
		p.free[n] = l[:len(l)-1]
	} else {
		t = &tensor.Tensor{}
	}
	t.Reset(tensor.Float32, shape)
	return t
}

func (p *pool) put(t *tensor.Tensor) {
	if p.free == nil {
		p.free = map[int][]*tensor.Tensor{}
	}
	p.free[t.Len()] = append(p.free[t.Len()], t)
}

// bytes is the memory the pool holds (free buffers).
func (p *pool) bytes() int {
	n := 0
	for _, l := range p.free {
		for _, t := range l {
			n += 4 * cap(t.F32())
		}
	}
	return n
}

// ctx is the state backward kernels share within a session: the thread budget and scratch
// buffers that survive between passes.
type ctx struct {
	threads int
	f32     [][]float32
	seeds   map[string]*tensor.Tensor
	win     window               // geometry of the current Conv or ConvTranspose
	band    kernels.ConvGeometry // geometry of the current band
	pool    window               // geometry of the current pool
}

// scratch returns scratch buffer i with n elements; its contents are unspecified.
func (c *ctx) scratch(i, n int) []float32 {
	for len(c.f32) <= i {
		c.f32 = append(c.f32, nil)
	}
	if cap(c.f32[i]) < n {
		c.f32[i] = make([]float32, n)
	}
	return c.f32[i][:n]
}
