package main

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/vae"
)

// TestVAETrainsAndExports runs `gendl-train vae` on a folder of 40 small images for one epoch,
// loads the exported encoder and decoder back, and resumes for a second epoch.
func TestVAETrainsAndExports(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "images")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		img := image.NewGray(image.Rect(0, 0, 12, 12))
		for y := range 12 {
			for x := range 12 {
				if (x/3+y/3+i)%2 == 0 {
					img.SetGray(x, y, color.Gray{Y: 230})
				}
			}
		}
		if err := imaging.SavePNG(filepath.Join(data, fmt.Sprintf("%02d.png", i)), img); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "vae")
	args := []string{"gendl-train", "vae", "--dataset", data, "--image-size", "8", "--filters", "2,3",
		"--hidden", "4", "--batch", "8", "--epochs", "1", "--out", out, "--progress", "lines"}
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{vae.EncoderFile, vae.DecoderFile} {
		m, err := vae.LoadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.ImageShape != [3]int{1, 8, 8} || m.Config.Hidden != 4 {
			t.Errorf("%s: config %+v", name, m.Config)
		}
	}
	for _, name := range []string{"metrics.jsonl", "loss.png", "samples-epoch-001.png", "best.ckpt"} {
		if _, err := os.Stat(filepath.Join(out, "train", name)); err != nil {
			t.Error(err)
		}
	}
	args = append(args, "--resume")
	args[13] = "2" // --epochs 2
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "train", "metrics.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 2 {
		t.Errorf("metrics after resume: %q %v", b, err)
	}
}

func TestVAEErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dataset", filepath.Join(dir, "none")}, "neither a dataset name"},
		{[]string{"--filters", "32,x"}, "--filters"},
		{[]string{"--optimizer", "sgd"}, "optimizer"},
		{[]string{"--dataset", dir}, "no .png"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		args := append([]string{"gendl-train", "vae", "--out", filepath.Join(dir, "out")}, tc.args...)
		err := newApp().Run(args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
