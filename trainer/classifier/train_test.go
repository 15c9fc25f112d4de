package classifier

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/classifier"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/loop"
)

// toyData returns n 8x8 images of one of three shapes (class 0: a bright row, 1: a bright
// column, 2: a bright 2x2 square) at random places on a noisy dark background.
func toyData(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 4))
	t := tensor.New(tensor.Float32, n, 1, 8, 8)
	x := t.F32()
	labels := make([]uint8, n)
	for i := range n {
		k := rng.IntN(3)
		labels[i] = uint8(k)
		r, c := rng.IntN(7), rng.IntN(7)
		for y := range 8 {
			for xx := range 8 {
				on := (k == 0 && y == r) || (k == 1 && xx == c) || (k == 2 && y >= r && y < r+2 && xx >= c && xx < c+2)
				v := 0.2 * rng.Float64()
				if on {
					v = 0.8 + 0.2*rng.Float64()
				}
				x[i*64+y*8+xx] = float32(v)
			}
		}
	}
	return &datasets.Dataset{Name: "toy", Images: t, Labels: labels, Classes: []string{"row", "column", "square"}, N: n, C: 1, H: 8, W: 8}
}

func tinyConfig(t *testing.T) Config {
	m := classifier.Tiny()
	c := Defaults()
	c.Dataset, c.Filters, c.Kernel, c.Hidden, c.Dropout = "toy", []int{4, 8}, m.Kernel, 16, 0.25
	c.Batch, c.Epochs, c.LR = 16, 4, 1e-2
	c.TrainData, c.TestData = toyData(160, 1), toyData(60, 2)
	c.CheckpointDir = filepath.Join(t.TempDir(), "ckpt")
	c.Progress = loop.ProgressOff
	c.Log = &bytes.Buffer{}
	return c
}

func TestTrainingLearns(t *testing.T) {
	c := tinyConfig(t)
	c.Epochs, c.TrainData = 12, toyData(480, 1)
	c.Out = filepath.Join(t.TempDir(), "clf.onnx")
	if err := Train(c); err != nil {
		t.Fatal(err)
	}
	ms, err := loop.ReadJSONL(filepath.Join(c.CheckpointDir, MetricsName), func(m Metrics) int { return m.Epoch })
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	t.Logf("%+v", last)
	// three shapes an 8x8 conv net tells apart easily; chance is 1/3
	if last.TestAcc < 0.9 || last.TestLoss > ms[0].TestLoss {
		t.Errorf("after %d epochs: test accuracy %.3f, loss %.3f (epoch 1: %.3f), want >= 0.9 and falling", last.Epoch, last.TestAcc, last.TestLoss, ms[0].TestLoss)
	}
	m, err := onnx.DecodeFile(c.Out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := classifier.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Config.Classes, []string{"row", "column", "square"}) {
		t.Errorf("classes %v", back.Config.Classes)
	}
}

// A run stopped mid-epoch and resumed ends with the parameters of an uninterrupted run.
func TestResumeExact(t *testing.T) {
	full := tinyConfig(t)
	full.Epochs = 2
	if err := Train(full); err != nil {
		t.Fatal(err)
	}
	part := tinyConfig(t)
	part.Epochs, part.MaxSteps = 2, 13 // 10 batches per epoch: stops in the second
	if err := Train(part); err != nil {
		t.Fatal(err)
	}
	part.MaxSteps, part.Resume = 0, true
	if err := Train(part); err != nil {
		t.Fatal(err)
	}
	var sa, sb State
	a, err := loop.ReadCheckpoint(filepath.Join(full.CheckpointDir, loop.CheckpointName(20)), &sa)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loop.ReadCheckpoint(filepath.Join(part.CheckpointDir, loop.CheckpointName(20)), &sb)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("array %d differs after resume", i)
		}
	}
	if sa.TestAcc != sb.TestAcc {
		t.Errorf("test accuracy %v vs %v", sa.TestAcc, sb.TestAcc)
	}
}

func TestBadInput(t *testing.T) {
	oneClass := toyData(40, 3)
	oneClass.Classes = oneClass.Classes[:1]
	badLabel := toyData(40, 3)
	badLabel.Labels[4] = 7
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Epochs = 0 }, "epochs"},
		{func(c *Config) { c.LR = 0 }, "learning rate"},
		{func(c *Config) { c.Optimizer = "sgd" }, "optimizer"},
		{func(c *Config) { c.TrainData = oneClass }, "label"},
		{func(c *Config) { c.TrainData = badLabel }, "image 4 has label 7"},
		{func(c *Config) { c.Batch = 1000 }, "fewer than one batch"},
		{func(c *Config) { c.Resume = true }, "no checkpoint"},
		{func(c *Config) { c.Filters = []int{0} }, "filters"},
	} {
		c := tinyConfig(t)
		tc.edit(&c)
		if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
}

func TestStepFLOPs(t *testing.T) {
	// DefaultConfig per image: 196·32·1·25 + 49·64·32·25 + 3136·128 + 128·10 =
	// 156800 + 2508800 + 401408 + 1280 = 3068288 multiply-adds.
	c := classifier.DefaultConfig()
	if got := MACs(c); got != 3068288 {
		t.Errorf("MACs = %v, want 3068288", got)
	}
	if got, want := StepFLOPs(c, 128), 3*2*3068288.0*128; got != want {
		t.Errorf("StepFLOPs = %v, want %v", got, want)
	}
}
