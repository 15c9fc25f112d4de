package main

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/runtime/style"
)

// styleFiles writes a tiny VGG19 in the zoo's layout (random weights, block 1 of 2
// channels), a 60x48 content picture and a 40x40 style picture.
func styleFiles(t *testing.T) (model, content, styleImg string) {
	t.Helper()
	dir := t.TempDir()
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(5, 19)), vgg19.ZooOptions{Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "vgg19-tiny.onnx")
	if err := writeModel(model, m); err != nil {
		t.Fatal(err)
	}
	pic := func(name string, w, h int, f func(x, y int) color.RGBA) string {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, f(x, y))
			}
		}
		path := filepath.Join(dir, name)
		if err := imaging.Save(path, img); err != nil {
			t.Fatal(err)
		}
		return path
	}
	content = pic("content.png", 60, 48, func(x, y int) color.RGBA {
		return color.RGBA{uint8(60 + 2*x), uint8(200 - 3*y), uint8(128 + 50*math.Sin(float64(x+y)/7)), 255}
	})
	styleImg = pic("style.jpg", 40, 40, func(x, y int) color.RGBA {
		s := 0.5 + 0.5*math.Sin(float64(x)/2)*math.Cos(float64(y)/3)
		return color.RGBA{uint8(30 + 200*s), uint8(60 + 100*s), uint8(200 - 150*s), 255}
	})
	return model, content, styleImg
}

var roundLine = regexp.MustCompile(`round (\d+)/(\d+): loss ([0-9.e+-]+) `)

func TestStyle(t *testing.T) {
	model, content, styleImg := styleFiles(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "styled.png")
	msg, err := runApp(t, "style", "--content", content, "--style", styleImg, "--model", model, "--out", out,
		"--size", "32", "--rounds", "3", "--iterations", "6", "--threads", "1", "--save-every", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, want := range []string{"VGG19 (onnx-zoo layout", "content layer block5_conv2, style layers block1_conv1,block2_conv1,block3_conv1,block4_conv1,block5_conv1",
		"(60x48) in the style of", "40x32: lbfgs 3 rounds x 6 iterations", "initial loss", "saved " + filepath.Join(dir, "styled_round02.png"), "wrote " + out} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	// The loss per round, falling.
	rounds := roundLine.FindAllStringSubmatch(msg, -1)
	if len(rounds) != 3 {
		t.Fatalf("%d round lines, want 3:\n%s", len(rounds), msg)
	}
	prev := math.Inf(1)
	for _, r := range rounds {
		l, err := strconv.ParseFloat(r[3], 64)
		if err != nil || !(l < prev) {
			t.Errorf("round %s: loss %s after %g: want falling", r[1], r[3], prev)
		}
		prev = l
	}
	for _, f := range []string{out, filepath.Join(dir, "styled_round02.png")} {
		img, err := imaging.DecodeFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 32 {
			t.Errorf("%s is %v, want 40x32 (height 32, the content's aspect ratio)", f, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "styled_round03.png")); err == nil {
		t.Error("the last round was saved twice (styled_round03.png and the output)")
	}

	// Adam, noise, JPEG output.
	jpg := filepath.Join(dir, "adam.jpg")
	msg, err = runApp(t, "style", "--content", content, "--style", styleImg, "--model", model, "--out", jpg,
		"--size", "32", "--rounds", "2", "--iterations", "3", "--optimizer", "adam", "--lr", "3", "--init", "noise", "--seed", "4")
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if !strings.Contains(msg, "adam 2 rounds x 3 iterations") || len(roundLine.FindAllString(msg, -1)) != 2 {
		t.Errorf("adam run:\n%s", msg)
	}
	if _, err := imaging.DecodeFile(jpg); err != nil {
		t.Error(err)
	}
}

// TestStyleGeneric runs a network that is not a VGG19: a tiny InceptionV3-like model with
// Keras names, its input range from its metadata, the InceptionV3 defaults (layers and
// style weight), then layers chosen by name.
func TestStyleGeneric(t *testing.T) {
	_, content, styleImg := styleFiles(t)
	dir := t.TempDir()
	m, err := style.TinyInception(style.TinyOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "tiny_inception.onnx")
	if err := writeModel(model, m); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	msg, err := runApp(t, "style", "--content", content, "--style", styleImg, "--model", model, "--out", out, "--size", "40", "--rounds", "2", "--iterations", "4")
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, want := range []string{`generic network, input "input_1" RGB in [-1,1]`, "content layer mixed2, style layers activation_1,activation_3,activation_5,mixed0,mixed3",
		"weights content 0.025 style 1e+06 tv 0.0001", "round 2/2: loss"} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	msg, err = runApp(t, "style", "--content", content, "--style", styleImg, "--model", model, "--out", out, "--size", "40", "--rounds", "1", "--iterations", "3",
		"--content-layer", "mixed1", "--style-layers", "activation_2, mixed0", "--style-weight", "50", "--input-range", "0,1")
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, want := range []string{`RGB in [0,1]`, "content layer mixed1, style layers activation_2,mixed0", "weights content 0.025 style 50 tv 0.0001"} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	_, err = runApp(t, "style", "--content", content, "--style", styleImg, "--model", model, "--out", out, "--content-layer", "mixed7")
	if err == nil || !strings.Contains(err.Error(), `no layer "mixed7"; available: conv2d_1, activation_1`) {
		t.Errorf("missing layer: %v", err)
	}
}

func TestStyleErrors(t *testing.T) {
	model, content, styleImg := styleFiles(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.jpg")
	if err := os.WriteFile(junk, []byte("not a picture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.png")
	base := []string{"style", "--content", content, "--style", styleImg, "--model", model, "--out", out, "--size", "32", "--rounds", "1", "--iterations", "2"}
	with := func(args ...string) []string { return append(append([]string{}, base...), args...) }
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no model", []string{"style", "--content", content, "--style", styleImg}, []string{"missing --model"}},
		{"no images", []string{"style", "--model", model}, []string{"missing --content, --style"}},
		{"bad content", with("--content", junk), []string{"content image", "junk.jpg", "not a PNG, JPEG or GIF"}},
		{"bad style", with("--style", filepath.Join(dir, "none.png")), []string{"style image", "none.png"}},
		{"bad out", with("--out", filepath.Join(dir, "o.bmp")), []string{".png or .jpg"}},
		{"missing layer", with("--content-layer", "block6_conv1"), []string{`no layer "block6_conv1"`, "block1_conv1, block1_conv2"}},
		{"missing style layer", with("--style-layers", "block1_conv1,fc7"), []string{`no layer "fc7"`, "block1_conv1, block1_conv2"}},
		{"too big", with("--size", "4000", "--max-memory", "64MiB"), []string{"would need about", "more than --max-memory 64.0 MiB"}},
		{"too small", with("--size", "8"), []string{"10x8 image", "too small"}},
		{"bad weight", with("--tv-weight", "-1"), []string{"total-variation weight -1"}},
		{"bad optimizer", with("--optimizer", "sgd"), []string{`--optimizer "sgd"`}},
		{"bad init", with("--init", "zeros"), []string{`--init "zeros"`}},
		{"bad norm", with("--style-norm", "gram"), []string{`normalisation "gram"`}},
		{"bad memory", with("--max-memory", "lots"), []string{"--max-memory", `"lots"`}},
		{"bad preprocessing", with("--vgg-preprocessing", "hsv"), []string{`channel order "hsv"`}},
		{"not vgg", with("--network", "vgg19", "--model", writeJunkModel(t, dir)), []string{"style:"}},
		{"argument", with("extra"), []string{`unexpected argument "extra"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := runApp(t, tc.args...)
			if err == nil {
				t.Fatalf("no error; output:\n%s", msg)
			}
			if !strings.HasPrefix(err.Error(), "style: ") {
				t.Errorf("error %q: want the prefix \"style: \"", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q: want it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output")
	}
}

// writeJunkModel writes a valid ONNX file that is not a VGG19: the committed example conv net.
func writeJunkModel(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/convnet/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "convnet.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundPath(t *testing.T) {
	for in, want := range map[string]string{"styled.png": "styled_round07.png", "a/b.c.jpg": "a/b.c_round07.jpg"} {
		if got := roundPath(in, 7); got != want {
			t.Errorf("roundPath(%q) = %q, want %q", in, got, want)
		}
	}
}
