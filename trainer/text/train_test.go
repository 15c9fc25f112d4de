package text

import (
	"bufio"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/runtime/engine"
	rt "github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/corpus"
	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/nn"
)

// tinyConfig trains LSTM(8) on the first 2,000 bytes of the default corpus with windows of
// 10 every 7 characters and batches of 16: 17 batches an epoch.
func tinyConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.txt")
	text := corpus.Default()[:2000]
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Corpus, cfg.CheckpointDir = path, filepath.Join(dir, "ckpt")
	cfg.MaxLen, cfg.Step, cfg.Hidden, cfg.Batch, cfg.Epochs = 10, 7, 8, 16, 2
	cfg.Log = io.Discard
	return cfg
}

func run(t *testing.T, cfg Config) (*Trainer, []float64, error) {
	t.Helper()
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	losses, err := tr.Run()
	return tr, losses, err
}

// TestResumeExact: 20 steps uninterrupted (crossing an epoch end) give bit-identical losses
// to 9 steps, a checkpoint, and 11 more steps in a fresh trainer resumed from it, for both
// optimizers and both targets.
func TestResumeExact(t *testing.T) {
	for _, tc := range []struct{ opt, target string }{{RMSprop, charlstm.TargetNext}, {Adam, charlstm.TargetShifted}} {
		t.Run(tc.opt+"-"+tc.target, func(t *testing.T) {
			cfg := tinyConfig(t)
			cfg.Optimizer, cfg.Target = tc.opt, tc.target
			cfg.MaxSteps = 20
			a, want, err := run(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
			if len(want) != 20 {
				t.Fatalf("uninterrupted run: %d steps, want 20", len(want))
			}

			cfg.CheckpointDir = filepath.Join(t.TempDir(), "ckpt2")
			cfg.MaxSteps = 9
			b, first, err := run(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			cfg.Resume, cfg.MaxSteps = true, 20
			c, rest, err := run(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			got := append(first, rest...)
			if !slices.Equal(got, want) {
				t.Errorf("resumed losses differ:\nwant %v\n got %v", want, got)
			}
			if want[19] >= want[0] {
				t.Errorf("loss did not fall over 20 steps: %v -> %v", want[0], want[19])
			}
		})
	}
}

// TestEpochsMetricsAndExport trains two tiny epochs, checks metrics.jsonl and the
// checkpoints, and that the exported ONNX model gives the Gorgonia model's probabilities
// in gendl's engine.
func TestEpochsMetricsAndExport(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Target = charlstm.TargetShifted
	cfg.Layers = 2
	cfg.KeepLast = 1
	cfg.Out = filepath.Join(t.TempDir(), "lstm.onnx")
	if err := Train(cfg); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(cfg.CheckpointDir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []Metrics
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m Metrics
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if len(ms) != 2 || ms[1].Step != 34 || !(ms[1].ValLoss > 0) || math.Abs(ms[1].ValBPC-ms[1].ValLoss/math.Ln2) > 1e-12 {
		t.Errorf("metrics %+v", ms)
	}
	names, _ := filepath.Glob(filepath.Join(cfg.CheckpointDir, "*.ckpt"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	if !slices.Equal(names, []string{"best.ckpt", "step-000000034.ckpt"}) {
		t.Errorf("checkpoints %v, want best.ckpt and step-000000034.ckpt (KeepLast 1)", names)
	}

	// Gorgonia probabilities of a batch vs the exported model in gendl's engine.
	tr, err := NewTrainer(Config{CheckpointDir: cfg.CheckpointDir, Resume: true, Epochs: 2, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	compareWithEngine(t, tr, cfg.Out)
}

func compareWithEngine(t *testing.T, tr *Trainer, path string) {
	model, params := tr.Model()
	B := 4
	net, err := nn.New(model, nn.DenseParams(model, params), nn.Options{Batch: B, Probs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	var b corpus.Batch
	tr.Corpus().Fill(&b, corpus.SplitVal, model.Target, []int{0, 1, 2}, B) // one padding column
	if _, err := net.Run(b.X, b.Y); err != nil {
		t.Fatal(err)
	}
	pd, err := net.ProbsData()
	if err != nil {
		t.Fatal(err)
	}
	probs := pd.([]float32) // [T·B, V], row t·B+n

	plan, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	T, V, H := model.MaxLen, model.VocabSize(), model.Hidden
	const N = 3
	x := rt.New(rt.Float32, T, N, V)
	xd := x.F32()
	for tt := range T {
		for n := range N {
			xd[(tt*N+n)*V+int(b.X[tt*B+n])] = 1
		}
	}
	feeds := map[string]*rt.Tensor{charlstm.InputName: x}
	for l := range model.Layers {
		feeds[charlstm.H0Name(l)] = rt.New(rt.Float32, 1, N, H)
		feeds[charlstm.C0Name(l)] = rt.New(rt.Float32, 1, N, H)
	}
	out, err := plan.NewSession(engine.SessionOptions{}).Run(feeds, charlstm.ProbsName)
	if err != nil {
		t.Fatal(err)
	}
	got := out[charlstm.ProbsName].F32() // [T, N, V]
	// The net's probabilities are [cols, V]: for "next" the last step only (row n), for
	// "shifted" every step (row t·B+n). Relative comparison, so that a wrong function
	// cannot hide behind the near-uniform probabilities of a barely trained model (absolute
	// 1e-4 on probabilities once let G.Slice's hash collisions through, see nn.rowBlock).
	steps := []int{T - 1}
	if model.Target == charlstm.TargetShifted {
		steps = nil
		for tt := range T {
			steps = append(steps, tt)
		}
	}
	var maxRel float64
	bad := 0
	for si, tt := range steps {
		for n := range N {
			for v := range V {
				w := float64(got[(tt*N+n)*V+v])
				d := math.Abs(float64(probs[(si*B+n)*V+v]) - w)
				maxRel = max(maxRel, d/(w+1e-6))
				if d > 1e-6+1e-4*w {
					bad++
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("engine vs Gorgonia probabilities (%s): %d differ, max rel diff %.3g", model.Target, bad, maxRel)
	}
	t.Logf("engine vs Gorgonia probabilities (%s): max rel diff %.3g", model.Target, maxRel)
}

func TestDivergenceRollsBack(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.LR, cfg.Clip, cfg.Optimizer = 1e30, 0, Adam
	var log strings.Builder
	cfg.Log = &log
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, params := tr.Model()
	before := nn.ParamSlices(params.Clone())
	_, err = tr.Run()
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Run: %v, want ErrDiverged; log:\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "rolled back") {
		t.Errorf("log does not say it rolled back:\n%s", log.String())
	}
	// diverged in the first epoch: back to the initial parameters
	for k, p := range nn.ParamSlices(params) {
		if !slices.Equal(p, before[k]) {
			t.Fatalf("parameter %d not rolled back", k)
		}
	}
}

func TestCheckpointDamage(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.MaxSteps = 2
	tr, _, err := run(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	path, err := loop.LatestCheckpoint(cfg.CheckpointDir)
	if err != nil || path == "" {
		t.Fatalf("latest checkpoint %q, %v", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)/2], "truncated or damaged"},
		{"empty", nil, "not a gendl checkpoint"},
		{"magic", append([]byte("XXXXXXXX"), data[8:]...), "not a gendl checkpoint"},
		{"version", append(append([]byte("GENDLCKP"), 9, 0, 0, 0), data[12:]...), "format version 9"},
		{"flipped", flip(data, len(data)-100), "truncated or damaged"},
	} {
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Resume = true
		_, err := NewTrainer(c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	c := cfg
	c.Resume, c.CheckpointDir = true, t.TempDir()
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("empty dir: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 1
	return c
}

func TestConfigErrors(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Optimizer = "sgd" },
		func(c *Config) { c.LR = 0 },
		func(c *Config) { c.Batch = 0 },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.Target = "previous" },
		func(c *Config) { c.Corpus = "/nonexistent/book.txt" },
		func(c *Config) { c.SampleLength = -1 },
		func(c *Config) { c.SampleTemperatures = []float64{0.5, 0} },
		func(c *Config) { c.SampleTemperatures = nil },
		func(c *Config) { c.Progress = "fancy" },
	} {
		cfg := tinyConfig(t)
		mod(&cfg)
		if _, err := NewTrainer(cfg); err == nil {
			t.Errorf("config %+v: no error", cfg)
		}
	}
}

// TestSamplesPlotAndProgress trains two tiny epochs through Train with the default hooks:
// samples in the log and samples.txt (the same for the same seed), steps.tsv, a loss.png, and
// plain progress lines (Log is not a terminal).
func TestSamplesPlotAndProgress(t *testing.T) {
	train := func(cfg Config) string {
		var log strings.Builder
		cfg.Log = &log
		cfg.SampleLength, cfg.SampleTemperatures = 50, []float64{0.5, 1.2}
		cfg.ProgressEvery = time.Nanosecond
		if err := Train(cfg); err != nil {
			t.Fatal(err)
		}
		return log.String()
	}
	cfg := tinyConfig(t)
	log := train(cfg)
	for _, want := range []string{"epoch 2/2 batch 17/17 loss", "=== epoch 2 (step 34) samples", "--- generating with seed: ", "------ temperature: 1.2\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	samples, err := os.ReadFile(filepath.Join(cfg.CheckpointDir, SamplesName))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(samples), "------ temperature: 0.5\n"); n != 2 {
		t.Errorf("samples.txt has %d samples at 0.5, want one per epoch, 2:\n%s", n, samples)
	}
	cfg2 := cfg
	cfg2.CheckpointDir = filepath.Join(t.TempDir(), "again")
	train(cfg2)
	again, err := os.ReadFile(filepath.Join(cfg2.CheckpointDir, SamplesName))
	if err != nil || string(again) != string(samples) {
		t.Errorf("samples differ for the same seed (%v):\n%s\nvs\n%s", err, samples, again)
	}

	steps, err := ReadSteps(filepath.Join(cfg.CheckpointDir, StepsName))
	if err != nil || len(steps) != 34 || steps[0].Step != 1 || steps[33].Step != 34 {
		t.Errorf("steps.tsv: %d steps (%v), want 1..34", len(steps), err)
	}
	f, err := os.Open(filepath.Join(cfg.CheckpointDir, PlotName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 18 × 11 cm at gonum/plot's default 96 dpi: 680 × 416 pixels
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 350 {
		t.Errorf("loss.png is %v", b)
	}
}

// TestProgressBar draws the bar into a buffer (Progress forced to bar) and checks that the
// epoch lines still reach the log.
func TestProgressBar(t *testing.T) {
	cfg := tinyConfig(t)
	var log strings.Builder
	cfg.Log, cfg.Progress, cfg.SampleLength, cfg.Plot = &log, ProgressBar, 0, false
	if err := Train(cfg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"epoch 1/2 loss", "run ETA", "/17) [", "epoch 2: train "} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("output lacks %q:\n%q", want, log.String())
		}
	}
}

// TestSamplesLayout: a sample is the seed window (MaxLen runes) and SampleLength generated
// runes after the book's two header lines.
func TestSamplesLayout(t *testing.T) {
	tr, err := NewTrainer(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var b strings.Builder
	seed := tr.SeedWindow()
	if len(seed) != 10 {
		t.Fatalf("seed window of %d characters, want MaxLen 10", len(seed))
	}
	if err := tr.Samples(&b, seed, 50, []float64{0.7}); err != nil {
		t.Fatal(err)
	}
	head, sample, ok := strings.Cut(b.String(), "\n------ temperature: 0.7\n")
	if !ok || !strings.HasPrefix(head, "--- generating with seed: \"") || strings.Contains(head, "\n") {
		t.Fatalf("samples:\n%s", b.String())
	}
	if n := utf8.RuneCountInString(sample); n != 10+50+1 {
		t.Errorf("sample %q: %d runes, want 10 seed + 50 generated + newline", sample, n)
	}
}

func TestReadStepsKeepsLast(t *testing.T) {
	path := filepath.Join(t.TempDir(), StepsName)
	os.WriteFile(path, []byte("1\t4.5\n2\t4.25\n3\t4\n2\t4.25\n3\t3.5\n"), 0o644)
	got, err := ReadSteps(path)
	want := []StepLoss{{1, 4.5}, {2, 4.25}, {3, 3.5}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadSteps: %v %v, want %v", got, err, want)
	}
	os.WriteFile(path, []byte("1\t4.5\nbad\n"), 0o644)
	if _, err := ReadSteps(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}
