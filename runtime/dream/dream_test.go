package dream

import (
	"math"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestAscentIncreasesLoss runs the book's ascent on the tiny model: within each octave the
// loss must rise from its first to its last step, and the image must change.
func TestAscentIncreasesLoss(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 7})
	d := newDreamer(t, m, func(o *Options) { o.Iterations = 8; o.MaxLoss = 0; o.Octaves = 2 })
	img := randImage(72, 80, 8)
	var calls int
	d.opt.Progress = func(p Progress) { calls++ }
	out, rep, err := d.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 16 {
		t.Errorf("progress called %d times, want 16", calls)
	}
	for k, o := range rep.Octaves {
		t.Logf("octave %d %v: losses %.4g", k+1, o.Size, o.Losses)
		if len(o.Losses) != 8 || o.Stopped {
			t.Fatalf("octave %d: %d losses, stopped %v", k+1, len(o.Losses), o.Stopped)
		}
		rises := 0
		for i := 1; i < len(o.Losses); i++ {
			if o.Losses[i] > o.Losses[i-1] {
				rises++
			}
		}
		if last, first := o.Losses[len(o.Losses)-1], o.Losses[0]; !(last > 1.2*first) || rises < 6 {
			t.Errorf("octave %d: loss %v -> %v, %d rises of 7", k+1, first, last, rises)
		}
	}
	var diff float64
	for i, v := range out.F32() {
		diff = max(diff, math.Abs(float64(v-img.F32()[i])))
	}
	if !(diff > 0.01) {
		t.Errorf("the image changed by at most %v", diff)
	}
	// The input is not modified.
	if img2 := randImage(72, 80, 8); !equal(img, img2) {
		t.Error("Run modified its input")
	}
}

// TestMaxLossStops: an octave ends at the first loss above MaxLoss, before taking that step.
func TestMaxLossStops(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 7})
	img := randImage(64, 64, 2)
	free := newDreamer(t, m, func(o *Options) { o.Iterations = 6; o.MaxLoss = 0; o.Octaves = 1 })
	_, rep, err := free.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	ls := rep.Octaves[0].Losses
	limit := (ls[2] + ls[3]) / 2 // between the 3rd and the 4th loss
	capped := newDreamer(t, m, func(o *Options) { o.Iterations = 6; o.MaxLoss = limit; o.Octaves = 1 })
	_, rep2, err := capped.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	o := rep2.Octaves[0]
	if !o.Stopped || len(o.Losses) != 4 {
		t.Fatalf("max loss %v: losses %v, stopped %v; want 4 losses (the last one over the limit)", limit, o.Losses, o.Stopped)
	}
	for i := range o.Losses {
		if o.Losses[i] != ls[i] {
			t.Errorf("loss %d: %v, uncapped run %v", i, o.Losses[i], ls[i])
		}
	}
}

func equal(a, b *tensor.Tensor) bool {
	for i, v := range a.F32() {
		if v != b.F32()[i] {
			return false
		}
	}
	return true
}

// TestTilesMatchWhole: on a model whose activations depend on their own pixel only (1x1
// convolutions, no pools) and no border, the tiled loss and gradient (a random shift, then
// 2x3 tiles, each weighted by its share of the area) equal the whole image's, whatever the
// shift: float32 sums in another order, 1e-5.
func TestTilesMatchWhole(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 9, PointWise: true})
	img := randImage(24, 36, 10)
	whole := newDreamer(t, m, func(o *Options) { o.Border = 0; o.TileSize = 0 })
	tiled := newDreamer(t, m, func(o *Options) { o.Border = 0; o.TileSize = 12 })
	lw, gw := lossGrad(t, whole, img, 1)
	var fed []Size
	tiled.hook = func(x *tensor.Tensor) { fed = append(fed, Size{x.Shape[2], x.Shape[3]}) }
	for seed := range uint64(3) {
		fed = fed[:0]
		lt, gt := lossGrad(t, tiled, img, seed)
		if len(fed) != 6 || fed[0] != (Size{12, 12}) {
			t.Fatalf("fed %v, want 6 tiles of 12x12", fed)
		}
		if !closeTo(lt, lw, 0, 1e-5) {
			t.Errorf("seed %d: tiled loss %v, whole %v", seed, lt, lw)
		}
		var scale float64
		for _, v := range gw.F32() {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i, v := range gt.F32() {
			if !closeTo(float64(v), float64(gw.F32()[i]), 1e-5*scale, 1e-4) {
				t.Fatalf("seed %d: gradient element %d: tiled %v, whole %v", seed, i, v, gw.F32()[i])
			}
		}
	}
}

// TestTilesBoundMemory: a large image with small tiles never feeds the network more than a
// tile, its memory estimate is the tile's pass plus the image buffers (far below processing
// it whole), a cap between the two refuses the whole run and names the memory it would need,
// and the seed makes the shifts reproducible.
func TestTilesBoundMemory(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 11})
	img := randImage(150, 260, 12)
	tile := func(o *Options) { o.TileSize = 64; o.Iterations = 2; o.Octaves = 2 }
	d := newDreamer(t, m, tile)
	var most Size
	d.hook = func(x *tensor.Tensor) {
		most = Size{max(most.H, x.Shape[2]), max(most.W, x.Shape[3])}
	}
	out1, rep, err := d.Run(img)
	if err != nil {
		t.Fatal(err)
	}
	if most.H > 64 || most.W > 64 {
		t.Errorf("fed a %v tile with --tile-size 64", most)
	}
	if o := rep.Octaves[1]; o.Tiles != 3*5 || o.Tile != (Size{50, 52}) {
		t.Errorf("last octave: %d tiles of %v, want 15 of 52x50", o.Tiles, o.Tile)
	}
	wholeD := newDreamer(t, m, func(o *Options) { tile(o); o.TileSize = 0 })
	tiledNeed, err := d.EstimateMemory(Size{150, 260})
	if err != nil {
		t.Fatal(err)
	}
	wholeNeed, err := wholeD.EstimateMemory(Size{150, 260})
	if err != nil {
		t.Fatal(err)
	}
	plans, err := d.octavePlans(Size{150, 260})
	if err != nil {
		t.Fatal(err)
	}
	var pass int64
	for _, op := range plans {
		nm, err := d.netMemory(op.tile())
		if err != nil {
			t.Fatal(err)
		}
		pass = max(pass, 2*nm.forward)
	}
	if want := pass + passOverhead + imageBuffers*bytesPerPixel3*150*260; tiledNeed != want {
		t.Errorf("tiled estimate %d, want the tile's pass plus the image buffers, %d", tiledNeed, want)
	}
	if !(wholeNeed > tiledNeed) {
		t.Errorf("whole %d <= tiled %d", wholeNeed, tiledNeed)
	}
	capped := newDreamer(t, m, func(o *Options) { tile(o); o.TileSize = 0; o.MaxMemory = (tiledNeed + wholeNeed) / 2 })
	_, _, err = capped.Run(img)
	if err == nil || !strings.Contains(err.Error(), "would need about "+FormatBytes(wholeNeed)) || !strings.Contains(err.Error(), "--tile-size") {
		t.Errorf("over the cap: got %v", err)
	}
	// Same seed, same result; another seed shifts the tiles elsewhere.
	out2, _, err := newDreamer(t, m, tile).Run(img)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(out1, out2) {
		t.Error("same seed, different results")
	}
	out3, _, err := newDreamer(t, m, func(o *Options) { tile(o); o.Seed = 99 }).Run(img)
	if err != nil {
		t.Fatal(err)
	}
	if equal(out1, out3) {
		t.Error("another seed gave the same result")
	}
}

func TestTileSpans(t *testing.T) {
	for n := 1; n < 200; n += 7 {
		for _, mx := range []int{0, 1, 5, 16, 64, 300} {
			sp := tileSpans(n, mx)
			l := sp[0].Len
			if mx > 0 && l > mx {
				t.Fatalf("n %d max %d: tiles of %d", n, mx, l)
			}
			covered := make([]bool, n)
			for i, s := range sp {
				if s.Len != l || s.Start < 0 || s.Start+s.Len > n || (i > 0 && s.Start <= sp[i-1].Start) {
					t.Fatalf("n %d max %d: bad spans %v", n, mx, sp)
				}
				for j := s.Start; j < s.Start+s.Len; j++ {
					covered[j] = true
				}
			}
			for j, c := range covered {
				if !c {
					t.Fatalf("n %d max %d: %v leave %d uncovered", n, mx, sp, j)
				}
			}
			if n%len(sp) == 0 && len(sp)*l != n {
				t.Fatalf("n %d max %d: %v overlap though %d divides %d", n, mx, sp, len(sp), n)
			}
		}
	}
}

func TestRoll(t *testing.T) {
	src := randImage(5, 7, 1)
	a := tensor.New(tensor.Float32, src.Shape...)
	b := tensor.New(tensor.Float32, src.Shape...)
	roll(a, src, 2, -3)
	// dst[y][x] = src[(y-2) mod 5][(x+3) mod 7]
	if got, want := a.F32()[(1*5+3)*7+1], src.F32()[(1*5+1)*7+4]; got != want {
		t.Errorf("rolled value %v, want %v", got, want)
	}
	roll(b, a, -2, 3)
	if !equal(b, src) {
		t.Error("roll then its inverse is not the identity")
	}
}

func TestErrors(t *testing.T) {
	m := tinyModel(t, TinyOptions{Seed: 1})
	_, err := New(m, Options{Layers: []Layer{{"mixed2", 1}, {"mixed9", 1}, {"mixed11", 2}}, Step: 0.01, Octaves: 1, OctaveScale: 1.4})
	if err == nil || !strings.Contains(err.Error(), `layers "mixed9", "mixed11"`) || !strings.Contains(err.Error(), "mixed0..mixed5") {
		t.Errorf("missing layers: %v", err)
	}
	for name, change := range map[string]func(*Options){
		"step":    func(o *Options) { o.Step = 0 },
		"octaves": func(o *Options) { o.Octaves = 0 },
		"scale":   func(o *Options) { o.OctaveScale = math.Inf(1) },
		"iters":   func(o *Options) { o.Iterations = -1 },
		"maxloss": func(o *Options) { o.MaxLoss = math.NaN() },
		"border":  func(o *Options) { o.Border = -2 },
		"tile":    func(o *Options) { o.TileSize = -1 },
		"weight":  func(o *Options) { o.Layers = []Layer{{"mixed2", math.Inf(-1)}} },
		"layers":  func(o *Options) { o.Layers = nil },
	} {
		opt := Defaults()
		change(&opt)
		if _, err := New(m, opt); err == nil || !strings.HasPrefix(err.Error(), "dream: ") {
			t.Errorf("%s: want a dream: error, got %v", name, err)
		}
	}
	d := newDreamer(t, m, nil)
	// Too small for the network's strided stem at the smallest octave.
	if _, _, err := d.Run(randImage(11, 11, 1)); err == nil || !strings.Contains(err.Error(), "octave 1/3") || !strings.Contains(err.Error(), "too small for the network") {
		t.Errorf("tiny image: %v", err)
	}
	// Large enough to run, but mixed5 is no larger than the border at the first octave.
	if _, _, err := d.Run(randImage(50, 50, 1)); err == nil || !strings.Contains(err.Error(), "not larger than twice the 2-pixel border") {
		t.Errorf("small image: %v", err)
	}
	if _, _, err := d.Run(tensor.New(tensor.Float32, 1, 1, 64, 64)); err == nil {
		t.Error("grayscale tensor: no error")
	}
	if _, _, err := d.Run(tensor.New(tensor.Float32, 2, 3, 64, 64)); err == nil {
		t.Error("batch of 2: no error")
	}
}

func TestModelChecks(t *testing.T) {
	build := func(meta string, inputs int) *engine.Plan {
		b := onnx.NewBuilder("m", 13)
		if meta != "" {
			b.Metadata("preprocessing", meta)
		}
		b.InputDims("x", tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Sym("H"), onnx.Sym("W"))
		out := "y"
		if inputs == 2 {
			b.InputDims("x2", tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Sym("H"), onnx.Sym("W"))
			b.Node("Add", []string{"x", "x2"}, []string{"y"})
		} else {
			b.Node("Relu", []string{"x"}, []string{"y"})
		}
		b.OutputDims(out, tensor.Float32, onnx.Sym("N"), onnx.Fixed(3), onnx.Sym("H"), onnx.Sym("W"))
		mp, err := b.Model()
		if err != nil {
			t.Fatal(err)
		}
		p, err := engine.New(mp, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for meta, want := range map[string]string{"": "[-1,1]", "scaled to [-1, 1]": "[-1,1]", "RGB in [0, 1]": "[0,1]"} {
		m, err := NewModel(build(meta, 1))
		if err != nil || m.Range.Name != want {
			t.Errorf("preprocessing %q: %v, %v; want range %s", meta, m, err, want)
		}
	}
	if m, err := NewModel(build("ImageNet mean/std in [0, 1]", 1)); err != nil || m.RangeErr == nil || !strings.Contains(m.RangeErr.Error(), "--input-range") || m.Range.Scale != nil {
		t.Errorf("mean/std preprocessing: %v, %v", m, err)
	}
	if _, err := NewModel(build("", 2)); err == nil || !strings.Contains(err.Error(), "2 inputs") {
		t.Errorf("two inputs: %v", err)
	}
	if r, err := ParseRange("0,255"); err != nil || r.Scale[0] != 255 {
		t.Errorf("ParseRange(0,255): %v %v", r, err)
	}
	if _, err := ParseRange("1,2"); err == nil {
		t.Error("ParseRange(1,2): no error")
	}
}
