package sample

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Spec names the values of a recurrent model that a Sampler runs at batch 1.
type Spec struct {
	// Input is the one-hot input, float32 [T, 1, VocabSize].
	Input string
	// Probs is the output distribution, float32 [T, 1, VocabSize].
	Probs string
	// VocabSize is V.
	VocabSize int
	// States are the carried states: each output Out is fed back as input In on the next
	// run; the first run feeds zeros of Shape (at batch 1).
	States []State
}

// State is one carried state of a recurrent model.
type State struct {
	In, Out string
	Shape   []int
}

// pcgStream is the second PCG word of every Sampler's generator (the first is the seed).
const pcgStream = 0x67656e646c // "gendl"

// Sampler generates sequences from a recurrent model. It is not safe for concurrent use.
type Sampler struct {
	sess  *engine.Session
	spec  Spec
	rng   *rand.Rand
	names []string // outputs requested from each run: Probs, then the state outputs

	feeds   map[string]*tensor.Tensor
	step    *tensor.Tensor // [1, 1, V] one-hot, reused
	last    int            // index set in step, -1 when clear
	probs   []float32      // the last step's distribution; nil before any Feed
	scratch []float64
}

// New returns a Sampler of the model sess runs, drawing with a PCG generator seeded by seed.
// The state starts at zero.
func New(sess *engine.Session, spec Spec, seed uint64) (*Sampler, error) {
	if sess == nil {
		return nil, errors.New("sample: nil session")
	}
	if spec.Input == "" || spec.Probs == "" {
		return nil, errors.New("sample: spec must name the input and the probabilities")
	}
	if spec.VocabSize < 1 {
		return nil, fmt.Errorf("sample: vocabulary size %d, want >= 1", spec.VocabSize)
	}
	s := &Sampler{sess: sess, spec: spec, names: []string{spec.Probs}, last: -1,
		step: tensor.New(tensor.Float32, 1, 1, spec.VocabSize), feeds: map[string]*tensor.Tensor{}}
	for _, st := range spec.States {
		if st.In == "" || st.Out == "" {
			return nil, errors.New("sample: a state has no input or output name")
		}
		s.names = append(s.names, st.Out)
	}
	s.Seed(seed)
	s.Reset()
	return s, nil
}

// Seed restarts the random generator from seed.
func (s *Sampler) Seed(seed uint64) { s.rng = rand.New(rand.NewPCG(seed, pcgStream)) }

// Reset sets every state to zero and forgets the last distribution.
func (s *Sampler) Reset() {
	for _, st := range s.spec.States {
		s.feeds[st.In] = tensor.New(tensor.Float32, st.Shape...)
	}
	s.probs = nil
}

// Probs returns the distribution after the last symbol fed (nil before any Feed). It is the
// sampler's own slice, valid until the next Feed.
func (s *Sampler) Probs() []float32 { return s.probs }

// Feed runs the model over idx in one run (T = len(idx)), carrying the state, and keeps the
// distribution of the last step.
func (s *Sampler) Feed(idx []int) error {
	if len(idx) == 0 {
		return errors.New("sample: nothing to feed (empty seed)")
	}
	V := s.spec.VocabSize
	for k, i := range idx {
		if i < 0 || i >= V {
			return fmt.Errorf("sample: index %d at position %d is outside the vocabulary of %d symbols", i, k, V)
		}
	}
	var x *tensor.Tensor
	if len(idx) == 1 {
		if s.last >= 0 {
			s.step.F32()[s.last] = 0
		}
		s.step.F32()[idx[0]] = 1
		s.last = idx[0]
		x = s.step
	} else {
		x = tensor.New(tensor.Float32, len(idx), 1, V)
		for t, i := range idx {
			x.F32()[t*V+i] = 1
		}
	}
	s.feeds[s.spec.Input] = x
	out, err := s.sess.Run(s.feeds, s.names...)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	p := out[s.spec.Probs]
	if p.DType != tensor.Float32 || !tensor.SameShape(p.Shape, []int{len(idx), 1, V}) {
		return fmt.Errorf("sample: %q is %v, want float32[%d 1 %d]", s.spec.Probs, p, len(idx), V)
	}
	s.probs = p.F32()[(len(idx)-1)*V:]
	for _, st := range s.spec.States {
		o := out[st.Out]
		if !tensor.SameShape(o.Shape, st.Shape) {
			return fmt.Errorf("sample: state %q has shape %s, want %s", st.Out, tensor.ShapeString(o.Shape), tensor.ShapeString(st.Shape))
		}
		s.feeds[st.In] = o
	}
	return nil
}

// Next draws a symbol from the current distribution according to opt (it does not feed it).
func (s *Sampler) Next(opt Options) (int, error) {
	if s.probs == nil {
		return -1, errors.New("sample: no distribution yet: feed a seed first")
	}
	return Choose(s.probs, opt, s.rng, &s.scratch)
}

// Generate resets the state, primes it with seed in one run, then draws n symbols, calling
// emit with each as soon as it is drawn and feeding it back (one run per symbol).
func (s *Sampler) Generate(seed []int, n int, opt Options, emit func(int) error) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("sample: length %d, want >= 0", n)
	}
	s.Reset()
	if err := s.Feed(seed); err != nil {
		return err
	}
	for k := range n {
		c, err := s.Next(opt)
		if err != nil {
			return err
		}
		if err := emit(c); err != nil {
			return err
		}
		if k < n-1 {
			if err := s.Feed([]int{c}); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteText is Generate for a vocabulary of runes: each generated rune is written to w as
// soon as it is drawn (w is not buffered here; wrap a slow writer in a bufio.Writer and flush
// it). vocab[i] is the rune of index i.
func (s *Sampler) WriteText(w io.Writer, vocab []rune, seed []int, n int, opt Options) error {
	if len(vocab) != s.spec.VocabSize {
		return fmt.Errorf("sample: %d runes for a vocabulary of %d symbols", len(vocab), s.spec.VocabSize)
	}
	var buf [utf8.UTFMax]byte
	return s.Generate(seed, n, opt, func(i int) error {
		k := utf8.EncodeRune(buf[:], vocab[i])
		_, err := w.Write(buf[:k])
		return err
	})
}
