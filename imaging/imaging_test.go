package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/gendl/gendl/runtime/tensor"
)

// gradient is a w x h RGB test image: red across, green down, blue constant.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 255 / max(1, w-1)), uint8(y * 255 / max(1, h-1)), 100, 255})
		}
	}
	return m
}

func grayRamp(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	return g
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeRoundTrip(t *testing.T) {
	src := gradient(5, 4)
	img, format, err := Decode(bytes.NewReader(encodePNG(t, src)))
	if err != nil || format != "png" {
		t.Fatal(format, err)
	}
	if !sameRGB(img, src) {
		t.Error("PNG round trip changed pixels")
	}
	g := grayRamp(6, 3)
	img, _, err = Decode(bytes.NewReader(encodePNG(t, g)))
	if _, ok := img.(*image.Gray); err != nil || !ok || !bytes.Equal(img.(*image.Gray).Pix, g.Pix) {
		t.Errorf("gray PNG round trip: %T %v", img, err)
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, gradient(16, 16), &jpeg.Options{Quality: 100})
	img, format, err = Decode(&jb)
	if err != nil || format != "jpeg" || img.Bounds().Dx() != 16 {
		t.Errorf("JPEG: %v %v", format, err)
	}
	var gb bytes.Buffer
	gif.Encode(&gb, g, nil)
	if img, format, err = Decode(&gb); err != nil || format != "gif" || img.Bounds().Dy() != 3 {
		t.Errorf("GIF: %v %v", format, err)
	}
}

func sameRGB(a, b image.Image) bool {
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

// hugePNG is a valid PNG header (IHDR with a correct CRC) that declares w x h pixels.
func hugePNG(t *testing.T, w, h uint32) []byte {
	b := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// Signature (8) + length (4) + "IHDR" (4): width at 16, height at 20, CRC after 13 bytes of data.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeErrors(t *testing.T) {
	good := encodePNG(t, gradient(8, 8))
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"text", []byte("hello, world"), "not a PNG, JPEG or GIF image"},
		{"truncated PNG", good[:len(good)/2], "corrupt PNG"},
		{"truncated header", good[:12], "corrupt PNG header"},
		{"huge", hugePNG(t, 100000, 100000), "declares 100000x100000 pixels, more than the cap"},
		{"JPEG garbage", []byte{0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3}, "corrupt JPEG"},
		{"GIF garbage", []byte("GIF89a\x01\x00"), "corrupt GIF"},
	} {
		_, _, err := Decode(bytes.NewReader(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "imaging: ") {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "notes.png")
	os.WriteFile(p, []byte("not an image"), 0o644)
	if _, err := DecodeFile(p); err == nil || err.Error() != "imaging: "+p+": not a PNG, JPEG or GIF image" {
		t.Errorf("DecodeFile: %v", err)
	}
	if _, err := DecodeFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("DecodeFile(dir): %v", err)
	}
	if _, err := DecodeFile(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("DecodeFile(missing): %v", err)
	}
}

func TestResize(t *testing.T) {
	// A constant image stays constant under every filter (the filters' weights sum to 1).
	c := image.NewGray(image.Rect(0, 0, 10, 7))
	for i := range c.Pix {
		c.Pix[i] = 77
	}
	for _, f := range []Filter{CatmullRom, Bilinear, Nearest} {
		r, err := Resize(c, 4, 13, f)
		if err != nil {
			t.Fatal(err)
		}
		g, ok := r.(*image.Gray)
		if !ok || g.Bounds().Dx() != 4 || g.Bounds().Dy() != 13 {
			t.Fatalf("filter %d: got %T %v, want a 4x13 *image.Gray", f, r, r.Bounds())
		}
		for _, p := range g.Pix {
			if p != 77 {
				t.Fatalf("filter %d: constant 77 became %d", f, p)
			}
		}
	}
	// Halving a 1-pixel checkerboard with the bilinear filter averages it to mid gray.
	cb := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			cb.Pix[y*8+x] = uint8(255 * ((x + y) % 2))
		}
	}
	r, _ := Resize(cb, 4, 4, Bilinear)
	for _, p := range r.(*image.Gray).Pix {
		if p < 120 || p > 135 {
			t.Errorf("checkerboard halved: pixel %d, want about 127", p)
		}
	}
	rgb, _ := Resize(gradient(9, 9), 3, 3, CatmullRom)
	if _, ok := rgb.(*image.RGBA); !ok {
		t.Errorf("color source resized to %T", rgb)
	}
	if _, err := Resize(c, 0, 3, Bilinear); err == nil {
		t.Error("resize to 0x3: no error")
	}
	z, err := Zoom(grayRamp(2, 2), 3)
	if err != nil || z.Bounds().Dx() != 6 || z.(*image.Gray).Pix[2] != 0 || z.(*image.Gray).Pix[3] != 7 {
		t.Errorf("Zoom: %v %v", z, err)
	}
	cr := CenterCrop(gradient(10, 4), 1, 1)
	if cr.Bounds() != image.Rect(3, 0, 7, 4) {
		t.Errorf("CenterCrop 10x4 to square: %v", cr.Bounds())
	}
	if _, err := ParseFilter("lanczos"); err == nil {
		t.Error("ParseFilter(lanczos): no error")
	}
}

func TestTensorRoundTrip(t *testing.T) {
	imgs := []image.Image{gradient(5, 3), gradient(5, 3)}
	ms, err := MeanStd([]float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Range{Unit(), Signed(), ms} {
		x, err := ToTensor(imgs, 3, r)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(x.Shape, []int{2, 3, 3, 5}) {
			t.Fatalf("shape %v", x.Shape)
		}
		back, err := FromTensor(x, r)
		if err != nil {
			t.Fatal(err)
		}
		if !sameRGB(back[1], imgs[1]) {
			t.Errorf("%s: round trip changed pixels", r)
		}
	}
	// Known values: pixel (4, 0) of the gradient is (255, 0, 100).
	x, _ := ToTensor(imgs, 3, Signed())
	d := x.F32()
	if d[4] != 1 || d[15+4] != -1 || math.Abs(float64(d[30+4])-(100.0/255*2-1)) > 1e-6 {
		t.Errorf("signed values %v %v %v", d[4], d[19], d[34])
	}
	x, _ = ToTensor(imgs, 3, ms)
	if want := (1 - 0.485) / 0.229; math.Abs(float64(x.F32()[4])-want) > 1e-5 {
		t.Errorf("mean/std red 255: %v, want %v", x.F32()[4], want)
	}
	// Color to gray uses BT.601 luma: pure red is 0.299*255 = 76.
	red := image.NewRGBA(image.Rect(0, 0, 1, 1))
	red.Set(0, 0, color.RGBA{255, 0, 0, 255})
	g, _ := ToTensor([]image.Image{red}, 1, Unit())
	if got := g.F32()[0] * 255; math.Abs(float64(got)-76) > 1e-3 {
		t.Errorf("red as gray: %v, want 76", got)
	}
	// Gray to RGB repeats the channel.
	gr, _ := ToTensor([]image.Image{grayRamp(2, 2)}, 3, Unit())
	if v := gr.F32(); v[1] != v[5] || v[5] != v[9] || v[1] != 7.0/255 {
		t.Errorf("gray as RGB: %v", v)
	}
	gi, _ := FromTensor(gr, Unit())
	if _, ok := gi[0].(*image.RGBA); !ok {
		t.Errorf("3 channels came back as %T", gi[0])
	}
	// Clamping and rounding: out-of-range values saturate, NaN is 0.
	y := tensor.FromFloat32([]float32{-0.5, 1.5, float32(math.NaN()), 0.5, 127.4 / 255, 127.6 / 255}, 1, 1, 1, 6)
	out, _ := FromTensor(y, Unit())
	if p := out[0].(*image.Gray).Pix; !bytes.Equal(p, []byte{0, 255, 0, 128, 127, 128}) {
		t.Errorf("clamping/rounding: %v", p)
	}
}

func TestTensorErrors(t *testing.T) {
	if _, err := ToTensor([]image.Image{gradient(2, 2), gradient(3, 2)}, 1, Unit()); err == nil || !strings.Contains(err.Error(), "image 1 is 3x2, image 0 is 2x2") {
		t.Errorf("sizes: %v", err)
	}
	if _, err := ToTensor([]image.Image{gradient(2, 2)}, 2, Unit()); err == nil || !strings.Contains(err.Error(), "2 channels") {
		t.Errorf("channels: %v", err)
	}
	if _, err := ToTensor(nil, 1, Unit()); err == nil {
		t.Error("no images: no error")
	}
	if _, err := MeanStd([]float32{0.5}, []float32{0}); err == nil {
		t.Error("std 0: no error")
	}
	bad := Range{Name: "two", Scale: []float32{1, 1}, Shift: []float32{0}}
	if _, err := ToTensor([]image.Image{gradient(2, 2)}, 3, bad); err == nil || !strings.Contains(err.Error(), "2 scale values for 3 channels") {
		t.Errorf("range/channels: %v", err)
	}
	for _, x := range []*tensor.Tensor{nil, tensor.New(tensor.Float32, 1, 2, 2), tensor.New(tensor.Float32, 1, 4, 2, 2), tensor.New(tensor.Int64, 1, 1, 2, 2), tensor.New(tensor.Float32, 1, 1, 0, 2)} {
		if _, err := FromTensor(x, Unit()); err == nil || !strings.HasPrefix(err.Error(), "imaging: ") {
			t.Errorf("FromTensor(%v): %v", x, err)
		}
	}
}

func TestGrid(t *testing.T) {
	tile := func(v uint8) image.Image {
		g := image.NewGray(image.Rect(0, 0, 2, 3))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		return g
	}
	imgs := []image.Image{tile(10), tile(20), tile(30)}
	g, err := Grid(imgs, GridOptions{Cols: 2, Pad: 1, Background: color.Gray{200}})
	if err != nil {
		t.Fatal(err)
	}
	gg, ok := g.(*image.Gray)
	// 2 columns of 2 + 3 pads = 7 wide; 2 rows of 3 + 3 pads = 9 high.
	if !ok || gg.Rect != image.Rect(0, 0, 7, 9) {
		t.Fatalf("grid %T %v, want a 7x9 *image.Gray", g, g.Bounds())
	}
	at := func(x, y int) uint8 { return gg.Pix[y*gg.Stride+x] }
	for _, c := range []struct {
		x, y int
		want uint8
	}{
		{0, 0, 200}, {1, 1, 10}, {2, 3, 10}, {3, 1, 200}, {4, 1, 20}, {5, 3, 20},
		{1, 4, 200}, {1, 5, 30}, {2, 7, 30}, {4, 5, 200}, {6, 8, 200},
	} {
		if got := at(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	// Default columns: ceil(sqrt(5)) = 3; color tiles give RGBA.
	g, _ = Grid([]image.Image{gradient(4, 4), gradient(4, 4), gradient(4, 4), gradient(4, 4), gradient(4, 4)}, GridOptions{})
	if _, ok := g.(*image.RGBA); !ok || g.Bounds() != image.Rect(0, 0, 12, 8) {
		t.Errorf("default grid: %T %v", g, g.Bounds())
	}
	if _, err := Grid([]image.Image{tile(1), gradient(3, 3)}, GridOptions{}); err == nil {
		t.Error("mixed sizes: no error")
	}
}

func TestGIF(t *testing.T) {
	var frames []image.Image
	for i := range 5 {
		g := grayRamp(6, 4)
		g.Pix[0] = uint8(i * 50)
		frames = append(frames, g)
	}
	b, err := EncodeGIF(frames, GIFOptions{Delay: 5})
	if err != nil {
		t.Fatal(err)
	}
	a, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Image) != 5 || a.Delay[3] != 5 || a.LoopCount != 0 {
		t.Fatalf("%d frames, delay %v, loop %d", len(a.Image), a.Delay, a.LoopCount)
	}
	// Grayscale frames are exact.
	for i, f := range a.Image {
		if !sameRGB(f, frames[i]) {
			t.Errorf("gray frame %d changed", i)
		}
	}

	// Color: the median-cut palette fits a smooth gradient better than a fixed web palette.
	src := gradient(64, 64)
	for i := range src.Pix {
		if i%4 == 2 {
			src.Pix[i] = uint8(i / 64 % 256)
		}
	}
	medErr := paletteError(src, MedianCut([]image.Image{src}, 256))
	webErr := paletteError(src, palette.WebSafe)
	if medErr >= webErr/2 {
		t.Errorf("median cut mean error %.2f, web-safe %.2f: want median cut at least twice better", medErr, webErr)
	}
	t.Logf("mean error per channel: median cut %.2f, web-safe %.2f (8-bit levels)", medErr, webErr)
	// 4096 distinct colors on a 2-D gradient of ~4 levels per pixel into 256 cells of ~16
	// pixels (4x4, 16 levels a side): about 4 levels of error per channel is inherent.
	if medErr > 5 {
		t.Errorf("median cut mean error %.2f levels per channel, want <= 5", medErr)
	}
	b, err = EncodeGIF([]image.Image{src, gradient(64, 64)}, GIFOptions{LoopCount: -1})
	if err != nil {
		t.Fatal(err)
	}
	if a, err = gif.DecodeAll(bytes.NewReader(b)); err != nil || len(a.Image) != 2 || a.LoopCount != -1 || len(a.Image[0].Palette) > 256 {
		t.Errorf("color GIF: %v", err)
	}
	// Few colors: the palette is exact.
	few := MedianCut([]image.Image{grayRamp(3, 3), gradient(2, 1)}, 256)
	if len(few) != 11 {
		t.Errorf("exact palette of 9 grays + 2 colors has %d entries", len(few))
	}
	if _, err := EncodeGIF([]image.Image{grayRamp(2, 2), grayRamp(3, 2)}, GIFOptions{}); err == nil {
		t.Error("frames of different sizes: no error")
	}
	if _, err := EncodeGIF(nil, GIFOptions{}); err == nil {
		t.Error("no frames: no error")
	}
}

// paletteError is the mean absolute error per channel, in 8-bit levels, of mapping img to its
// nearest palette colors.
func paletteError(img image.Image, pal color.Palette) float64 {
	b := img.Bounds()
	p := image.NewPaletted(b, pal)
	draw.Draw(p, b, img, b.Min, draw.Src)
	var sum float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := img.At(x, y).RGBA()
			r2, g2, b2, _ := p.At(x, y).RGBA()
			sum += math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) + math.Abs(float64(b1>>8)-float64(b2>>8))
		}
	}
	return sum / float64(3*b.Dx()*b.Dy())
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	img := gradient(7, 5)
	for _, name := range []string{"a.png", "b.JPG", "c.jpeg"} {
		p := filepath.Join(dir, name)
		if err := Save(p, img); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
		back, err := DecodeFile(p)
		if err != nil || back.Bounds().Dx() != 7 {
			t.Errorf("%s: %v", name, err)
		}
		if name == "a.png" && !sameRGB(back, img) {
			t.Error("PNG changed pixels")
		}
	}
	if err := Save(filepath.Join(dir, "x.bmp"), img); err == nil || !strings.Contains(err.Error(), `unknown image extension ".bmp"`) {
		t.Errorf("bmp: %v", err)
	}
	if err := SavePNG(filepath.Join(dir, "missing", "x.png"), img); err == nil {
		t.Error("missing directory: no error")
	}
	if err := SaveGIF(filepath.Join(dir, "g.gif"), []image.Image{img}, GIFOptions{}); err != nil {
		t.Error(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
