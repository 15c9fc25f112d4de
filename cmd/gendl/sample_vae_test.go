package main

import (
	"bufio"
	"bytes"
	"image"
	"image/gif"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/latent"
	"github.com/gendl/gendl/runtime/tensor"
)

// tinyVAE writes a random tiny VAE (dense layers, 28x28 grayscale, latent 2, trained on
// "mnist" by its metadata) as dir/decoder.onnx and dir/encoder.onnx and returns dir.
func tinyVAE(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	opt := imagegen.TinyOptions{LatentDim: 2, C: 1, H: 28, W: 28, Seed: 3, Dataset: "mnist"}
	if err := imagegen.WriteTiny(filepath.Join(dir, "decoder.onnx"), imagegen.VAEDecoder, opt); err != nil {
		t.Fatal(err)
	}
	// Small encoder weights keep the codes in the decoder's interesting range.
	if err := imagegen.WriteTiny(filepath.Join(dir, "encoder.onnx"), imagegen.VAEEncoder, opt); err != nil {
		t.Fatal(err)
	}
	return dir
}

func session(t *testing.T, path string) *imagegen.Session {
	t.Helper()
	m, err := imagegen.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m.NewSession(1)
}

func readGray(t *testing.T, path string) *image.Gray {
	t.Helper()
	img, err := imaging.DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s is %T, want grayscale", path, img)
	}
	return g
}

// tileEqual reports whether the w x h tile at (x0, y0) of g equals img.
func tileEqual(g *image.Gray, x0, y0 int, img image.Image) bool {
	want := img.(*image.Gray)
	b := want.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			if g.Pix[(y0+y)*g.Stride+x0+x] != want.Pix[y*want.Stride+x] {
				return false
			}
		}
	}
	return true
}

// TestSampleVAEGrid checks the manifold PNG against the library: layout (5 tiles of 28 plus
// 6 pads of 2 = 152 pixels a side) and the top-left and centre tiles decoded directly.
func TestSampleVAEGrid(t *testing.T) {
	dir := tinyVAE(t)
	out := filepath.Join(t.TempDir(), "m.png")
	msg, err := runApp(t, "sample", "vae", "--model", filepath.Join(dir, "decoder.onnx"), "--grid", "5", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if !strings.Contains(msg, "wrote "+out+": 5x5 latent grid, 152x152 pixels") {
		t.Errorf("message %q", msg)
	}
	g := readGray(t, out)
	if g.Rect.Dx() != 152 || g.Rect.Dy() != 152 {
		t.Fatalf("size %v", g.Rect)
	}
	s := session(t, filepath.Join(dir, "decoder.onnx"))
	q := latent.NormalQuantile(0.95)
	z := tensor.FromFloat32([]float32{float32(-q), float32(q), 0, 0}, 2, 2)
	imgs, err := s.Images(z)
	if err != nil {
		t.Fatal(err)
	}
	if !tileEqual(g, 2, 2, imgs[0]) {
		t.Error("top-left tile is not the decoded point (q(0.05), q(0.95))")
	}
	if !tileEqual(g, 2+2*30, 2+2*30, imgs[1]) {
		t.Error("centre tile is not the decoded origin")
	}
	if g.Pix[0] != 0 || g.Pix[30] != 0 {
		t.Error("padding is not black")
	}
	// The directory form of --model and keras-io spacing work too.
	if _, err := runApp(t, "sample", "vae", "--model", dir, "--grid", "3", "--grid-span", "1", "--pad", "0", "--out", out); err != nil {
		t.Fatal(err)
	}
	if g := readGray(t, out); g.Rect.Dx() != 84 {
		t.Errorf("3x3 grid without padding: %v", g.Rect)
	}
}

func TestSampleVAERandom(t *testing.T) {
	dir := tinyVAE(t)
	tmp := t.TempDir()
	a, b, c := filepath.Join(tmp, "a.png"), filepath.Join(tmp, "b.png"), filepath.Join(tmp, "c.png")
	for _, r := range []struct {
		out, seed string
	}{{a, "7"}, {b, "7"}, {c, "8"}} {
		if _, err := runApp(t, "sample", "vae", "--model", dir, "--random", "6", "--cols", "3", "--seed", r.seed, "--out", r.out); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	bc, _ := os.ReadFile(c)
	if !bytes.Equal(ba, bb) || bytes.Equal(ba, bc) {
		t.Errorf("seed 7 twice: equal %v; seeds 7 and 8: equal %v", bytes.Equal(ba, bb), bytes.Equal(ba, bc))
	}
	g := readGray(t, a)
	if g.Rect.Dx() != 3*28+4*2 || g.Rect.Dy() != 2*28+3*2 {
		t.Errorf("6 samples in 3 columns: %v", g.Rect)
	}
	z, _ := latent.Normal(6, 2, 7)
	imgs, _ := session(t, filepath.Join(dir, "decoder.onnx")).Images(z)
	if !tileEqual(g, 2+30, 2+30, imgs[4]) {
		t.Error("tile 4 is not sample 4 of seed 7")
	}
}

func TestSampleVAEInterpolate(t *testing.T) {
	dir := tinyVAE(t)
	tmp := t.TempDir()

	// Two MNIST classes: a GIF of 24 frames zoomed to 140 pixels (5 x 28).
	out := filepath.Join(tmp, "morph.gif")
	msg, err := runApp(t, "sample", "vae", "--model", dir, "--interpolate", "3,8", "--per-class", "50", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	f, _ := os.Open(out)
	a, err := gif.DecodeAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Image) != 24 || a.Image[0].Bounds().Dx() != 140 || a.Delay[0] != 8 {
		t.Fatalf("%d frames of %v, delay %d", len(a.Image), a.Image[0].Bounds(), a.Delay[0])
	}
	// The first frame is the decoded mean code of the first 50 test threes.
	d, err := datasets.Load("mnist", "test", datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	z, _, err := session(t, filepath.Join(dir, "encoder.onnx")).Encode(d.Batch(d.OfClass(3, 50)))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := latent.Mean(z, nil)
	first, _ := session(t, filepath.Join(dir, "decoder.onnx")).Images(tensor.FromFloat32(m, 1, 2))
	zoomed, _ := imaging.Zoom(first[0], 5)
	if !sameGray(a.Image[0], zoomed) {
		t.Error("frame 0 is not the decoded mean code of class 3")
	}
	if sameGray(a.Image[0], a.Image[23]) {
		t.Error("first and last frames are equal")
	}

	// Two image files, as a PNG strip with --boomerang: 2*6-2 = 10 frames in one row.
	img1, img2 := filepath.Join(tmp, "one.png"), filepath.Join(tmp, "two.png")
	x, _ := imaging.FromTensor(d.Batch([]int{0, 1}), imaging.Unit())
	imaging.Save(img1, x[0])
	imaging.Save(img2, x[1])
	strip := filepath.Join(tmp, "strip.png")
	if _, err := runApp(t, "sample", "vae", "--model", dir, "--interpolate", img1+","+img2, "--frames", "6", "--boomerang", "--interpolation", "slerp", "--out", strip); err != nil {
		t.Fatal(err)
	}
	if g := readGray(t, strip); g.Rect.Dx() != 10*28+11*2 || g.Rect.Dy() != 28+4 {
		t.Errorf("strip %v", g.Rect)
	}

	// Latent points: the ends are exactly those points, no encoder needed.
	os.Remove(filepath.Join(dir, "encoder.onnx"))
	if _, err := runApp(t, "sample", "vae", "--model", dir, "--from-z", "-1,0.5", "--to-z", "2,2", "--frames", "3", "--zoom", "1", "--out", out); err != nil {
		t.Fatal(err)
	}
	f, _ = os.Open(out)
	a, _ = gif.DecodeAll(f)
	f.Close()
	ends, _ := session(t, filepath.Join(dir, "decoder.onnx")).Images(tensor.FromFloat32([]float32{-1, 0.5, 0.5, 1.25, 2, 2}, 3, 2))
	for k := range 3 {
		if !sameGray(a.Image[k], ends[k]) {
			t.Errorf("--from-z/--to-z frame %d differs from the decoded point", k)
		}
	}
	if _, err := runApp(t, "sample", "vae", "--model", dir, "--interpolate", "3,8", "--out", out); err == nil || !strings.Contains(err.Error(), "encoder.onnx does not exist; give --encoder") {
		t.Errorf("missing encoder: %v", err)
	}
}

func sameGray(a, b image.Image) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, _, _, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, _, _, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			if r1 != r2 {
				return false
			}
		}
	}
	return true
}

func TestSampleVAEEncodeConcept(t *testing.T) {
	dir := tinyVAE(t)
	tmp := t.TempDir()
	d, _ := datasets.Load("mnist", "test", datasets.Options{Limit: 20})
	x, _ := imaging.FromTensor(d.Batch([]int{0, 1}), imaging.Unit())
	p0, p1 := filepath.Join(tmp, "seven.png"), filepath.Join(tmp, "two.png")
	imaging.Save(p0, x[0])
	imaging.Save(p1, x[1])
	out, err := runApp(t, "sample", "vae", "--model", dir, "--encode", p0, p1)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := session(t, filepath.Join(dir, "encoder.onnx")).Encode(d.Batch([]int{0, 1}))
	sc := bufio.NewScanner(strings.NewReader(out))
	for i := 0; sc.Scan(); i++ {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != []string{p0, p1}[i] {
			t.Fatalf("line %q", sc.Text())
		}
		for l := range 2 {
			v, _ := strconv.ParseFloat(f[1+l], 64)
			w := float64(want.F32()[2*i+l])
			if d := v - w; d > 1e-5*(1+abs(w)) || -d > 1e-5*(1+abs(w)) {
				t.Errorf("%s dimension %d: printed %v, encoder gives %v", f[0], l, v, w)
			}
		}
	}

	strip := filepath.Join(tmp, "concept.png")
	msg, err := runApp(t, "sample", "vae", "--model", dir, "--concept", "1,7", "--strengths", "-1,0,1", "--image", p0, "--image", p1, "--per-class", "20", "--out", strip)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	g := readGray(t, strip)
	if g.Rect.Dx() != 4*28+5*2 || g.Rect.Dy() != 2*28+3*2 {
		t.Fatalf("2 rows of input + 3 strengths: %v", g.Rect)
	}
	// Column 0 is the input; column 2 (strength 0) its reconstruction from z_mean.
	rec, _ := session(t, filepath.Join(dir, "decoder.onnx")).Images(tensor.FromFloat32(latent.Row(want, 1), 1, 2))
	if !tileEqual(g, 2, 32, x[1]) || !tileEqual(g, 2+2*30, 32, rec[0]) {
		t.Error("concept strip: wrong input or strength-0 tile in row 2")
	}
	// Without --image: the first image of group B (the first 7 of the test set is image 0).
	if _, err := runApp(t, "sample", "vae", "--model", dir, "--concept", "1,7", "--strengths", "0", "--per-class", "5", "--out", strip); err != nil {
		t.Fatal(err)
	}
	if g := readGray(t, strip); !tileEqual(g, 2, 2, x[0]) {
		t.Error("default concept image is not the first 7")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestSampleVAEErrors(t *testing.T) {
	dir := tinyVAE(t)
	dec, enc := filepath.Join(dir, "decoder.onnx"), filepath.Join(dir, "encoder.onnx")
	tmp := t.TempDir()
	gan := filepath.Join(tmp, "gan.onnx")
	imagegen.WriteTiny(gan, imagegen.DCGANGenerator, imagegen.TinyOptions{})
	notImage := filepath.Join(tmp, "notes.png")
	os.WriteFile(notImage, []byte("hello"), 0o644)
	oneD := filepath.Join(tmp, "oned.onnx")
	imagegen.WriteTiny(oneD, imagegen.VAEDecoder, imagegen.TinyOptions{LatentDim: 1})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", enc}, "is a vae-encoder model, want a vae-decoder"},
		{[]string{"--model", gan}, "is a dcgan-generator model, want a vae-decoder"},
		{[]string{"--model", dec, "--grid", "5", "--random", "3"}, "choose one mode, got --grid and --random"},
		{[]string{"--model", dec, "--interpolate", "1,2", "--from-z", "0,0", "--to-z", "1,1"}, "either --interpolate A,B or --from-z/--to-z"},
		{[]string{"--model", dec, "--from-z", "0,0"}, "--from-z and --to-z go together"},
		{[]string{"--model", dec, "--out", "x.gif"}, ".gif is for morphs and walks"},
		{[]string{"--model", dec, "--out", "x.bmp"}, "want a .png or .jpg file"},
		{[]string{"--model", dec, "--out", filepath.Join(tmp, "nodir", "x.png")}, "does not exist"},
		{[]string{"--model", dec, "--grid", "0"}, "grid of 0 points per side"},
		{[]string{"--model", dec, "--dims", "0,2"}, "grid dimensions 0,2: want two different dimensions below 2"},
		{[]string{"--model", dec, "--dims", "x"}, `--dims: "x" is not an integer`},
		{[]string{"--model", dec, "--grid-quantiles", "0.9,0.1"}, "want 0 < low < high < 1"},
		{[]string{"--model", oneD}, "1-D latent space"},
		{[]string{"--model", dec, "--random", "0"}, "--random 0"},
		{[]string{"--model", dec, "--interpolate", "3"}, `--interpolate "3": want two groups A,B`},
		{[]string{"--model", dec, "--interpolate", "3,eleven"}, `"eleven" is not an image file, a directory of images, or a class of mnist (classes: 0, 1, 2`},
		{[]string{"--model", dec, "--interpolate", notImage + ",3"}, "notes.png: not a PNG, JPEG or GIF image"},
		{[]string{"--model", dec, "--interpolate", "3,8", "--frames", "1"}, "--frames 1"},
		{[]string{"--model", dec, "--interpolate", "3,8", "--interpolation", "cubic"}, `unknown interpolation "cubic"`},
		{[]string{"--model", dec, "--interpolate", "3,8", "--encoder", gan}, "is a dcgan-generator model, want a vae-encoder"},
		{[]string{"--model", dec, "--interpolate", "3,8", "--dataset", tmp + "/none"}, "is neither a dataset name"},
		{[]string{"--model", dec, "--from-z", "0,0,0", "--to-z", "1,1"}, `--from-z "0,0,0" has 3 values, the latent space has 2 dimensions`},
		{[]string{"--model", dec, "--concept", "1,7", "--strengths", "1,big"}, `--strengths: "big" is not a finite number`},
		{[]string{"--model", dec, "--encode", notImage}, "not a PNG, JPEG or GIF image"},
		{[]string{"--model", dec, "--zoom", "-1", "--out", filepath.Join(tmp, "z.png")}, "--zoom -1"},
		{[]string{"--model", dec, "stray"}, `unexpected argument "stray"`},
	} {
		args := append([]string{"sample", "vae"}, c.args...)
		if _, err := runApp(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error containing %q, got %v", c.args, c.want, err)
		}
	}
	// An encoder that does not match the decoder.
	other := filepath.Join(tmp, "enc3.onnx")
	imagegen.WriteTiny(other, imagegen.VAEEncoder, imagegen.TinyOptions{LatentDim: 3, C: 1, H: 28, W: 28})
	if _, err := runApp(t, "sample", "vae", "--model", dec, "--encoder", other, "--encode", notImage); err == nil || !strings.Contains(err.Error(), "(latent 3, images 1,28,28) does not match the decoder") {
		t.Errorf("mismatched encoder: %v", err)
	}
}

// TestSampleVAENotLatent: a "decoder" whose input is an image, not a latent vector, is refused
// with the contract's error.
func TestSampleVAENotLatent(t *testing.T) {
	tmp := t.TempDir()
	p := filepath.Join(tmp, "bad.onnx")
	m, err := imagegen.Tiny(imagegen.VAEEncoder, imagegen.TinyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Rename the encoder's input to z and call it a decoder.
	m.Graph.Input[0].Name = &[]string{"z"}[0]
	for _, n := range m.Graph.Node {
		for i, in := range n.Input {
			if in == "image" {
				n.Input[i] = "z"
			}
		}
	}
	imagegen.SetMetadata(m, imagegen.Info{Kind: imagegen.VAEDecoder, LatentDim: 2, C: 1, H: 4, W: 4})
	if err := writeModel(p, m); err != nil {
		t.Fatal(err)
	}
	_, err = runApp(t, "sample", "vae", "--model", p, "--out", filepath.Join(tmp, "x.png"))
	if err == nil || !strings.Contains(err.Error(), `vae-decoder input "z" has shape [N 1 4 4]: want a latent vector [N 2]`) {
		t.Errorf("got %v", err)
	}
}

// TestSampleVAEDefault runs the embedded default VAE with no --model: a 5x5 manifold (152
// pixels a side, as in TestSampleVAEGrid) and an encoding of one of its own tiles.
func TestSampleVAEDefault(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.png")
	if msg, err := runApp(t, "sample", "vae", "--grid", "5", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	g := readGray(t, out)
	if b := g.Bounds(); b.Dx() != 152 || b.Dy() != 152 {
		t.Fatalf("default manifold is %v, want 152x152", b)
	}
	var ink int
	for _, p := range g.Pix {
		if p > 128 {
			ink++
		}
	}
	if ink < 100 {
		t.Errorf("default manifold has %d bright pixels: want digits, not a blank grid", ink)
	}
}
