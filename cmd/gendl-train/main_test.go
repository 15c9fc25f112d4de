package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/corpus"
)

// TestTextTrainsAndExports runs `gendl-train text` on a tiny corpus for one epoch and loads
// the exported model back; then resumes it for a second epoch.
func TestTextTrainsAndExports(t *testing.T) {
	dir := t.TempDir()
	book := filepath.Join(dir, "book.txt")
	if err := os.WriteFile(book, corpus.Default()[:1500], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "lstm.onnx")
	args := []string{"gendl-train", "text", "--corpus", book, "--out", out, "--epochs", "1",
		"--maxlen", "8", "--step", "5", "--hidden", "6", "--batch", "32", "--target", "shifted", "--sample-length", "20", "--lowercase"}
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	if _, err := charlstm.LoadFile(out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"metrics.jsonl", "samples.txt", "loss.png", "steps.tsv"} {
		if _, err := os.Stat(filepath.Join(dir, "lstm.train", name)); err != nil {
			t.Error(err)
		}
	}
	args[len(args)-1] = "--resume"
	args[7] = "2" // --epochs 2
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "lstm.train", "metrics.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 2 {
		t.Errorf("metrics after resume: %q %v", b, err)
	}
}

func TestTextErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("abc\xff"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--corpus", bad}, "byte offset 3"},
		{[]string{"--optimizer", "sgd"}, "optimizer"},
		{[]string{"--resume", "--checkpoint-dir", dir}, "no checkpoint"},
		{[]string{"stray"}, "unexpected argument"},
		{[]string{"--sample-temperatures", "0.5,warm"}, `"warm" is not a number`},
		{[]string{"--sample-temperatures", "0.5,0"}, "sample temperature 0"},
		{[]string{"--sample-length", "-1"}, "sample length"},
		{[]string{"--progress", "fancy"}, "progress"},
	} {
		args := append([]string{"gendl-train", "text", "--out", filepath.Join(dir, "x.onnx")}, tc.args...)
		err := newApp().Run(args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
