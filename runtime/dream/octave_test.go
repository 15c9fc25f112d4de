package dream

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// TestOctaveShapes pins the book's octave sizes: its notebook (8.2-deep-dream.ipynb) prints
// "Processing image shape (178, 178)", "(250, 250)", "(350, 350)" for its 350x350 photo with
// 3 octaves at scale 1.4; the 500x400 image gives int(400/1.4^i) x int(500/1.4^i).
func TestOctaveShapes(t *testing.T) {
	for _, tc := range []struct {
		orig    Size
		octaves int
		scale   float64
		want    []Size
	}{
		{Size{350, 350}, 3, 1.4, []Size{{178, 178}, {250, 250}, {350, 350}}},
		{Size{400, 500}, 3, 1.4, []Size{{204, 255}, {285, 357}, {400, 500}}},
		{Size{400, 500}, 1, 1.4, []Size{{400, 500}}},
		{Size{100, 30}, 2, 2, []Size{{50, 15}, {100, 30}}},
	} {
		got, err := OctaveShapes(tc.orig, tc.octaves, tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%v: got %v, want %v", tc.orig, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%v x%d at %v: got %v, want %v", tc.orig, tc.octaves, tc.scale, got, tc.want)
				break
			}
		}
	}
	for _, bad := range []struct {
		o int
		s float64
	}{{0, 1.4}, {3, 0.5}, {3, math.NaN()}, {40, 1.4}} {
		if _, err := OctaveShapes(Size{400, 500}, bad.o, bad.s); err == nil {
			t.Errorf("%d octaves at %v: no error", bad.o, bad.s)
		}
	}
}

// TestResizeAffine: bilinear interpolation with aligned corners reproduces an affine
// function of the coordinates exactly (up to float32 rounding): the output at (oy, ox)
// is f(oy*(H-1)/(h-1), ox*(W-1)/(w-1)).
func TestResizeAffine(t *testing.T) {
	const H, W = 7, 11
	f := func(y, x float64) float64 { return 0.3*y - 0.2*x + 0.5 }
	src := tensor.New(tensor.Float32, 1, 2, H, W)
	for c := range 2 {
		for y := range H {
			for x := range W {
				src.F32()[(c*H+y)*W+x] = float32(f(float64(y), float64(x)) * float64(c+1))
			}
		}
	}
	for _, to := range []Size{{13, 4}, {3, 20}, {7, 11}, {1, 1}, {2, 2}} {
		out, err := Resize(src, to)
		if err != nil {
			t.Fatal(err)
		}
		for c := range 2 {
			for oy := range to.H {
				for ox := range to.W {
					sy, sx := 0.0, 0.0
					if to.H > 1 {
						sy = float64(oy) * (H - 1) / float64(to.H-1)
					}
					if to.W > 1 {
						sx = float64(ox) * (W - 1) / float64(to.W-1)
					}
					want := f(sy, sx) * float64(c+1)
					got := float64(out.F32()[(c*to.H+oy)*to.W+ox])
					if !closeTo(got, want, 1e-5, 1e-5) {
						t.Fatalf("to %v: (%d,%d,%d) = %v, want %v", to, c, oy, ox, got, want)
					}
				}
			}
		}
	}
}

// TestLostDetail checks the re-injection arithmetic on a case worked by hand: a 2x2 original
// [[0, 4], [8, 12]] shrunk to 1x1 (aligned corners: the top-left pixel, 0) and upscaled back
// to 2x2 is all 0, so the lost detail is the original itself; at 3x3 the original resizes to
// [[0,2,4],[4,6,8],[8,10,12]] and the shrunk original stays 0.
func TestLostDetail(t *testing.T) {
	orig := tensor.FromFloat32([]float32{0, 4, 8, 12}, 1, 1, 2, 2)
	shrunk, err := Resize(orig, Size{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if shrunk.F32()[0] != 0 {
		t.Fatalf("shrunk to 1x1: %v, want 0", shrunk.F32())
	}
	d, err := LostDetail(orig, shrunk, Size{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 4, 8, 12}
	for i, v := range d.F32() {
		if v != want[i] {
			t.Fatalf("2x2 detail %v, want %v", d.F32(), want)
		}
	}
	d, err = LostDetail(orig, shrunk, Size{3, 3})
	if err != nil {
		t.Fatal(err)
	}
	want = []float32{0, 2, 4, 4, 6, 8, 8, 10, 12}
	for i, v := range d.F32() {
		if v != want[i] {
			t.Fatalf("3x3 detail %v, want %v", d.F32(), want)
		}
	}
	// A detail of the original against itself is zero: the first octave re-injects nothing.
	d, err = LostDetail(orig, orig, Size{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.F32() {
		if v != 0 {
			t.Fatalf("self detail %v, want zeros", d.F32())
		}
	}
}

// TestRunWithoutAscentRestoresOriginal: with no gradient steps the book's loop only shrinks,
// upscales and re-injects the lost detail, which telescopes back to the original image:
// dream_k = resize(dream_{k-1}, s_k) + resize(orig, s_k) - resize(resize(orig, s_{k-1}), s_k)
// and dream_{k-1} = resize(orig, s_{k-1}) by induction. Any error in the re-injection
// (sign, sizes, which image is shrunk) breaks this.
func TestRunWithoutAscentRestoresOriginal(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 1})
	d := newDreamer(t, m, func(o *Options) { o.Iterations = 0; o.Octaves = 4; o.OctaveScale = 1.3 })
	img := randImage(100, 120, 3)
	out, rep, err := d.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Octaves) != 4 {
		t.Fatalf("%d octaves reported", len(rep.Octaves))
	}
	for i, v := range out.F32() {
		// Three float32 resizes and sums of values in [-1, 1]: 1e-5.
		if !closeTo(float64(v), float64(img.F32()[i]), 1e-5, 0) {
			t.Fatalf("element %d: %v, original %v", i, v, img.F32()[i])
		}
	}
}

// TestResizeMatchesSciPy compares Resize with scipy.ndimage.zoom(order=1), the book's
// resize_img, on the cases testdata/zoom.py wrote (scipy 1.10.1): float32 interpolation of
// values of magnitude ~1, so 1e-5.
func TestResizeMatchesSciPy(t *testing.T) {
	raw, err := os.ReadFile("testdata/zoom.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			In, Out []int
			X, Y    []float32
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		x := tensor.FromFloat32(c.X, 1, 2, c.In[0], c.In[1])
		y, err := Resize(x, Size{c.Out[0], c.Out[1]})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range y.F32() {
			if !closeTo(float64(v), float64(c.Y[i]), 1e-5, 1e-5) {
				t.Fatalf("%v -> %v: element %d = %v, scipy %v", c.In, c.Out, i, v, c.Y[i])
			}
		}
	}
}
