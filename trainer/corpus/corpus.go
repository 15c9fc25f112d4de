package corpus

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/gendl/gendl/models/charlstm"
)

//go:embed data/Isaac.Newton-Opticks.txt
var opticks []byte

// DefaultName is the name of the embedded default corpus.
const DefaultName = "Isaac.Newton-Opticks.txt"

// Default returns the embedded default corpus: Newton's Opticks (public domain; see
// data/README.md). The caller must not modify the returned bytes.
func Default() []byte { return opticks }

// Targets, as the book defines them (the same strings as charlstm.Config.Target).
const (
	TargetNext    = charlstm.TargetNext
	TargetShifted = charlstm.TargetShifted
)

// Options control how a text becomes training windows.
type Options struct {
	// MaxLen is the window length in characters (the book: 60).
	MaxLen int
	// Step is the stride between window starts (the book: 3).
	Step int
	// ValStep is the stride between the validation windows' starts; 0 means Step. A fixed
	// ValStep keeps the validation loss comparable between runs trained with different
	// strides.
	ValStep int
	// Lowercase maps the text to lower case (unicode.ToLower, per rune) first.
	Lowercase bool
	// ValFrac is the fraction of the text, taken from its end, held out for validation
	// (karpathy/char-rnn: 0.05). 0 disables validation.
	ValFrac float64
}

// DefaultOptions returns the book's windows (maxlen 60, step 3), case kept, and a 5%
// validation split.
func DefaultOptions() Options { return Options{MaxLen: 60, Step: 3, ValFrac: 0.05} }

// Corpus is an encoded text split into a training and a validation part.
type Corpus struct {
	// Name names the text (a file's base name, or DefaultName).
	Name string
	// Vocab is the sorted set of the text's runes (after lower-casing when asked).
	Vocab *charlstm.Vocab
	// Opt are the options the corpus was built with.
	Opt Options
	// Train and Val are the two parts of the text as vocabulary indices; Val follows Train
	// in the text. Windows never cross the boundary.
	Train, Val []int32
}

// ReadFile reads and builds the corpus in path; path "" means the embedded default.
func ReadFile(path string, opt Options) (*Corpus, error) {
	if path == "" {
		return New(DefaultName, Default(), opt)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return New(filepath.Base(path), data, opt)
}

// New builds a corpus from UTF-8 text. It fails on invalid UTF-8 (naming the byte offset),
// on bad options, and on a text too short to give at least one training window and, when
// ValFrac > 0, one validation window.
func New(name string, data []byte, opt Options) (*Corpus, error) {
	switch {
	case opt.MaxLen < 1:
		return nil, fmt.Errorf("corpus: maxlen = %d, want >= 1", opt.MaxLen)
	case opt.Step < 1:
		return nil, fmt.Errorf("corpus: step = %d, want >= 1", opt.Step)
	case opt.ValStep < 0:
		return nil, fmt.Errorf("corpus: validation step = %d, want >= 1 (0: the step)", opt.ValStep)
	case !(opt.ValFrac >= 0 && opt.ValFrac < 1):
		return nil, fmt.Errorf("corpus: validation fraction = %v, want in [0, 1)", opt.ValFrac)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("corpus: %s is empty", name)
	}
	if off, bad := invalidUTF8(data); bad {
		return nil, fmt.Errorf("corpus: %s is not valid UTF-8: bad byte 0x%02x at byte offset %d", name, data[off], off)
	}
	text := charlstm.NormalizeText(string(data), opt.Lowercase)
	vocab, err := charlstm.VocabFromText(text, opt.Lowercase)
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", name, err)
	}
	idx, err := vocab.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", name, err)
	}
	n := len(idx)
	nVal := int(math.Round(float64(n) * opt.ValFrac))
	c := &Corpus{Name: name, Vocab: vocab, Opt: opt}
	all := make([]int32, n)
	for i, v := range idx {
		all[i] = int32(v)
	}
	c.Train, c.Val = all[:n-nVal:n-nVal], all[n-nVal:]
	// A window needs MaxLen inputs and one more character for its last target.
	if len(c.Train) < opt.MaxLen+1 {
		return nil, fmt.Errorf("corpus: %s is too short: %d characters for training, want at least maxlen+1 = %d", name, len(c.Train), opt.MaxLen+1)
	}
	if opt.ValFrac > 0 && len(c.Val) < opt.MaxLen+1 {
		return nil, fmt.Errorf("corpus: %s is too short: %d characters held out for validation (%.3g of %d), want at least maxlen+1 = %d; lower maxlen or raise the validation fraction",
			name, len(c.Val), opt.ValFrac, n, opt.MaxLen+1)
	}
	return c, nil
}

// invalidUTF8 returns the byte offset of the first invalid UTF-8 sequence of b.
func invalidUTF8(b []byte) (int, bool) {
	for off := 0; off < len(b); {
		r, size := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && size <= 1 {
			return off, true
		}
		off += size
	}
	return 0, false
}

// Split selects a part of the corpus.
type Split int

const (
	SplitTrain Split = iota
	SplitVal
)

func (s Split) String() string {
	if s == SplitVal {
		return "validation"
	}
	return "train"
}

// Text returns the indices of a split.
func (c *Corpus) Text(s Split) []int32 {
	if s == SplitVal {
		return c.Val
	}
	return c.Train
}

// Windows returns the number of windows of a split: starts 0, step, 2·step, ... with
// start+MaxLen < len(text), so that every window has its next character (step: Step, or
// ValStep for the validation split when it is set).
func (c *Corpus) Windows(s Split) int {
	n := len(c.Text(s)) - c.Opt.MaxLen
	if n <= 0 {
		return 0
	}
	return (n-1)/c.stride(s) + 1
}

// stride is the distance between window starts in split s.
func (c *Corpus) stride(s Split) int {
	if s == SplitVal && c.Opt.ValStep > 0 {
		return c.Opt.ValStep
	}
	return c.Opt.Step
}

// Batch is a set of windows in time-major order.
type Batch struct {
	// N is the number of windows (rows) in the batch; Size - N rows are padding.
	N int
	// Size is the batch capacity the arrays are laid out for.
	Size int
	// T is the window length (MaxLen).
	T int
	// X holds the input characters, time-major: X[t*Size+n] is character t of window n.
	X []int32
	// Y holds the targets: for TargetNext, Y[n] is the character after window n (len Size);
	// for TargetShifted, Y[t*Size+n] = X[(t+1)*Size+n], the window shifted by one (len T*Size).
	Y []int32
}

// Fill writes the windows with the given indices of split s into b (which it sizes for
// capacity size); rows past len(win) are padding with index -1 targets.
func (c *Corpus) Fill(b *Batch, s Split, target string, win []int, size int) {
	T := c.Opt.MaxLen
	text := c.Text(s)
	b.N, b.Size, b.T = len(win), size, T
	b.X = resize(b.X, T*size)
	ny := size
	if target == TargetShifted {
		ny = T * size
	}
	b.Y = resize(b.Y, ny)
	for i := range b.X {
		b.X[i] = -1
	}
	for i := range b.Y {
		b.Y[i] = -1
	}
	step := c.stride(s)
	for n, w := range win {
		start := w * step
		for t := 0; t < T; t++ {
			b.X[t*size+n] = text[start+t]
			if target == TargetShifted {
				b.Y[t*size+n] = text[start+t+1]
			}
		}
		if target != TargetShifted {
			b.Y[n] = text[start+T]
		}
	}
}

func resize(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// Order returns the order in which epoch visits the windows of the training split: a
// permutation drawn from (seed, epoch) alone, so that a resumed run sees the same batches.
func (c *Corpus) Order(seed uint64, epoch int) []int {
	rng := rand.New(rand.NewPCG(seed, uint64(epoch)))
	return rng.Perm(c.Windows(SplitTrain))
}

// Batches returns the number of batches of size (the last one may be partial) covering n
// windows.
func Batches(n, size int) int { return (n + size - 1) / size }
