package dream

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// inceptionPath is the InceptionV3 that scripts/fetch-inception.sh writes; tests and
// benchmarks that need it skip without it ($GENDL_INCEPTION overrides the path).
func inceptionPath(tb testing.TB) string {
	p := os.Getenv("GENDL_INCEPTION")
	if p == "" {
		p = filepath.Join("..", "..", ".models", "inception_v3.onnx")
	}
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("no InceptionV3 at %s (run scripts/fetch-inception.sh)", p)
	}
	return p
}

// TestInceptionGradientFD checks the loss gradient on the real InceptionV3 (through mixed5:
// Conv, BatchNormalization, Relu, MaxPool, AveragePool, Concat) against central differences
// of the loss along the gradient's direction: the directional derivative is |grad|. Relu
// kinks and float32 make small steps noisy and large ones curved, so h = 0.03 (image units,
// along a unit vector over 160x170x3 values) and 3%.
func TestInceptionGradientFD(t *testing.T) {
	m, err := LoadModel(inceptionPath(t))
	if err != nil {
		t.Fatal(err)
	}
	d := newDreamer(t, m, func(o *Options) { o.Threads = 2; o.Octaves = 1 })
	img := randImage(160, 170, 3)
	loss, g := lossGrad(t, d, img, 1)
	var norm float64
	for _, v := range g.F32() {
		norm += float64(v) * float64(v)
	}
	norm = math.Sqrt(norm)
	const h = 0.03
	at := func(s float64) float64 {
		x := img.Clone()
		for i, v := range g.F32() {
			x.F32()[i] += float32(s * float64(v) / norm)
		}
		l, _ := lossGrad(t, d, x, 1)
		return l
	}
	fd := (at(h) - at(-h)) / (2 * h)
	t.Logf("loss %.6g, |grad| %.6g, finite difference %.6g", loss, norm, fd)
	if !closeTo(fd, norm, 0, 0.03) {
		t.Errorf("|grad| %v, finite difference along it %v", norm, fd)
	}
}

// BenchmarkInceptionStep times one loss-and-gradient evaluation on InceptionV3 at the three
// octave sizes of a 500x400 image, on all cores; cpu-s/op is the process's CPU time per step.
//
//	go test ./runtime/dream -run XXX -bench InceptionStep -benchtime 5x
func BenchmarkInceptionStep(b *testing.B) {
	m, err := LoadModel(inceptionPath(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []Size{{204, 255}, {285, 357}, {400, 500}} {
		b.Run(s.String(), func(b *testing.B) {
			d := newDreamer(b, m, func(o *Options) { o.Threads = 0; o.Octaves = 1 })
			img := randImage(s.H, s.W, 1)
			plans, err := d.octavePlans(s)
			if err != nil {
				b.Fatal(err)
			}
			st := d.newOctave(plans[0], img, nil)
			if _, err := st.lossAndGrad(); err != nil { // warm the session's buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := processCPU()
			for range b.N {
				if _, err := st.lossAndGrad(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((processCPU()-c0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
