package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultIsOpticks(t *testing.T) {
	d := Default()
	// 567,198 bytes: the size of $(go env GOROOT)/src/testdata/Isaac.Newton-Opticks.txt.
	if len(d) != 567198 {
		t.Fatalf("default corpus: %d bytes, want 567198", len(d))
	}
	c, err := New(DefaultName, d, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// 91 distinct runes (python: len(set(text))).
	if got := c.Vocab.Size(); got != 91 {
		t.Errorf("vocabulary: %d runes, want 91", got)
	}
	n := len(c.Train) + len(c.Val)
	if n != 567038 { // runes of the file
		t.Errorf("corpus: %d runes, want 567038", n)
	}
	if want := 28352; len(c.Val) != want { // round(567038 * 0.05)
		t.Errorf("validation: %d runes, want %d", len(c.Val), want)
	}
	if got, want := c.Windows(SplitTrain), (len(c.Train)-60-1)/3+1; got != want {
		t.Errorf("train windows: %d, want %d", got, want)
	}
}

func TestVocabSortedAndLowercase(t *testing.T) {
	c, err := New("t", []byte("Hello, World! hello again."), Options{MaxLen: 3, Step: 1, Lowercase: true})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Vocab.String()
	if want := " !,.adeghilnorw"; got != want {
		t.Errorf("vocabulary %q, want %q", got, want)
	}
	if len(c.Val) != 0 {
		t.Errorf("ValFrac 0: %d validation runes, want 0", len(c.Val))
	}
}

func TestErrors(t *testing.T) {
	opt := Options{MaxLen: 5, Step: 1, ValFrac: 0.1}
	for _, tc := range []struct {
		name string
		data []byte
		opt  Options
		want string
	}{
		{"empty", nil, opt, "is empty"},
		{"invalid", []byte("abc\xffdef"), opt, "byte offset 3"},
		{"truncated rune", []byte("héllo wörld and more text here\xc3"), opt, "byte offset 32"},
		{"short train", []byte("abcd"), Options{MaxLen: 5, Step: 1}, "too short"},
		{"short val", []byte(strings.Repeat("ab", 20)), opt, "held out for validation"},
		{"maxlen", []byte("abc"), Options{MaxLen: 0, Step: 1}, "maxlen"},
		{"step", []byte("abc"), Options{MaxLen: 1, Step: 0}, "step"},
		{"valfrac", []byte("abc"), Options{MaxLen: 1, Step: 1, ValFrac: 1}, "validation fraction"},
	} {
		_, err := New("x.txt", tc.data, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "corpus: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.txt"), opt); err == nil {
		t.Error("missing file: no error")
	}
}

func TestWindowsAndBatches(t *testing.T) {
	text := "abcdefghijklmnopqrstuvwxyz0123456789"
	c, err := New("t", []byte(text), Options{MaxLen: 4, Step: 3, ValFrac: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	// 36 runes, 9 held out: train "abc...z0" (27), windows start 0,3,...,21 (start+4 < 27).
	if len(c.Train) != 27 || c.Windows(SplitTrain) != 8 || c.Windows(SplitVal) != 2 {
		t.Fatalf("train %d runes, %d windows, val %d windows; want 27, 8, 2", len(c.Train), c.Windows(SplitTrain), c.Windows(SplitVal))
	}
	dec := func(ids ...int32) string {
		s := ""
		for _, i := range ids {
			if i < 0 {
				s += "_"
				continue
			}
			s += string(c.Vocab.Rune(int(i)))
		}
		return s
	}
	var b Batch
	c.Fill(&b, SplitTrain, TargetNext, []int{7, 1}, 3)
	// time-major: row t holds character t of windows 7 ("vwxy"), 1 ("defg"), padding.
	var rows []string
	for t := 0; t < 4; t++ {
		rows = append(rows, dec(b.X[t*3:t*3+3]...))
	}
	if got, want := strings.Join(rows, " "), "vd_ we_ xf_ yg_"; got != want {
		t.Errorf("next X %q, want %q", got, want)
	}
	if got, want := dec(b.Y...), "zh_"; got != want {
		t.Errorf("next Y %q, want %q", got, want)
	}
	c.Fill(&b, SplitVal, TargetShifted, []int{1}, 1)
	// validation text "123456789", window 1 starts at 3: "4567" -> "5678".
	if got, want := dec(b.X...)+">"+dec(b.Y...), "4567>5678"; got != want {
		t.Errorf("shifted %q, want %q", got, want)
	}
}

func TestOrderDeterministic(t *testing.T) {
	c, err := New("t", bytes.Repeat([]byte("the quick brown fox "), 20), Options{MaxLen: 5, Step: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, b, e1 := c.Order(7, 0), c.Order(7, 0), c.Order(7, 1)
	if !slices.Equal(a, b) {
		t.Error("same seed and epoch: different orders")
	}
	if slices.Equal(a, e1) {
		t.Error("epochs 0 and 1: same order")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatalf("order is not a permutation of %d windows", len(a))
		}
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "book.txt")
	if err := os.WriteFile(p, []byte(strings.Repeat("to be or not to be ", 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadFile(p, Options{MaxLen: 10, Step: 3, ValFrac: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "book.txt" || c.Vocab.String() != " benort" {
		t.Errorf("name %q vocab %q", c.Name, c.Vocab.String())
	}
}
