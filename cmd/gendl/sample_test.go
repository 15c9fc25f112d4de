package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
)

// tinyModel exports a randomly initialised tiny char-LSTM (vocabulary "\n .aehst") and
// returns its path.
func tinyModel(t *testing.T) string {
	t.Helper()
	cfg := charlstm.Tiny()
	cfg.Layers = 2
	p, err := charlstm.NewParams(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := charlstm.ExportFile(path, cfg, p); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSampleText(t *testing.T) {
	model := tinyModel(t)
	out, err := runApp(t, "sample", "text", "--model", model, "--seed-text", "the hat", "--length", "50", "--seed", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "the hat") || len([]rune(out)) != len("the hat")+50+1 {
		t.Errorf("want the seed, 50 characters and a newline, got %q", out)
	}
	again, err := runApp(t, "sample", "text", "--model", model, "--seed-text", "the hat", "--length", "50", "--seed", "3")
	if err != nil || again != out {
		t.Errorf("same --seed, different output:\n%q\n%q (%v)", out, again, err)
	}
	other, _ := runApp(t, "sample", "text", "--model", model, "--seed-text", "the hat", "--length", "50", "--seed", "4")
	if other == out {
		t.Errorf("--seed 3 and 4 give the same text %q", out)
	}

	// Default seed text: "the " is the first candidate this vocabulary can encode.
	out, err = runApp(t, "sample", "text", "--model", model, "--length", "5")
	if err != nil || !strings.HasPrefix(out, "the ") {
		t.Errorf("default seed text: got %q, %v", out, err)
	}

	out, err = runApp(t, "sample", "text", "--model", model, "--temperatures", "0.2, 0.5,1.0", "--length", "20", "--top-k", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, h := range []string{"--- temperature 0.2\n", "--- temperature 0.5\n", "--- temperature 1\n"} {
		if !strings.Contains(out, h) {
			t.Errorf("--temperatures output lacks %q:\n%s", h, out)
		}
	}

	g1, err := runApp(t, "sample", "text", "--model", model, "--greedy", "--length", "30", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := runApp(t, "sample", "text", "--model", model, "--greedy", "--length", "30", "--seed", "2")
	if g1 != g2 {
		t.Errorf("--greedy depends on --seed:\n%q\n%q", g1, g2)
	}
}

func TestSampleTextErrors(t *testing.T) {
	model := tinyModel(t)
	notCharLSTM := caseDir + "test_relu/model.onnx"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", model, "--temperature", "0"}, "temperature 0: want a finite number > 0"},
		{[]string{"--model", model, "--temperature", "-1"}, "temperature -1"},
		{[]string{"--model", model, "--temperatures", "0.5,0"}, "temperature 0:"},
		{[]string{"--model", model, "--temperatures", "0.5,hot"}, `--temperatures: "hot" is not a number`},
		{[]string{"--model", model, "--top-k", "-1"}, "--top-k -1"},
		{[]string{"--model", model, "--length", "-1"}, "--length -1"},
		{[]string{"--model", model, "--seed-text", "the cat"}, `character 'c' at position 4 (byte 4) is not in the model's vocabulary`},
		{[]string{"--model", model, "--seed-text", ""}, "--seed-text is empty"},
		{[]string{"--model", notCharLSTM}, "model has no gendl.config metadata: not a gendl char-LSTM"},
		{[]string{"--model", filepath.Join(t.TempDir(), "missing.onnx")}, "missing.onnx"},
	} {
		args := append([]string{"sample", "text"}, c.args...)
		if _, err := runApp(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error containing %q, got %v", args, c.want, err)
		}
	}
	if _, err := runApp(t, "sample", "image", "--model", model); err == nil || !strings.Contains(err.Error(), `unknown kind "image"`) || !strings.Contains(err.Error(), "`text`") {
		t.Errorf("unknown kind: got %v", err)
	}
}

// TestSampleDefaultModel runs the README's first command: no --model, the embedded model.
func TestSampleDefaultModel(t *testing.T) {
	out, err := runApp(t, "sample", "text", "--length", "40", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := runApp(t, "sample", "text", "--length", "40", "--seed", "1")
	if out != again || len([]rune(out)) < 40 {
		t.Fatalf("want 40+ reproducible characters, got %q then %q", out, again)
	}
}
