package loop

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type header struct {
	Step int64  `json:"step"`
	Name string `json:"name"`
}

func TestCheckpointRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	arrays := [][]float32{{1, 2, 3}, {}, {float32(math.Inf(1)), -0.5}}
	path := filepath.Join(dir, CheckpointName(7))
	if err := WriteCheckpoint(path, header{7, "x"}, arrays); err != nil {
		t.Fatal(err)
	}
	var h header
	got, err := ReadCheckpoint(path, &h)
	if err != nil {
		t.Fatal(err)
	}
	if h != (header{7, "x"}) || len(got) != 3 || !slices.Equal(got[0], arrays[0]) || !slices.Equal(got[2], arrays[2]) {
		t.Fatalf("round trip: %+v %v", h, got)
	}
	data, _ := os.ReadFile(path)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)-9], "checksum"},
		{"short", data[:10], "unexpected EOF"},
		{"magic", append([]byte("NOTACKPT"), data[8:]...), "magic"},
		{"version", func() []byte { d := slices.Clone(data); d[8] = 9; return d }(), "version 9"},
		{"bit flip", func() []byte { d := slices.Clone(data); d[len(d)/2] ^= 4; return d }(), "checksum"},
	} {
		if _, err := DecodeCheckpoint(c.data, &h); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	os.WriteFile(path, data[:len(data)-1], 0o644)
	if _, err := ReadCheckpoint(path, &h); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("damaged file: error %v, want one naming %s", err, path)
	}
}

func TestPruneAndLatest(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []int64{3, 12, 1, 100} {
		if err := WriteCheckpoint(filepath.Join(dir, CheckpointName(s)), header{Step: s}, nil); err != nil {
			t.Fatal(err)
		}
	}
	WriteCheckpoint(filepath.Join(dir, BestName), header{}, nil)
	if err := PruneCheckpoints(dir, 2); err != nil {
		t.Fatal(err)
	}
	latest, err := LatestCheckpoint(dir)
	if err != nil || filepath.Base(latest) != CheckpointName(100) {
		t.Fatalf("latest %s %v", latest, err)
	}
	names, _ := stepCheckpoints(dir)
	if !slices.Equal(names, []string{CheckpointName(12), CheckpointName(100)}) {
		t.Errorf("kept %v", names)
	}
	if _, err := os.Stat(filepath.Join(dir, BestName)); err != nil {
		t.Error("best.ckpt was pruned")
	}
	if l, err := LatestCheckpoint(filepath.Join(dir, "none")); l != "" || err != nil {
		t.Errorf("missing dir: %q %v", l, err)
	}
}

// One Adam step from zero state moves every parameter by lr·sign(g) (Keras' bias-corrected
// update: m̂ = g, v̂ = g², up to epsilon); RMSprop's first step by lr·g/sqrt(0.1·g²).
func TestOptimizers(t *testing.T) {
	for _, c := range []struct {
		name string
		want func(g float64) float64
	}{
		{Adam, func(g float64) float64 { return -1e-3 * math.Copysign(1, g) }},
		{RMSprop, func(g float64) float64 { return -1e-3 * g / math.Sqrt(0.1*g*g) }},
	} {
		o, err := NewOptimizer(c.name, 1e-3, []int{3})
		if err != nil {
			t.Fatal(err)
		}
		p := [][]float32{{0, 0, 0}}
		g := [][]float32{{0.5, -2, 3}}
		o.Step(p, g, 1)
		for i, gv := range g[0] {
			if w := c.want(float64(gv)); math.Abs(float64(p[0][i])-w) > 1e-6 {
				t.Errorf("%s: parameter %d moved to %g, want %g", c.name, i, p[0][i], w)
			}
		}
		if o.T != 1 {
			t.Errorf("%s: T = %d", c.name, o.T)
		}
	}
	if _, err := NewOptimizer("sgd", 1, nil); err == nil {
		t.Error("sgd: no error")
	}
	if s, n := ClipScale([][]float32{{3}, {4}}, 1); math.Abs(s-0.2) > 1e-12 || n != 5 {
		t.Errorf("ClipScale = %g, %g, want 0.2, 5", s, n)
	}
}

func TestJSONLAndPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.jsonl")
	type m struct {
		Epoch int     `json:"epoch"`
		Loss  float64 `json:"loss"`
	}
	for _, v := range []m{{1, 5}, {2, 4}, {2, 3.5}, {3, 3}} {
		if err := AppendJSONL(path, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadJSONL(path, func(v m) int { return v.Epoch })
	if err != nil || !slices.Equal(got, []m{{1, 5}, {2, 3.5}, {3, 3}}) {
		t.Fatalf("ReadJSONL = %v, %v", got, err)
	}
	png, err := PlotPNG("t", "epoch", "loss", []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{5, 3.5, 3}}, {Name: "s", X: []float64{1, 2}, Y: []float64{math.NaN(), 4}, Light: true}})
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("PlotPNG: %d bytes, %v", len(png), err)
	}
	if _, err := PlotPNG("t", "x", "y", []Series{{Name: "nan", X: []float64{1}, Y: []float64{math.NaN()}}}); err == nil {
		t.Error("nothing to draw: no error")
	}
}

// refAdam is Keras' Adam in float64 (lr_t = lr·sqrt(1-β2^t)/(1-β1^t); p -= lr_t·m/(sqrt(v)+ε)),
// with Keras' clipvalue applied to the gradient first: the reference for WithBeta1 and
// WithClipValue.
func refAdam(p []float64, grads [][]float64, lr, b1, clip float64) {
	m, v := make([]float64, len(p)), make([]float64, len(p))
	for t, g := range grads {
		lrt := lr * math.Sqrt(1-math.Pow(0.999, float64(t+1))) / (1 - math.Pow(b1, float64(t+1)))
		for i := range p {
			gi := g[i]
			if clip > 0 {
				gi = math.Min(math.Max(gi, -clip), clip)
			}
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			p[i] -= lrt * m[i] / (math.Sqrt(v[i]) + 1e-7)
		}
	}
}

func TestOptimizerBeta1AndClipValue(t *testing.T) {
	grads := [][]float64{{0.5, -2, 3, 0.1}, {-0.25, 4, 1.5, -3}, {1, -1, 0.75, 2}}
	for _, c := range []struct {
		b1, clip float64
	}{{0.9, 0}, {0.5, 0}, {0.5, 1}, {0, 0.8}} {
		o, err := NewOptimizer(Adam, 1e-2, []int{4}, WithBeta1(c.b1), WithClipValue(c.clip))
		if err != nil {
			t.Fatal(err)
		}
		p := [][]float32{{0.1, 0.2, -0.3, 0.4}}
		want := []float64{0.1, 0.2, -0.3, 0.4}
		for _, g := range grads {
			g32 := make([]float32, len(g))
			for i, v := range g {
				g32[i] = float32(v)
			}
			o.Step(p, [][]float32{g32}, 1)
		}
		refAdam(want, grads, 1e-2, c.b1, c.clip)
		// float32 arithmetic against float64: |got-want| <= 1e-6 + 1e-5·|want|.
		for i, w := range want {
			if d := math.Abs(float64(p[0][i]) - w); d > 1e-6+1e-5*math.Abs(w) {
				t.Errorf("beta1 %g clip %g: parameter %d = %g, want %g", c.b1, c.clip, i, p[0][i], w)
			}
		}
	}
	// The default is Keras' beta1 0.9, bit for bit.
	a, _ := NewOptimizer(Adam, 1e-3, []int{2})
	b, _ := NewOptimizer(Adam, 1e-3, []int{2}, WithBeta1(0.9))
	pa, pb := [][]float32{{1, 2}}, [][]float32{{1, 2}}
	for range 3 {
		a.Step(pa, [][]float32{{0.3, -0.7}}, 0.5)
		b.Step(pb, [][]float32{{0.3, -0.7}}, 0.5)
	}
	if pa[0][0] != pb[0][0] || pa[0][1] != pb[0][1] {
		t.Errorf("WithBeta1(0.9) gives %v, the default %v", pb, pa)
	}
	for _, opt := range []Option{WithBeta1(1), WithBeta1(-0.1), WithClipValue(-1), WithClipValue(math.Inf(1)), WithClipValue(math.NaN())} {
		if _, err := NewOptimizer(Adam, 1e-3, []int{1}, opt); err == nil {
			t.Error("an out-of-range beta1 or clip value gave no error")
		}
	}
}

// Plain progress lines: none before an interval has passed except at an epoch's end, in the
// caller's format when one is given.
func TestLinesFunc(t *testing.T) {
	var b strings.Builder
	hook := LinesFunc(&b, time.Hour, func(p Progress) string { return fmt.Sprintf("e%d b%d/%d\n", p.Epoch, p.Batch, p.Batches) })
	for i := 1; i <= 3; i++ {
		hook(Progress{Epoch: 1, Batch: i, Batches: 3})
	}
	if got, want := b.String(), "e1 b3/3\n"; got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	b.Reset()
	Lines(&b, time.Hour)(Progress{Epoch: 2, Epochs: 2, Batch: 1, Batches: 1, EpochLoss: 1.5, Unit: "nats"})
	if !strings.HasPrefix(b.String(), "epoch 2/2 batch 1/1 loss 1.5000 nats ") {
		t.Errorf("default line %q", b.String())
	}
}

// ResumeLatest: no checkpoint is the resuming package's error; otherwise the latest step's
// header and arrays.
func TestResumeLatest(t *testing.T) {
	dir := t.TempDir()
	var h header
	if _, _, err := ResumeLatest("gan", dir, &h); err == nil || err.Error() != "gan: --resume: no checkpoint (step-*.ckpt) in "+dir {
		t.Fatalf("empty dir: %v", err)
	}
	for _, s := range []int64{3, 12} {
		if err := WriteCheckpoint(filepath.Join(dir, CheckpointName(s)), header{Step: s}, [][]float32{{float32(s)}}); err != nil {
			t.Fatal(err)
		}
	}
	path, arrays, err := ResumeLatest("gan", dir, &h)
	if err != nil || path != filepath.Join(dir, CheckpointName(12)) || h.Step != 12 || len(arrays) != 1 || arrays[0][0] != 12 {
		t.Fatalf("ResumeLatest: %s, %v, %+v, %v", path, arrays, h, err)
	}
}
