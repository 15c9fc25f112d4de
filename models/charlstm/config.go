package charlstm

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Targets of training (Config.Target), as in the book.
const (
	// TargetNext trains on windows of MaxLen characters to predict the one that follows.
	TargetNext = "next"
	// TargetShifted trains on windows of MaxLen characters to predict the same window shifted
	// by one character (a loss at every step).
	TargetShifted = "shifted"
)

// Limits on a configuration, so that a hostile model file cannot make Load loop or allocate
// without bound.
const (
	MaxLayers = 64
	MaxHidden = 1 << 14
	MaxVocab  = 1 << 16
)

// Config describes a char-LSTM: its vocabulary, its architecture and how it was trained. It is
// stored as JSON in the exported model's metadata ("gendl.config").
type Config struct {
	// Vocabulary holds the runes of the vocabulary in index order: rune k is one-hot index k.
	Vocabulary string `json:"vocabulary"`
	// Lowercase maps text to lower case (per rune, unicode.ToLower) before encoding.
	Lowercase bool `json:"lowercase"`
	// Layers is the number of stacked LSTM layers (>= 1).
	Layers int `json:"layers"`
	// Hidden is the number of units of every LSTM layer.
	Hidden int `json:"hidden"`
	// MaxLen is the training window in characters (the book: 60).
	MaxLen int `json:"maxlen"`
	// Step is the stride between training windows (the book: 3).
	Step int `json:"step"`
	// Target is TargetNext or TargetShifted.
	Target string `json:"target"`
	// Corpus names the training text (a file name, not a path that must exist).
	Corpus string `json:"corpus,omitempty"`
	// Train is the trainer's own configuration and results (optimizer, learning rate, epochs,
	// losses...), kept verbatim; this package does not interpret it.
	Train json.RawMessage `json:"train,omitempty"`
}

// Tiny returns a small configuration for tests: 8 runes, one layer of 8 units.
func Tiny() Config {
	return Config{Vocabulary: "\n .aehst", Layers: 1, Hidden: 8, MaxLen: 10, Step: 3, Target: TargetNext, Corpus: "tiny"}
}

// Validate checks the configuration: a vocabulary of distinct runes in valid UTF-8, sizes
// within the limits, a known target.
func (c Config) Validate() error {
	if _, err := c.Vocab(); err != nil {
		return err
	}
	switch {
	case c.Layers < 1 || c.Layers > MaxLayers:
		return fmt.Errorf("charlstm: config: layers = %d, want 1 to %d", c.Layers, MaxLayers)
	case c.Hidden < 1 || c.Hidden > MaxHidden:
		return fmt.Errorf("charlstm: config: hidden = %d, want 1 to %d", c.Hidden, MaxHidden)
	case c.MaxLen < 1:
		return fmt.Errorf("charlstm: config: maxlen = %d, want >= 1", c.MaxLen)
	case c.Step < 1:
		return fmt.Errorf("charlstm: config: step = %d, want >= 1", c.Step)
	case c.Target != TargetNext && c.Target != TargetShifted:
		return fmt.Errorf("charlstm: config: target = %q, want %q or %q", c.Target, TargetNext, TargetShifted)
	}
	return nil
}

// VocabSize returns the number of runes of the vocabulary.
func (c Config) VocabSize() int { return utf8.RuneCountInString(c.Vocabulary) }

// Vocab returns the configuration's vocabulary codec.
func (c Config) Vocab() (*Vocab, error) { return NewVocab(c.Vocabulary, c.Lowercase) }

// Vocab maps runes to one-hot indices and back.
type Vocab struct {
	runes     []rune
	index     map[rune]int
	lowercase bool
}

// NewVocab returns the vocabulary whose rune k is the k-th rune of chars. chars must be
// valid UTF-8, non-empty, without repeated runes; with lowercase, it must not hold upper-case
// runes (text is lower-cased before encoding, so they could never be produced).
func NewVocab(chars string, lowercase bool) (*Vocab, error) {
	if chars == "" {
		return nil, errors.New("charlstm: empty vocabulary")
	}
	if !utf8.ValidString(chars) {
		return nil, errors.New("charlstm: vocabulary is not valid UTF-8")
	}
	v := &Vocab{index: map[rune]int{}, lowercase: lowercase}
	for _, r := range chars {
		if _, dup := v.index[r]; dup {
			return nil, fmt.Errorf("charlstm: vocabulary holds %q twice", r)
		}
		if lowercase && unicode.ToLower(r) != r {
			return nil, fmt.Errorf("charlstm: vocabulary of a lower-case model holds %q", r)
		}
		v.index[r] = len(v.runes)
		v.runes = append(v.runes, r)
	}
	if len(v.runes) > MaxVocab {
		return nil, fmt.Errorf("charlstm: vocabulary of %d runes, want at most %d", len(v.runes), MaxVocab)
	}
	return v, nil
}

// VocabFromText returns the vocabulary of text: its distinct runes (after lower-casing when
// lowercase is set) in increasing code point order, as the book's sorted(set(text)).
func VocabFromText(text string, lowercase bool) (*Vocab, error) {
	if !utf8.ValidString(text) {
		_, pos, _ := firstInvalid(text)
		return nil, fmt.Errorf("charlstm: text is not valid UTF-8 (byte %d)", pos)
	}
	seen := map[rune]bool{}
	for _, r := range text {
		if lowercase {
			r = unicode.ToLower(r)
		}
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	return NewVocab(string(runes), lowercase)
}

// Size returns the number of runes, V.
func (v *Vocab) Size() int { return len(v.runes) }

// String returns the runes in index order (Config.Vocabulary).
func (v *Vocab) String() string { return string(v.runes) }

// Lowercase reports whether text is lower-cased before encoding.
func (v *Vocab) Lowercase() bool { return v.lowercase }

// Rune returns the rune of index i; i must be in [0, Size()).
func (v *Vocab) Rune(i int) rune { return v.runes[i] }

// Runes returns a copy of the runes in index order.
func (v *Vocab) Runes() []rune { return slices.Clone(v.runes) }

// Index returns the index of r (after lower-casing when the vocabulary does so).
func (v *Vocab) Index(r rune) (int, bool) {
	if v.lowercase {
		r = unicode.ToLower(r)
	}
	i, ok := v.index[r]
	return i, ok
}

// Normalize returns text as the model sees it: lower-cased rune by rune (unicode.ToLower)
// when the vocabulary is lower-case, unchanged otherwise. Rune positions are preserved.
func (v *Vocab) Normalize(text string) string {
	if !v.lowercase {
		return text
	}
	return NormalizeText(text, true)
}

// NormalizeText lower-cases text rune by rune when lowercase is set; the rune count does not
// change (strings.ToLower may change it for a few runes).
func NormalizeText(text string, lowercase bool) string {
	if !lowercase {
		return text
	}
	out := make([]rune, 0, len(text))
	for _, r := range text {
		out = append(out, unicode.ToLower(r))
	}
	return string(out)
}

// Encode returns the indices of text's runes (lower-cased first when the vocabulary is). A
// rune outside the vocabulary or invalid UTF-8 is an error naming the first offending
// character and its position (in runes from 0, and in bytes).
func (v *Vocab) Encode(text string) ([]int, error) {
	out := make([]int, 0, len(text))
	pos := 0
	for off, r := range text {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(text[off:]); size <= 1 {
				return nil, fmt.Errorf("charlstm: text is not valid UTF-8 at character %d (byte %d)", pos, off)
			}
		}
		i, ok := v.Index(r)
		if !ok {
			return nil, fmt.Errorf("charlstm: character %q at position %d (byte %d) is not in the model's vocabulary of %d characters %s", r, pos, off, len(v.runes), v.quoted())
		}
		out = append(out, i)
		pos++
	}
	return out, nil
}

// quoted shows the vocabulary for an error message, shortened when long.
func (v *Vocab) quoted() string {
	const max = 100
	if len(v.runes) <= max {
		return fmt.Sprintf("%q", string(v.runes))
	}
	return fmt.Sprintf("%q...", string(v.runes[:max]))
}

// Decode returns the text of indices; an index outside [0, Size()) is an error.
func (v *Vocab) Decode(idx []int) (string, error) {
	out := make([]rune, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(v.runes) {
			return "", fmt.Errorf("charlstm: index %d at position %d is outside the vocabulary of %d characters", i, k, len(v.runes))
		}
		out[k] = v.runes[i]
	}
	return string(out), nil
}

// firstInvalid returns the rune position and byte offset of the first invalid UTF-8
// sequence of s; ok is false when s is valid.
func firstInvalid(s string) (runePos, byteOff int, ok bool) {
	for off, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[off:]); size <= 1 {
				return runePos, off, true
			}
		}
		runePos++
	}
	return 0, 0, false
}
