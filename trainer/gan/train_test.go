package gan

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/loop"
)

// toyData returns n 8x8 images of a bright square at a random place on a dark background
// (values in [0, 1]).
func toyData(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	t := tensor.New(tensor.Float32, n, 1, 8, 8)
	x := t.F32()
	for i := range n {
		r, c, s := rng.IntN(5), rng.IntN(5), 2+rng.IntN(2)
		for y := range 8 {
			for xx := range 8 {
				v := 0.05 * rng.Float64()
				if y >= r && y < r+s && xx >= c && xx < c+s {
					v = 0.9 + 0.1*rng.Float64()
				}
				x[i*64+y*8+xx] = float32(v)
			}
		}
	}
	return &datasets.Dataset{Name: "toy", Images: t, Labels: make([]uint8, n), Classes: []string{"square"}, N: n, C: 1, H: 8, W: 8}
}

func tinyConfig(t *testing.T) Config {
	m := dcgan.Tiny()
	c := Defaults()
	c.Dataset, c.LatentDim, c.GenBase, c.GenFilters, c.DiscFilters = "toy", m.LatentDim, m.GenBase, m.GenFilters, m.DiscFilters
	c.Kernel, c.OutKernel, c.Dropout = m.Kernel, m.OutKernel, m.Dropout
	c.Batch, c.Steps, c.LogEvery, c.SampleEvery, c.SampleCount = 8, 6, 2, 3, 9
	c.TrainData = toyData(40, 1) // 5 batches: the data order wraps into a second epoch
	c.CheckpointDir = filepath.Join(t.TempDir(), "ckpt")
	c.CheckpointEvery = 3
	c.Progress = loop.ProgressOff
	c.Log = &bytes.Buffer{}
	return c
}

// sameExports reports whether two exported generators have bitwise equal weights.
func sameExports(t *testing.T, pathA, pathB string) bool {
	t.Helper()
	a, err := dcgan.LoadFile(pathA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dcgan.LoadFile(pathB)
	if err != nil {
		t.Fatal(err)
	}
	return equal(a.Params.Slices(), b.Params.Slices())
}

func snapshot(p dcgan.Params) [][]float32 { return loop.CloneSlices(p.Slices()) }

func equal(a, b [][]float32) bool {
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// The generator's step goes through the discriminator but changes only the generator; the
// discriminator's step changes only the discriminator.
func TestFrozenDiscriminator(t *testing.T) {
	tr, err := NewTrainer(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, gen, disc := tr.Params()
	rng := rand.New(rand.NewPCG(1, 1))
	var r StepResult
	g0, d0 := snapshot(gen), snapshot(disc)
	if err := tr.genStep(rng, &r); err != nil {
		t.Fatal(err)
	}
	if !equal(snapshot(disc), d0) {
		t.Error("the generator's step changed the discriminator")
	}
	if equal(snapshot(gen), g0) {
		t.Error("the generator's step did not change the generator")
	}
	g1 := snapshot(gen)
	if err := tr.discStep([]int{0, 1, 2, 3, 4, 5, 6, 7}, rng, &r); err != nil {
		t.Fatal(err)
	}
	if !equal(snapshot(gen), g1) {
		t.Error("the discriminator's step changed the generator")
	}
	if equal(snapshot(disc), d0) {
		t.Error("the discriminator's step did not change the discriminator")
	}
	if !(r.DLoss > 0) || !(r.GLoss > 0) || r.DReal <= 0 || r.DReal >= 1 || r.DFake <= 0 || r.DFake >= 1 {
		t.Errorf("step result %+v: want positive losses and probabilities in (0, 1)", r)
	}
}

// firstLosses pins the first steps' losses of the Tiny DCGAN on the toy data with seed 1:
// they change only if the model, its initialisation, the data order, the noise or the
// optimizer change. Regenerate by running with -v and copying the logged values, after
// checking that the change was intended. At step 1 both losses are near log 2 = 0.693 (an
// untrained discriminator says about 1/2 to everything).
var firstLosses = [][2]float64{{0.7117, 0.6735}, {0.7112, 0.6743}, {0.7084, 0.6776}}

func TestFirstStepsLoss(t *testing.T) {
	tr, err := NewTrainer(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i, want := range firstLosses {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("step %d: D %.4f G %.4f", i+1, r.DLoss, r.GLoss)
		if math.Abs(r.DLoss-want[0]) > 5e-4 || math.Abs(r.GLoss-want[1]) > 5e-4 {
			t.Errorf("step %d: losses D %.4f G %.4f, want %.4f %.4f", i+1, r.DLoss, r.GLoss, want[0], want[1])
		}
	}
}

// A run stopped after 3 steps and resumed to 6 ends with exactly the parameters, optimizer
// state and metrics of an uninterrupted 6-step run (both optimizers).
func TestResumeExact(t *testing.T) {
	for _, tc := range []struct {
		opt   string
		ema   float64
		decay float64
	}{{RMSprop, 0, 0}, {Adam, 0, 0}, {Adam, 0.9, 0}, {Adam, 0, 0.8}} {
		opt := tc.opt
		if tc.ema > 0 {
			opt += "+ema"
		}
		if tc.decay > 0 {
			opt += "+lr-decay"
		}
		full := tinyConfig(t)
		full.Optimizer, full.EMA, full.LRDecay = tc.opt, tc.ema, tc.decay
		full.Out = filepath.Join(t.TempDir(), "full.onnx")
		if err := Train(full); err != nil {
			t.Fatal(err)
		}
		part := tinyConfig(t)
		part.Optimizer, part.EMA, part.LRDecay = tc.opt, tc.ema, tc.decay
		part.MaxSteps = 3
		if err := Train(part); err != nil {
			t.Fatal(err)
		}
		resumed := part
		resumed.MaxSteps, resumed.Resume = 0, true
		resumed.Optimizer, resumed.Batch, resumed.EMA, resumed.LRDecay = "", 0, 0, 0 // stored values win
		resumed.Out = filepath.Join(t.TempDir(), "resumed.onnx")
		if err := Train(resumed); err != nil {
			t.Fatal(err)
		}
		if !sameExports(t, full.Out, resumed.Out) {
			t.Errorf("%s: resumed generator differs from the uninterrupted one", opt)
		}
		for _, name := range []string{loop.CheckpointName(6)} {
			var sa, sb State
			ca, err := loop.ReadCheckpoint(filepath.Join(full.CheckpointDir, name), &sa)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := loop.ReadCheckpoint(filepath.Join(part.CheckpointDir, name), &sb)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(ca, cb) {
				t.Errorf("%s: checkpoint arrays (parameters and optimizer state) differ after resume", opt)
			}
			if want := 4*len(dcgan.Tiny().GenShapes()) + 3*len(dcgan.Tiny().DiscShapes()); tc.ema > 0 && len(ca) != want {
				t.Errorf("%s: checkpoint holds %d arrays, want %d (with the averaged generator)", opt, len(ca), want)
			}
			if sa.DEMA != sb.DEMA || sa.GOptT != sb.GOptT || sa.DOptT != sb.DOptT || sa.NEMA != sb.NEMA {
				t.Errorf("%s: states differ: %+v vs %+v", opt, sa, sb)
			}
		}
		ma, err := ReadMetrics(filepath.Join(full.CheckpointDir, MetricsName))
		if err != nil {
			t.Fatal(err)
		}
		mb, err := ReadMetrics(filepath.Join(part.CheckpointDir, MetricsName))
		if err != nil {
			t.Fatal(err)
		}
		if len(ma) != 3 || len(mb) != 3 {
			t.Fatalf("%s: %d and %d metrics lines, want 3 (every 2 steps)", opt, len(ma), len(mb))
		}
		for i := range ma {
			if ma[i].Step != mb[i].Step || ma[i].DLoss != mb[i].DLoss || ma[i].GLoss != mb[i].GLoss || ma[i].DReal != mb[i].DReal {
				t.Errorf("%s: metrics line %d: %+v vs %+v", opt, i, ma[i], mb[i])
			}
		}
		for _, name := range []string{SamplesName(3), SamplesName(6), PlotName, ProgressName, loop.CheckpointName(3)} {
			if _, err := os.Stat(filepath.Join(full.CheckpointDir, name)); err != nil {
				t.Errorf("%s: %v", opt, err)
			}
		}
	}
}

// With EMA the trainer keeps w̄ ← d·w̄ + (1-d)·w after every generator step, d = min(EMA,
// (1+n)/(10+n)), recomputed here in float64 from snapshots of the live weights; the exported
// generator carries the average, not the live weights.
func TestEMA(t *testing.T) {
	c := tinyConfig(t)
	c.Optimizer, c.EMA, c.SampleCount, c.Plot = Adam, 0.5, 0, false
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, live, _ := tr.Params()
	avg := make([][]float64, len(live))
	for i, s := range live.Slices() {
		for _, v := range s {
			avg[i] = append(avg[i], float64(v))
		}
	}
	for n := int64(1); n <= 5; n++ {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		d := min(0.5, float64(1+n)/float64(10+n))
		for i, s := range live.Slices() {
			for j, v := range s {
				avg[i][j] = d*avg[i][j] + (1-d)*float64(v)
			}
		}
	}
	var maxd, moved float64
	avgGen, err := tr.Generator()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range avgGen.Slices() {
		for j, v := range s {
			maxd = max(maxd, math.Abs(float64(v)-avg[i][j]))
			moved = max(moved, math.Abs(float64(v)-float64(live.Slices()[i][j])))
		}
	}
	if maxd > 1e-6 {
		t.Errorf("averaged weights differ from the float64 recomputation by %.3g", maxd)
	}
	if moved == 0 {
		t.Fatal("the average equals the live weights after 5 steps")
	}
	out := filepath.Join(t.TempDir(), "g.onnx")
	if err := tr.Export(out); err != nil {
		t.Fatal(err)
	}
	m, err := dcgan.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(m.Params.Slices(), avgGen.Slices()) {
		t.Error("the exported generator is not the averaged one")
	}
	bad := tinyConfig(t)
	bad.EMA = 1
	if _, err := NewTrainer(bad); err == nil || !strings.Contains(err.Error(), "EMA") {
		t.Errorf("EMA 1: error %v, want one naming EMA", err)
	}
}

// Training moves the generator's images towards the data: after 150 steps on the toy squares
// the discriminator's P(real) on fakes is not stuck at 0 (no collapse) and the generated
// images are mostly dark with bright pixels, like the data (mean pixel in [-1, 1] below 0).
func TestTrainingLearns(t *testing.T) {
	c := tinyConfig(t)
	c.Optimizer, c.Steps, c.SampleCount, c.Plot = Adam, 150, 0, false
	c.DLR, c.GLR = 2e-3, 2e-3
	c.CheckpointEvery, c.LogEvery = 1000, 1000
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	ms, err := ReadMetrics(filepath.Join(tr.Dir(), MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	t.Logf("after %d steps: %+v", last.Step, last)
	if last.DFake < 0.05 {
		t.Errorf("D(fake) = %.3f: the discriminator rejects every fake", last.DFake)
	}
	imgs, err := tr.genNet.ImagesData()
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for _, v := range imgs.([]float32) {
		mean += float64(v)
	}
	mean /= float64(len(imgs.([]float32)))
	// the data: about 6 of 64 pixels bright, the mean about -0.8
	if mean > 0 {
		t.Errorf("mean generated pixel %.3f, want < 0 (the data's is about -0.8)", mean)
	}
}

func TestWarnings(t *testing.T) {
	tr := &Trainer{}
	tr.st.Step = 1
	tr.watch(StepResult{DLoss: 0.01, GLoss: 9})
	tr.st.Step = warmup + 1
	if w := tr.watch(StepResult{DLoss: 0.01, GLoss: 9}); !strings.Contains(w, "discriminator's loss has collapsed") {
		t.Errorf("D loss 0.01: warning %q", w)
	}
	tr.st.Step += 10
	if w := tr.watch(StepResult{DLoss: 0.01, GLoss: 9}); w != "" {
		t.Errorf("a second warning %d steps after the first: %q", 10, w)
	}
	tr = &Trainer{}
	tr.st.Step = 1
	tr.watch(StepResult{DLoss: 0.5, GLoss: 10})
	tr.st.Step = warmup + 1
	if w := tr.watch(StepResult{DLoss: 0.5, GLoss: 10}); !strings.Contains(w, "generator's loss has exploded") {
		t.Errorf("G loss 10: warning %q", w)
	}
	tr = &Trainer{}
	tr.st.Step = warmup + 1
	if w := tr.watch(StepResult{DLoss: 0.6, GLoss: 0.9}); w != "" {
		t.Errorf("healthy losses: warning %q", w)
	}
}

func TestBadInput(t *testing.T) {
	bright := toyData(16, 1)
	bright.Images.F32()[5] = 1.5
	nan := toyData(16, 1)
	nan.Images.F32()[7] = float32(math.NaN())
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Steps = 0 }, "steps = 0"},
		{func(c *Config) { c.Batch = 0 }, "batch = 0"},
		{func(c *Config) { c.Optimizer = "sgd" }, `optimizer "sgd"`},
		{func(c *Config) { c.DLR = -1 }, "learning rates"},
		{func(c *Config) { c.LabelNoise = 0.9 }, "label noise"},
		{func(c *Config) { c.Beta1 = 1; c.Optimizer = Adam }, "beta1"},
		{func(c *Config) { c.Kernel = 3 }, "multiple of the stride"},
		{func(c *Config) { c.GenFilters = []int{2, 2, 2, 2} }, "divisible by 2^4"},
		{func(c *Config) { c.Batch = 100 }, "fewer than one batch"},
		{func(c *Config) { c.TrainData = bright }, "pixel 5 of image 0 is 1.5"},
		{func(c *Config) { c.TrainData = nan }, "pixel 7 of image 0 is NaN"},
		{func(c *Config) { c.Resume = true }, "no checkpoint"},
		{func(c *Config) { c.Classifier = filepath.Join(t.TempDir(), "missing.onnx") }, "missing.onnx"},
		{func(c *Config) { c.Progress = "fancy" }, "progress"},
		{func(c *Config) { c.Dataset, c.TrainData = filepath.Join(t.TempDir(), "nowhere"), nil }, "neither a dataset name"},
	} {
		c := tinyConfig(t)
		tc.edit(&c)
		_, err := NewTrainer(c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
		}
	}
	// a damaged checkpoint on resume
	c := tinyConfig(t)
	c.MaxSteps = 3
	if err := Train(c); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.CheckpointDir, loop.CheckpointName(3))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Resume = true
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("damaged checkpoint: %v", err)
	}
	// a checkpoint of another model
	c2 := tinyConfig(t)
	c2.MaxSteps = 3
	if err := Train(c2); err != nil {
		t.Fatal(err)
	}
	c2.Resume, c2.TrainData = true, toyData(40, 1)
	c2.TrainData.H, c2.TrainData.W = 4, 16
	if _, err := NewTrainer(c2); err == nil || !strings.Contains(err.Error(), "checkpoint's") {
		t.Errorf("resume on other images: %v", err)
	}
}

func TestStepFLOPs(t *testing.T) {
	// DefaultConfig per image: generator 100·3136 + 49·64·64·16 + 196·64·32·16 + 784·32·25 =
	// 313600 + 3211264 + 6422528 + 627200 = 10574592 multiply-adds; discriminator
	// 196·32·16 + 49·64·32·16 + 3136 = 100352 + 1605632 + 3136 = 1709120.
	g, d := MACs(dcgan.DefaultConfig())
	if g != 10574592 || d != 1709120 {
		t.Errorf("MACs %v %v, want 10574592 1709120", g, d)
	}
	want := 2 * (20*g + 2*20*3*d + 20*3*g + 20*2*d)
	if got := StepFLOPs(dcgan.DefaultConfig(), 20); got != want {
		t.Errorf("StepFLOPs %v, want %v", got, want)
	}
}

// With a classifier, the run scores the generator every EvalEvery steps, records the score in
// metrics.jsonl, plots it and keeps the best generator as best.onnx.
func TestTrainingScores(t *testing.T) {
	c := tinyConfig(t)
	c.Classifier = filepath.Join(t.TempDir(), "clf.onnx")
	if err := imagegen.WriteTiny(c.Classifier, imagegen.Classifier, imagegen.TinyOptions{C: 1, H: 8, W: 8, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	c.EvalEvery, c.EvalSamples = 3, 50
	if err := Train(c); err != nil {
		t.Fatal(err)
	}
	ms, err := ReadMetrics(filepath.Join(c.CheckpointDir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	scored := 0
	for _, m := range ms {
		if m.IS != nil {
			scored++
			if *m.IS < 1 || *m.IS > 10 {
				t.Errorf("step %d: inception score %v outside [1, 10]", m.Step, *m.IS)
			}
		}
	}
	if scored != 2 {
		t.Errorf("%d scored metrics lines, want 2 (steps 3 and 6)", scored)
	}
	for _, name := range []string{BestName, ScorePlotName} {
		if _, err := os.Stat(filepath.Join(c.CheckpointDir, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := dcgan.LoadFile(filepath.Join(c.CheckpointDir, BestName)); err != nil {
		t.Error(err)
	}
	bad := tinyConfig(t)
	bad.Classifier = filepath.Join(t.TempDir(), "big.onnx")
	if err := imagegen.WriteTiny(bad.Classifier, imagegen.Classifier, imagegen.TinyOptions{C: 1, H: 28, W: 28}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrainer(bad); err == nil || !strings.Contains(err.Error(), "takes 1,28,28 images") {
		t.Errorf("classifier of another image size: %v", err)
	}
}

// A time limit ends the run after the step during which it passed, treated as the last step:
// checkpointed, sampled and exported although Steps was not reached.
func TestTimeLimit(t *testing.T) {
	c := tinyConfig(t)
	c.Steps, c.TimeLimit = 1000, time.Nanosecond
	c.Out = filepath.Join(t.TempDir(), "g.onnx")
	if err := Train(c); err != nil {
		t.Fatal(err)
	}
	if _, err := dcgan.LoadFile(c.Out); err != nil {
		t.Errorf("no exported generator after the time limit: %v", err)
	}
	for _, name := range []string{loop.CheckpointName(1), SamplesName(1)} {
		if _, err := os.Stat(filepath.Join(c.CheckpointDir, name)); err != nil {
			t.Error(err)
		}
	}
	if log := c.Log.(*bytes.Buffer).String(); !strings.Contains(log, "time limit") {
		t.Errorf("the log does not say the time limit stopped the run:\n%s", log)
	}
}

// LRFactor: 1 until the last LRDecay·Steps steps, then linearly down to 1/(LRDecay·Steps).
func TestLRFactor(t *testing.T) {
	c := Config{Steps: 10, LRDecay: 0.5}
	want := []float64{1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2}
	for s, w := range want {
		if got := c.LRFactor(int64(s)); math.Abs(got-w) > 1e-12 {
			t.Errorf("LRFactor(%d) = %v, want %v", s, got, w)
		}
	}
	c.LRDecay = 0
	if got := c.LRFactor(9); got != 1 {
		t.Errorf("no decay: LRFactor(9) = %v, want 1", got)
	}
	c.LRDecay = 1
	if got := c.LRFactor(0); got != 1 {
		t.Errorf("decay over the whole run: LRFactor(0) = %v, want 1", got)
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		c := tinyConfig(t)
		c.LRDecay = bad
		if err := Train(c); err == nil || !strings.Contains(err.Error(), "decay") {
			t.Errorf("LRDecay %v: error %v, want one naming the decay", bad, err)
		}
	}
}

// With LRDecay the updates before the decay are the constant-rate run's, the later ones smaller:
// the step-3 checkpoints agree, the final generators differ, and the decayed run moved less in
// its last steps.
func TestLRDecayTraining(t *testing.T) {
	run := func(decay float64) (mid, end [][]float32) {
		c := tinyConfig(t)
		c.Optimizer, c.LRDecay = Adam, decay
		tr, err := NewTrainer(c)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		for range 3 {
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		mid = snapshot(tr.gen)
		for tr.State().Step < c.Steps {
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		return mid, snapshot(tr.gen)
	}
	// a constant-rate run resumed at step 3 with the decay ends where the decayed run does
	full := tinyConfig(t)
	full.Optimizer, full.LRDecay = Adam, 0.5
	full.Out = filepath.Join(t.TempDir(), "full.onnx")
	part := tinyConfig(t)
	part.Optimizer, part.MaxSteps = Adam, 3
	if err := Train(full); err != nil {
		t.Fatal(err)
	}
	if err := Train(part); err != nil {
		t.Fatal(err)
	}
	resumed := part
	resumed.MaxSteps, resumed.Resume, resumed.LRDecay = 0, true, 0.5
	resumed.Out = filepath.Join(t.TempDir(), "resumed.onnx")
	if err := Train(resumed); err != nil {
		t.Fatal(err)
	}
	if !sameExports(t, full.Out, resumed.Out) {
		t.Error("a run resumed with --lr-decay differs from one decayed from the start")
	}

	m0, e0 := run(0)
	m1, e1 := run(0.5)
	if !equal(m0, m1) {
		t.Fatal("the first steps (before the decay) differ")
	}
	dist := func(a, b [][]float32) float64 {
		var s float64
		for i := range a {
			for j := range a[i] {
				d := float64(a[i][j] - b[i][j])
				s += d * d
			}
		}
		return math.Sqrt(s)
	}
	d0, d1 := dist(m0, e0), dist(m1, e1)
	if !(d1 < 0.8*d0) || d1 == 0 {
		t.Errorf("the generator moved %.4g in the decayed steps, %.4g at constant rates: want clearly less", d1, d0)
	}
}
