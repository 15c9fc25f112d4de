package main

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/dream"
)

// tinyDreamFiles writes the tiny random Inception-like model and a 96x80 RGB test picture.
func tinyDreamFiles(t *testing.T) (model, pic string) {
	t.Helper()
	dir := t.TempDir()
	m, err := dream.TinyModel(dream.TinyOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "tiny.onnx")
	if err := writeModel(model, m); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 96, 80))
	for y := range 80 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{uint8(40 + x*2), uint8(200 - y*2), uint8(128 + 60*math.Sin(float64(x*y)/90)), 255})
		}
	}
	pic = filepath.Join(dir, "in.png")
	if err := imaging.SavePNG(pic, img); err != nil {
		t.Fatal(err)
	}
	return model, pic
}

func TestDream(t *testing.T) {
	model, pic := tinyDreamFiles(t)
	dir := t.TempDir()
	for _, name := range []string{"out.png", "out.jpg"} {
		out := filepath.Join(dir, name)
		msg, err := runApp(t, "dream", pic, "--model", model, "--out", out, "--iterations", "3", "--threads", "1")
		if err != nil {
			t.Fatalf("%v\n%s", err, msg)
		}
		for _, want := range []string{"octave 1/3 48x40", "octave 3/3 96x80", "iteration 3/3 loss", "wrote " + out} {
			if !strings.Contains(msg, want) {
				t.Errorf("output lacks %q:\n%s", want, msg)
			}
		}
		got, err := imaging.DecodeFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if b := got.Bounds(); b.Dx() != 96 || b.Dy() != 80 {
			t.Errorf("%s is %v, want 96x80", name, b)
		}
		in, _ := imaging.DecodeFile(pic)
		if diff := maxDiff(in, got); diff < 10 {
			t.Errorf("%s differs from the input by at most %d levels: no dream", name, diff)
		}
	}
	// --size HEIGHT keeps the aspect ratio; --size WxH is exact.
	for size, want := range map[string][2]int{"60": {72, 60}, "70x50": {70, 50}} {
		out := filepath.Join(dir, "s.png")
		if msg, err := runApp(t, "dream", pic, "--model", model, "--out", out, "--iterations", "1", "--octaves", "1", "--size", size); err != nil {
			t.Fatalf("--size %s: %v\n%s", size, err, msg)
		}
		got, err := imaging.DecodeFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if b := got.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] {
			t.Errorf("--size %s: %v, want %dx%d", size, b, want[0], want[1])
		}
	}
}

// maxDiff is the largest difference of an RGB channel between two images of one size, in
// 8-bit levels.
func maxDiff(a, b image.Image) int {
	d := 0
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, v := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				d = max(d, v, -v)
			}
		}
	}
	return d
}

func TestDreamErrors(t *testing.T) {
	model, pic := tinyDreamFiles(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.jpg")
	if err := os.WriteFile(junk, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dream", pic, "--model", model, "--out", out, "--layers", "mixed2=1,mixed7=2"}, `no layer "mixed7"; the layers it computes are: `},
		{[]string{"dream", pic, "--model", model, "--out", out, "--layers", "mixed2=x"}, "--layers"},
		{[]string{"dream", junk, "--model", model, "--out", out}, "junk.jpg"},
		{[]string{"dream", filepath.Join(dir, "missing.png"), "--model", model, "--out", out}, "missing.png"},
		{[]string{"dream", pic, "--model", junk, "--out", out}, "junk.jpg"},
		{[]string{"dream", pic, "--out", out}, "--model is required"},
		{[]string{"dream", pic, "--model", model, "--out", filepath.Join(dir, "o.gif")}, ".png or .jpg"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--max-memory", "1MiB"}, "would need about"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--max-memory", "lots"}, "--max-memory"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--size", "0"}, "--size"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--size", "30"}, "use a larger image"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--octave-scale", "0.5"}, "octave scale"},
		{[]string{"dream", pic, "--model", model, "--out", out, "--input-range", "1,2"}, "input range"},
		{[]string{"dream", "--model", model, "--out", out}, "want one image"},
	} {
		msg, err := runApp(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error containing %q, got %v\n%s", tc.args[1:], tc.want, err, msg)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "dream: ") {
			t.Errorf("%v: error without the dream: prefix: %v", tc.args[1:], err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output")
	}
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29, "1000": 1000, "2 MB": 2e6} {
		if got, err := parseBytes(s); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1G", "x", "0"} {
		if _, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q): no error", s)
		}
	}
}
