package datasets

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gendl/gendl/datasets/mnist"
	"github.com/gendl/gendl/imaging"
)

func TestLoadMNIST(t *testing.T) {
	d, err := Load("mnist", "test", Options{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 100 || d.C != 1 || d.H != 28 || d.W != 28 || len(d.Images.F32()) != 100*784 {
		t.Fatalf("got N=%d C=%d H=%d W=%d", d.N, d.C, d.H, d.W)
	}
	raw, _ := mnist.Load(mnist.Test, mnist.Options{Limit: 100})
	for i, v := range d.Images.F32() {
		if v < 0 || v > 1 || v != float32(raw.Pixels[i])/255 {
			t.Fatalf("value %d: %v, raw %d", i, v, raw.Pixels[i])
		}
	}
	if !slices.Equal(d.Labels[:5], []uint8{7, 2, 1, 0, 4}) || d.ClassIndex("7") != 7 {
		t.Errorf("labels %v", d.Labels[:5])
	}
	sevens := d.OfClass(7, 3)
	if len(sevens) != 3 || sevens[0] != 0 {
		t.Errorf("OfClass(7): %v", sevens)
	}
	b := d.Batch([]int{2, 0})
	if b.Shape[0] != 2 || b.F32()[784+300] != d.Image(0).F32()[300] {
		t.Error("Batch does not copy the right images")
	}
	if _, err := Load("mnist", "all", Options{}); err == nil || !strings.Contains(err.Error(), `unknown split "all"`) {
		t.Errorf("mnist split all: %v", err)
	}
	if mnistFashion := "/usr/share/datasets/fashion-mnist"; dirExists(mnistFashion) {
		f, err := Load("fashion-mnist", "test", Options{Limit: 10})
		if err != nil || f.N != 10 || f.Classes[0] != "T-shirt/top" {
			t.Errorf("fashion-mnist: %v", err)
		}
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func solid(w, h int, c color.Color) image.Image {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, c)
		}
	}
	return m
}

// folder writes dir/cats/* (red images) and dir/dogs/* (blue), of several sizes and formats.
func folder(t *testing.T) string {
	dir := t.TempDir()
	for _, c := range []struct {
		sub   string
		col   color.Color
		count int
	}{{"cats", color.RGBA{200, 0, 0, 255}, 6}, {"dogs", color.RGBA{0, 0, 250, 255}, 5}} {
		os.Mkdir(filepath.Join(dir, c.sub), 0o755)
		for i := range c.count {
			ext := []string{".png", ".jpg"}[i%2]
			p := filepath.Join(dir, c.sub, string(rune('a'+i))+ext)
			if err := imaging.Save(p, solid(10+i, 8+2*i, c.col)); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "cats", "notes.txt"), []byte("ignored"), 0o644)
	return dir
}

func TestLoadFolder(t *testing.T) {
	dir := folder(t)
	d, err := Load(dir, "all", Options{Height: 6, Width: 4, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 11 || d.C != 3 || d.H != 6 || d.W != 4 || !slices.Equal(d.Classes, []string{"cats", "dogs"}) {
		t.Fatalf("got N=%d C=%d H=%d W=%d classes %v", d.N, d.C, d.H, d.W, d.Classes)
	}
	// Solid colors stay solid through resizing (JPEG within a few levels).
	for i := range d.N {
		x := d.Image(i).F32()
		want := [3]float64{200.0 / 255, 0, 0}
		if d.Labels[i] == 1 {
			want = [3]float64{0, 0, 250.0 / 255}
		}
		for c := range 3 {
			for _, v := range x[c*24 : (c+1)*24] {
				if math.Abs(float64(v)-want[c]) > 6.0/255 {
					t.Fatalf("image %d (class %d) channel %d: %v, want %v", i, d.Labels[i], c, v, want[c])
				}
			}
		}
	}
	g, err := Load(dir, "all", Options{Crop: true})
	if err != nil || g.C != 1 || g.H != 28 || g.W != 28 {
		t.Fatalf("gray default size: %v", err)
	}
	// Red 200 as gray: 0.299*200 = 59.8.
	if v := g.Image(0).F32()[0] * 255; math.Abs(float64(v)-60) > 3 {
		t.Errorf("red as gray: %v", v)
	}
	tr, _ := Load(dir, "train", Options{})
	te, _ := Load(dir, "test", Options{})
	if tr.N != 10 || te.N != 1 {
		t.Errorf("train/test split of 11 images: %d/%d, want 10/1", tr.N, te.N)
	}
	if l, _ := Load(dir, "all", Options{Limit: 3}); l.N != 3 {
		t.Errorf("limit 3: %d", l.N)
	}
}

func TestFolderErrors(t *testing.T) {
	dir := folder(t)
	os.WriteFile(filepath.Join(dir, "dogs", "z.png"), []byte("garbage"), 0o644)
	empty := t.TempDir()
	file := filepath.Join(empty, "f.png")
	for _, c := range []struct {
		name, split string
		opt         Options
		want        string
	}{
		{dir, "all", Options{}, "z.png: not a PNG, JPEG or GIF image"},
		{empty, "all", Options{}, "holds no .png, .jpg, .jpeg or .gif images"},
		{"cifar10", "train", Options{}, `"cifar10" is neither a dataset name`},
		{dir, "validation", Options{}, `unknown split "validation"`},
		{dir, "all", Options{Channels: 2}, "2 channels"},
		{"mnist", "dev", Options{}, `unknown split "dev"`},
	} {
		_, err := Load(c.name, c.split, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "datasets: ") {
			t.Errorf("%s %s: want an error containing %q, got %v", c.name, c.split, c.want, err)
		}
	}
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Load(file, "all", Options{}); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("file: %v", err)
	}
}
