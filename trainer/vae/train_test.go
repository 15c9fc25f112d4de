package vae

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/loop"
)

// toyData returns n 8x8 images of a bright square at a random place on a dark background
// (values in [0, 1]): a dataset a Tiny VAE can learn within a few dozen steps.
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
	return &datasets.Dataset{Name: "toy", Images: t, Labels: make([]uint8, n), N: n, C: 1, H: 8, W: 8}
}

func tinyConfig(t *testing.T) Config {
	m := vae.Tiny()
	c := Defaults()
	c.Dataset, c.LatentDim, c.Filters, c.Hidden, c.Kernel = "toy", m.LatentDim, m.Filters, m.Hidden, m.Kernel
	c.Batch, c.Epochs = 16, 3
	c.TrainData, c.TestData = toyData(128, 1), toyData(40, 2)
	c.CheckpointDir = filepath.Join(t.TempDir(), "ckpt")
	c.Progress = loop.ProgressOff
	c.Log = &bytes.Buffer{}
	return c
}

// firstLosses pins the first training losses of the Tiny VAE on the toy data with seed 1
// (nats per 8x8 image): they change only if the model, its initialisation, the data order,
// the noise or the optimizer change. Regenerate by running the test with -v and copying the
// logged values, after checking that the change was intended.
var firstLosses = []float64{44.0185, 44.0440, 43.8295, 43.8328, 43.7879, 43.7806, 43.6970, 43.6855}

func TestFirstStepsLoss(t *testing.T) {
	c := tinyConfig(t)
	c.MaxSteps = int64(len(firstLosses))
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	losses, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first losses: %.4f", losses)
	if len(losses) != len(firstLosses) {
		t.Fatalf("%d steps, want %d", len(losses), len(firstLosses))
	}
	// 0.01 nats: float32 sums in another order (a different SGEMM kernel) move the loss by
	// ~1e-5 relative; a real change of the computation moves it by far more.
	for i, l := range losses {
		if math.Abs(l-firstLosses[i]) > 0.01 {
			t.Errorf("step %d: loss %.4f, want %.4f", i+1, l, firstLosses[i])
		}
	}
}

// Training reduces the loss: after 3 epochs of 8 steps the test negative ELBO is well below
// the untrained model's.
func TestTrainingLearns(t *testing.T) {
	c := tinyConfig(t)
	c.Epochs = 6
	c.LR = 3e-3
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before, err := tr.Evaluate(c.TestData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	after, err := tr.Evaluate(c.TestData)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test negative ELBO %.2f -> %.2f nats/image", before.NegELBO, after.NegELBO)
	if !(after.NegELBO < before.NegELBO-5) {
		t.Errorf("test negative ELBO %.2f -> %.2f: want a drop of more than 5 nats", before.NegELBO, after.NegELBO)
	}
	ms, err := ReadMetrics(filepath.Join(c.CheckpointDir, MetricsName))
	if err != nil || len(ms) != 6 {
		t.Fatalf("metrics: %d lines, %v", len(ms), err)
	}
	if ms[5].TestNegELBO != after.NegELBO {
		t.Errorf("metrics.jsonl's last test negative ELBO %g, Evaluate gives %g", ms[5].TestNegELBO, after.NegELBO)
	}
	for _, name := range []string{PlotName, SamplesName(6), loop.BestName} {
		if _, err := os.Stat(filepath.Join(c.CheckpointDir, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	f, err := os.Open(filepath.Join(c.CheckpointDir, SamplesName(6)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := imaging.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 10 columns, 2 + 3 rows of 8x8 tiles with 2 pixels of padding
	if b := img.Bounds(); b.Dx() != 10*8+11*2 || b.Dy() != 5*8+6*2 {
		t.Errorf("sample picture %v, want 102x52", b)
	}
}

// A run interrupted and resumed from its checkpoint takes exactly the steps of an
// uninterrupted run: the same losses, bit for bit, and the same final parameters.
func TestResumeExact(t *testing.T) {
	full := tinyConfig(t)
	tr, err := NewTrainer(full)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	_, wantParams := tr.Model()
	tr.Close()

	part := tinyConfig(t)
	part.MaxSteps = 11 // mid-epoch 2 (8 steps per epoch)
	tr, err = NewTrainer(part)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	resume := part
	resume.MaxSteps, resume.Resume = 0, true
	resume.LR = 99 // ignored: the checkpoint's configuration wins
	tr, err = NewTrainer(resume)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if s := tr.State(); s.Step != 11 || s.Epoch != 1 || s.Batch != 3 {
		t.Fatalf("resumed at step %d epoch %d batch %d, want 11, 1, 3", s.Step, s.Epoch, s.Batch)
	}
	rest, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if !slices.Equal(got, want) {
		t.Errorf("resumed losses differ:\n got %v\nwant %v", got, want)
	}
	_, gotParams := tr.Model()
	for i, p := range gotParams.List() {
		if !slices.Equal(p.F32(), wantParams.List()[i].F32()) {
			t.Errorf("parameter %d differs after the resumed run", i)
		}
	}
}

func TestBadInput(t *testing.T) {
	// truncated and damaged checkpoints
	c := tinyConfig(t)
	c.MaxSteps = 2
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	path, err := loop.LatestCheckpoint(c.CheckpointDir)
	if err != nil || path == "" {
		t.Fatalf("no checkpoint: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)/2], "checksum"},
		{"empty", nil, "not a gendl checkpoint"},
		{"flipped byte", func() []byte { d := slices.Clone(data); d[100] ^= 1; return d }(), "checksum"},
	} {
		if err := os.WriteFile(path, bad.data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := c
		r.Resume, r.MaxSteps = true, 0
		_, err := NewTrainer(r)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s checkpoint: error %v, want one naming the file and %q", bad.name, err, bad.want)
		}
	}

	// image sizes the architecture cannot take, and test images unlike the training ones
	c = tinyConfig(t)
	odd := tensor.New(tensor.Float32, 32, 1, 10, 10)
	c.TrainData = &datasets.Dataset{Name: "odd", Images: odd, N: 32, C: 1, H: 10, W: 10}
	c.TestData = nil
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "divisible") {
		t.Errorf("10x10 images: error %v, want one about divisibility", err)
	}
	c = tinyConfig(t)
	c.TestData = &datasets.Dataset{Name: "big", Images: tensor.New(tensor.Float32, 4, 1, 16, 16), N: 4, C: 1, H: 16, W: 16}
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "test images") {
		t.Errorf("16x16 test images for 8x8 training images: error %v", err)
	}
	c = tinyConfig(t)
	c.TrainData = &datasets.Dataset{Name: "short", Images: tensor.New(tensor.Float32, 4, 1, 8, 8), N: 5, C: 1, H: 8, W: 8}
	if _, err := NewTrainer(c); err == nil {
		t.Error("a dataset whose N disagrees with its tensor: no error")
	}
	c = tinyConfig(t)
	c.Optimizer = "sgd"
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "optimizer") {
		t.Errorf("optimizer sgd: error %v", err)
	}
}

// The trainer's files are what the runtime expects: Export writes two files that
// models/vae loads, whose config carries the training results.
func TestExportFiles(t *testing.T) {
	c := tinyConfig(t)
	c.MaxSteps = 3
	c.Out = t.TempDir()
	if err := Train(c); err != nil {
		t.Fatal(err)
	}
	enc, err := vae.LoadFile(filepath.Join(c.Out, vae.EncoderFile))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vae.LoadFile(filepath.Join(c.Out, vae.DecoderFile))
	if err != nil {
		t.Fatal(err)
	}
	if enc.Config.Dataset != "toy" || !strings.Contains(string(dec.Config.Train), `"step":3`) {
		t.Errorf("exported config: dataset %q, train %s", enc.Config.Dataset, dec.Config.Train)
	}
}

// StepFLOPs against a hand count for DefaultConfig at batch 1: forward multiply-adds
// conv1 14·14·32·1·9 = 56,448; conv2 7·7·64·32·9 = 903,168; dense 3136·16 + 2·16·2 = 50,240;
// decoder dense 2·3136 = 6,272; convT1 7·7·64·64·9 = 1,806,336; convT2 14·14·64·32·9 =
// 3,612,672; out 28·28·32·1·9 = 225,792: 6,660,928 MACs, ×2 FLOPs, ×3 with the backward pass.
func TestStepFLOPs(t *testing.T) {
	if got, want := StepFLOPs(vae.DefaultConfig(), 1), 3*2*6660928.0; got != want {
		t.Errorf("StepFLOPs = %g, want %g", got, want)
	}
}

// Without --hidden the encoder's dense layer follows the latent size: keras-io's 16 for the
// book's 2-D latent, 256 for larger latents; a given size wins.
func TestAutoHidden(t *testing.T) {
	for _, tc := range []struct{ latent, hidden, want int }{{2, 0, 16}, {1, 0, 16}, {20, 0, 256}, {20, 32, 32}} {
		c := tinyConfig(t)
		c.LatentDim, c.Hidden = tc.latent, tc.hidden
		tr, err := NewTrainer(c)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := tr.Model(); m.Hidden != tc.want {
			t.Errorf("latent %d, hidden %d: the model's dense layer has %d units, want %d", tc.latent, tc.hidden, m.Hidden, tc.want)
		}
		tr.Close()
	}
}
