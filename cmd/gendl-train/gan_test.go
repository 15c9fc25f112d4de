package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/classifier"
	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/onnx"
)

// imageFolder writes 8x8 grayscale PNGs of two classes (a bright row or a bright column) in
// subdirectories of a new folder.
func imageFolder(t *testing.T, n int) string {
	dir := t.TempDir()
	for k, class := range []string{"row", "column"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for y := range 8 {
				for x := range 8 {
					if (k == 0 && y == i%8) || (k == 1 && x == i%8) {
						img.SetGray(x, y, color.Gray{Y: 230})
					}
				}
			}
			if err := imaging.SavePNG(filepath.Join(dir, class, fmt.Sprintf("%03d.png", i)), img); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestGANClassifierEval runs the three commands end to end on a folder of 8x8 images: train a
// tiny DCGAN (and resume it), train a classifier, and score the generator with it.
func TestGANClassifierEval(t *testing.T) {
	data := imageFolder(t, 20)
	dir := t.TempDir()
	gan := filepath.Join(dir, "gan.onnx")
	args := []string{"gendl-train", "gan", "--dataset", data, "--image-size", "8", "--out", gan, "--steps", "4", "--batch", "4",
		"--latent-dim", "3", "--gen-base", "3", "--gen-filters", "4,2", "--disc-filters", "2,3", "--out-kernel", "3",
		"--sample-every", "2", "--samples", "4", "--log-every", "2", "--checkpoint-every", "2", "--progress", "off", "--max-steps", "2"}
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(gan); err == nil {
		t.Error("a run stopped by --max-steps exported the model")
	}
	args = append(args[:len(args)-2], "--resume")
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	g, err := dcgan.LoadFile(gan)
	if err != nil {
		t.Fatal(err)
	}
	if g.Config.ImageShape != [3]int{1, 8, 8} || g.Config.LatentDim != 3 {
		t.Errorf("generator config %+v", g.Config)
	}
	for _, name := range []string{"metrics.jsonl", "loss.png", "samples-step-0000004.png", "progress.gif", "step-000000004.ckpt"} {
		if _, err := os.Stat(filepath.Join(dir, "gan.train", name)); err != nil {
			t.Error(err)
		}
	}

	clf := filepath.Join(dir, "clf.onnx")
	if err := newApp().Run([]string{"gendl-train", "classifier", "--dataset", data, "--image-size", "8", "--out", clf,
		"--epochs", "2", "--batch", "8", "--filters", "2,3", "--kernel", "3", "--hidden", "6", "--progress", "off"}); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.DecodeFile(clf)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := classifier.Load(m); err != nil || strings.Join(c.Config.Classes, ",") != "column,row" {
		t.Errorf("classifier: %v %v", c, err)
	}

	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	report := filepath.Join(dir, "eval.json")
	if err := app.Run([]string{"gendl-train", "eval", "gan", "--model", gan, "--classifier", clf, "--dataset", data,
		"--samples", "40", "--splits", "4", "--json", report}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"classifier inception score", "Fréchet distance", "real " + data + " test set"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval output %q lacks %q", out.String(), want)
		}
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), `"inception_score"`) {
		t.Errorf("JSON report: %s %v", b, err)
	}
}

func TestGANEvalErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gan", "--optimizer", "sgd"}, `optimizer "sgd"`},
		{[]string{"gan", "--dataset", dir}, "holds no"},
		{[]string{"gan", "--gen-filters", "4,x"}, `"x" is not an integer`},
		{[]string{"gan", "--resume", "--checkpoint-dir", dir}, "no checkpoint"},
		{[]string{"gan", "stray"}, "unexpected argument"},
		{[]string{"classifier", "--filters", "a"}, "--filters"},
		{[]string{"eval", "gan", "--model", "x.onnx"}, "--model and --classifier are required"},
		{[]string{"eval", "gan", "--model", filepath.Join(dir, "none.onnx"), "--classifier", "c.onnx"}, "none.onnx"},
	} {
		err := newApp().Run(append([]string{"gendl-train"}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
