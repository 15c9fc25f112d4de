package main

import (
	"image"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/latent"
)

func writeModel(path string, m *onnx.ModelProto) error { return onnx.EncodeFile(path, m) }

// tinyGAN writes a random RGB 8x8 generator with latent size 5.
func tinyGAN(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "gan.onnx")
	if err := imagegen.WriteTiny(p, imagegen.DCGANGenerator, imagegen.TinyOptions{LatentDim: 5, C: 3, H: 8, W: 8, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSampleGAN(t *testing.T) {
	model := tinyGAN(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "s.png")
	msg, err := runApp(t, "sample", "gan", "--model", model, "--n", "10", "--seed", "7", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	img, err := imaging.DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// 10 samples: ceil(sqrt(10)) = 4 columns, 3 rows of 8-pixel tiles, 2-pixel padding.
	if img.Bounds().Dx() != 4*8+5*2 || img.Bounds().Dy() != 3*8+4*2 {
		t.Fatalf("grid %v", img.Bounds())
	}
	// Sample 5 (row 1, column 1) is the generator's image of the 6th N(0, I) point of seed 7,
	// mapped from [-1, 1].
	m, _ := imagegen.LoadFile(model)
	z, _ := latent.Normal(10, 5, 7)
	want, err := m.NewSession(1).Images(z)
	if err != nil {
		t.Fatal(err)
	}
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(12, 12, 20, 20))
	if !sameRGB8(sub, want[5]) {
		t.Error("tile 5 is not sample 5 of seed 7")
	}

	walk := filepath.Join(tmp, "walk.gif")
	if _, err := runApp(t, "sample", "gan", "--model", model, "--interpolate", "--frames", "12", "--points", "3", "--loop", "--out", walk); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(walk)
	a, err := gif.DecodeAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// 8-pixel frames are zoomed 16 times to 128.
	if len(a.Image) != 12 || a.Image[0].Bounds().Dx() != 128 || len(a.Image[0].Palette) > 256 {
		t.Errorf("walk: %d frames of %v", len(a.Image), a.Image[0].Bounds())
	}
	strip := filepath.Join(tmp, "walk.png")
	if _, err := runApp(t, "sample", "gan", "--model", model, "--interpolate", "--frames", "5", "--interpolation", "linear", "--out", strip); err != nil {
		t.Fatal(err)
	}
	if img, _ := imaging.DecodeFile(strip); img.Bounds().Dx() != 5*8+6*2 {
		t.Errorf("strip %v", img.Bounds())
	}
}

// sameRGB8 compares two images' 8-bit RGB values.
func sameRGB8(a, b image.Image) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			if r1>>8 != r2>>8 || g1>>8 != g2>>8 || b1>>8 != b2>>8 {
				return false
			}
		}
	}
	return true
}

func TestSampleGANErrors(t *testing.T) {
	model := tinyGAN(t)
	tmp := t.TempDir()
	dec := filepath.Join(tmp, "dec.onnx")
	imagegen.WriteTiny(dec, imagegen.VAEDecoder, imagegen.TinyOptions{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", dec}, "is a vae-decoder model, want a dcgan-generator"},
		{[]string{"--model", filepath.Join(tmp, "missing.onnx")}, "missing.onnx"},
		{[]string{"--model", model, "--n", "0"}, "--n 0"},
		{[]string{"--model", model, "--out", "x.gif"}, ".gif is for morphs and walks"},
		{[]string{"--model", model, "--interpolate", "--out", "x.txt"}, "want .gif (an animation), or .png/.jpg"},
		{[]string{"--model", model, "--interpolate", "--points", "1"}, "--points 1"},
		{[]string{"--model", model, "--interpolate", "--frames", "1"}, "--frames 1"},
		{[]string{"--model", model, "--interpolation", "cubic"}, `unknown interpolation "cubic"`},
		{[]string{"--model", model, "--pad", "-1", "--out", filepath.Join(tmp, "p.png")}, "--pad -1"},
	} {
		args := append([]string{"sample", "gan"}, c.args...)
		if _, err := runApp(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error containing %q, got %v", c.args, c.want, err)
		}
	}
	help, _ := runApp(t, "sample", "gan", "--help")
	for _, want := range []string{"-n value", "(default: 64)", "(default: \"slerp\")", "--seed value"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestSampleGANDefault runs the embedded default generator with no --model: an 8x8 grid of
// 28-pixel tiles with 2-pixel pads (242 pixels a side) that is not blank.
func TestSampleGANDefault(t *testing.T) {
	out := filepath.Join(t.TempDir(), "g.png")
	if msg, err := runApp(t, "sample", "gan", "--n", "64", "--seed", "7", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	img, err := imaging.DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s is %T, want grayscale", out, img)
	}
	if b := g.Bounds(); b.Dx() != 242 || b.Dy() != 242 {
		t.Fatalf("default samples are %v, want 242x242", b)
	}
	var ink int
	for _, p := range g.Pix {
		if p > 128 {
			ink++
		}
	}
	if ink < 500 {
		t.Errorf("default samples have %d bright pixels: want digits, not a blank grid", ink)
	}
}
