package vae

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/nn"
)

// Config is a training run's configuration (the flags of `gendl-train vae`).
type Config struct {
	// Dataset is "mnist", "fashion-mnist" or a folder of images (package datasets).
	Dataset string `json:"dataset"`
	// DataDir overrides where the MNIST / Fashion-MNIST files are read from.
	DataDir string `json:"-"`
	// ImageSize and Channels shape a folder's images (0: 28 and 1); ignored for MNIST.
	ImageSize int `json:"image_size,omitempty"`
	Channels  int `json:"channels,omitempty"`
	// Limit and TestLimit keep at most that many training / test images (0: all).
	Limit     int `json:"limit,omitempty"`
	TestLimit int `json:"test_limit,omitempty"`

	LatentDim int   `json:"latent_dim"`
	Filters   []int `json:"filters"`
	// Hidden is the encoder's dense layer (0: AutoHidden(LatentDim)).
	Hidden    int     `json:"hidden"`
	Kernel    int     `json:"kernel"`
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	Optimizer string  `json:"optimizer"`
	// Clip is the global gradient-norm limit (0: off).
	Clip float64 `json:"clip"`
	Seed uint64  `json:"seed"`

	// Out is the directory receiving encoder.onnx and decoder.onnx ("": no export).
	Out string `json:"-"`
	// CheckpointDir receives checkpoints, metrics.jsonl, loss.png and the sample PNGs; ""
	// means Out + "/train" (or "vae.train" without Out).
	CheckpointDir string `json:"-"`
	// Resume continues from the latest checkpoint with its stored configuration; only
	// Epochs, Out, CheckpointDir, the data location and the reporting fields come from here.
	Resume          bool  `json:"-"`
	CheckpointEvery int   `json:"-"` // also checkpoint every N steps (0: per epoch only)
	KeepLast        int   `json:"-"` // step checkpoints kept besides best.ckpt
	MaxSteps        int64 `json:"-"` // stop after N optimizer steps in total (0: no limit)
	// Log receives progress lines (nil: os.Stderr); Progress is a loop.Progress* mode;
	// ProgressEvery the interval of plain lines.
	Log           io.Writer     `json:"-"`
	Progress      string        `json:"-"`
	ProgressEvery time.Duration `json:"-"`
	// Plot redraws loss.png and Samples writes samples-epoch-NNN.png after every epoch.
	Plot    bool `json:"-"`
	Samples bool `json:"-"`

	// TrainData and TestData, when set, are used instead of loading Dataset (tests).
	TrainData *datasets.Dataset `json:"-"`
	TestData  *datasets.Dataset `json:"-"`
}

// AutoHidden is the encoder's dense layer for a latent size when none is given: keras-io's 16
// for a latent of 2 or less (the book's figure), 256 above, where 16 units would squeeze a
// larger latent (latent 20 on MNIST: test negative ELBO 199.4 after one epoch with 16 units,
// 123.6 with 256).
func AutoHidden(latent int) int {
	if latent <= 2 {
		return 16
	}
	return 256
}

// Defaults returns keras-io's settings: latent 2, filters 32 and 64, dense 16, 3x3 kernels,
// Adam at 1e-3, batch 128, on MNIST.
func Defaults() Config {
	m := vae.DefaultConfig()
	return Config{
		Dataset: datasets.MNIST, LatentDim: m.LatentDim, Filters: m.Filters, Hidden: m.Hidden, Kernel: m.Kernel,
		Epochs: 10, Batch: 128, LR: 1e-3, Optimizer: loop.Adam, Seed: 1, KeepLast: 2, Plot: true, Samples: true,
	}
}

func (c *Config) validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("vae: epochs = %d, want >= 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("vae: batch = %d, want >= 1", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("vae: learning rate = %v, want > 0", c.LR)
	case !(c.Clip >= 0):
		return fmt.Errorf("vae: clip = %v, want >= 0", c.Clip)
	case c.Optimizer != loop.Adam && c.Optimizer != loop.RMSprop:
		return fmt.Errorf("vae: optimizer %q, want %q or %q", c.Optimizer, loop.Adam, loop.RMSprop)
	case c.Limit < 0 || c.TestLimit < 0:
		return fmt.Errorf("vae: negative image limit")
	}
	return loop.CheckProgressMode(c.Progress)
}

// Metrics is one line of metrics.jsonl, written after every epoch. Losses are nats per image.
type Metrics struct {
	Epoch     int     `json:"epoch"`
	Step      int64   `json:"step"`
	TrainLoss float64 `json:"train_loss"`
	// TestNegELBO is the test set's negative ELBO (BCE + KL, one ε sample per image from a
	// fixed seed), TestBCE and TestKL its two terms.
	TestNegELBO float64 `json:"test_neg_elbo"`
	TestBCE     float64 `json:"test_bce"`
	TestKL      float64 `json:"test_kl"`
	Seconds     float64 `json:"seconds"`
	// CPUSeconds is the process's CPU time during the epoch's training steps.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	GFLOPs     float64 `json:"train_gflops_per_s"`
}

// State is a checkpoint's header: everything needed to rebuild the model, the data order and
// the optimizer and to continue at the exact batch where the run stopped. The batch order of
// an epoch and the noise of a step are drawn from (Seed, Epoch) and (Seed, Step) alone, so no
// RNG state is stored.
type State struct {
	Config Config     `json:"config"`
	Model  vae.Config `json:"model"`
	Epoch  int        `json:"epoch"` // from 0
	Batch  int        `json:"batch"` // batches of Epoch done
	Step   int64      `json:"step"`
	// BestTest is the best test negative ELBO so far, at epoch BestEpoch.
	BestTest    *float64 `json:"best_test_neg_elbo,omitempty"`
	BestEpoch   int      `json:"best_epoch"`
	EpochLoss   float64  `json:"epoch_loss_sum"`
	EpochImages int64    `json:"epoch_images"`
	Optimizer   string   `json:"optimizer"`
	LR          float64  `json:"lr"`
	OptT        int64    `json:"optimizer_t"`
	NParams     int      `json:"params"`
}

// Trainer holds a run's model, data and optimizer state.
type Trainer struct {
	cfg         Config
	model       vae.Config
	train, test *datasets.Dataset
	params      *vae.Params
	slices      [][]float32
	opt         *loop.Optimizer
	net, eval   *Net
	grads       [][]float32
	st          State
	log         io.Writer
	dir         string
	step        func(loop.Progress)

	xb, eps []float32 // batch buffers
}

// NewTrainer prepares a run: it loads the data and either initialises the model from
// cfg.Seed or, with cfg.Resume, restores the latest checkpoint.
func NewTrainer(cfg Config) (*Trainer, error) {
	nn.UseGendlBLAS() // gendl's SGEMM for Gorgonia's matrix products (before any graph runs)
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	dir := cfg.CheckpointDir
	if dir == "" {
		dir = "vae.train"
		if cfg.Out != "" {
			dir = filepath.Join(cfg.Out, "train")
		}
	}
	t := &Trainer{log: cfg.Log, dir: dir}
	var arrays [][]float32
	if cfg.Resume {
		var st State
		path, arr, err := loop.ResumeLatest("vae", dir, &st)
		if err != nil {
			return nil, err
		}
		arrays = arr
		run := cfg
		cfg = st.Config
		cfg.Out, cfg.CheckpointDir, cfg.Resume, cfg.DataDir = run.Out, run.CheckpointDir, true, run.DataDir
		cfg.Epochs, cfg.MaxSteps, cfg.Log, cfg.CheckpointEvery, cfg.KeepLast = run.Epochs, run.MaxSteps, run.Log, run.CheckpointEvery, run.KeepLast
		cfg.Progress, cfg.ProgressEvery, cfg.Plot, cfg.Samples = run.Progress, run.ProgressEvery, run.Plot, run.Samples
		cfg.TrainData, cfg.TestData = run.TrainData, run.TestData
		t.st = st
		fmt.Fprintf(t.log, "resuming from %s: epoch %d, batch %d, step %d\n", path, st.Epoch+1, st.Batch, st.Step)
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = AutoHidden(cfg.LatentDim)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t.cfg = cfg
	if err := t.loadData(); err != nil {
		return nil, err
	}
	t.model = vae.Config{
		LatentDim: cfg.LatentDim, Filters: cfg.Filters, Kernel: cfg.Kernel, Hidden: cfg.Hidden,
		ImageShape: [3]int{t.train.C, t.train.H, t.train.W}, Dataset: t.train.Name,
	}
	if err := t.model.Validate(); err != nil {
		return nil, fmt.Errorf("%w (dataset %s)", err, t.train.Name)
	}
	if cfg.Resume && t.st.Model.ImageShape != t.model.ImageShape {
		return nil, fmt.Errorf("vae: --resume: the data's images are %v, the checkpoint's %v", t.model.ImageShape, t.st.Model.ImageShape)
	}
	if t.train.N < cfg.Batch {
		return nil, fmt.Errorf("vae: %d training images, fewer than one batch of %d", t.train.N, cfg.Batch)
	}
	var err error
	if t.params, err = InitParams(t.model, rand.New(rand.NewPCG(cfg.Seed, 0x5eed))); err != nil {
		return nil, err
	}
	var sizes []int
	for _, p := range t.params.List() {
		t.slices = append(t.slices, p.F32())
		sizes = append(sizes, p.Len())
	}
	if t.opt, err = loop.NewOptimizer(cfg.Optimizer, cfg.LR, sizes); err != nil {
		return nil, err
	}
	if cfg.Resume {
		if err := t.restore(arrays); err != nil {
			return nil, err
		}
	}
	ps := DenseParams(t.model, t.params)
	if t.net, err = NewNet(t.model, ps, Options{Batch: cfg.Batch, Gradients: true}); err != nil {
		return nil, err
	}
	if t.eval, err = NewNet(t.model, ps, Options{Batch: cfg.Batch}); err != nil {
		return nil, err
	}
	t.grads = make([][]float32, len(ps))
	t.xb = make([]float32, cfg.Batch*t.imageLen())
	t.eps = make([]float32, cfg.Batch*cfg.LatentDim)
	return t, nil
}

func (t *Trainer) imageLen() int { return t.train.C * t.train.H * t.train.W }

func (t *Trainer) loadData() error {
	c := t.cfg
	if c.TrainData != nil {
		t.train, t.test = c.TrainData, c.TestData
	} else {
		opt := datasets.Options{MNISTDir: c.DataDir, Height: c.ImageSize, Width: c.ImageSize, Channels: c.Channels, Limit: c.Limit}
		var err error
		if t.train, t.test, err = datasets.LoadTrainTest(c.Dataset, opt, c.TestLimit); err != nil {
			return err
		}
	}
	for _, d := range []*datasets.Dataset{t.train, t.test} {
		if d == nil {
			continue
		}
		if err := d.Check(false, nil); err != nil {
			return fmt.Errorf("vae: %w", err)
		}
	}
	if t.test != nil && (t.test.C != t.train.C || t.test.H != t.train.H || t.test.W != t.train.W) {
		return fmt.Errorf("vae: test images are %dx%dx%d, training images %dx%dx%d", t.test.C, t.test.H, t.test.W, t.train.C, t.train.H, t.train.W)
	}
	return nil
}

func (t *Trainer) restore(arrays [][]float32) error {
	n := len(t.slices)
	if len(arrays) != n+len(t.opt.Slots) || t.st.NParams != n {
		return fmt.Errorf("vae: checkpoint holds %d arrays, the model and optimizer need %d", len(arrays), n+len(t.opt.Slots))
	}
	for i, s := range t.slices {
		if len(arrays[i]) != len(s) {
			return fmt.Errorf("vae: checkpoint parameter %s has %d values, want %d", t.model.ParamShapes()[i].Name, len(arrays[i]), len(s))
		}
		copy(s, arrays[i])
	}
	return t.opt.Restore(arrays[n:], t.st.OptT)
}

// Model returns the model configuration and the (live) parameters.
func (t *Trainer) Model() (vae.Config, *vae.Params) { return t.model, t.params }

// State returns a copy of the run state.
func (t *Trainer) State() State { return t.st }

// Dir returns the checkpoint directory.
func (t *Trainer) Dir() string { return t.dir }

// BatchesPerEpoch is the number of full batches of the training set (the remainder of a
// shuffled epoch is left out; it differs every epoch).
func (t *Trainer) BatchesPerEpoch() int { return t.train.N / t.cfg.Batch }

// Streams of the PCG generators (the first word is the seed).
const (
	orderStream = 0x6f72646572 // "order" + epoch
	noiseStream = 0x6e6f697365 // "noise" + step
	testStream  = 0x74657374   // "test" + batch
)

func (t *Trainer) order(epoch int) []int {
	return rand.New(rand.NewPCG(t.cfg.Seed, orderStream+uint64(epoch)<<20)).Perm(t.train.N)
}

func normals(dst []float32, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}

// trainStep runs batch b of an epoch's order and updates the parameters.
func (t *Trainer) trainStep(order []int, b int) (float64, error) {
	B, n := t.cfg.Batch, t.imageLen()
	src := t.train.Images.F32()
	for k, i := range order[b*B : (b+1)*B] {
		copy(t.xb[k*n:(k+1)*n], src[i*n:(i+1)*n])
	}
	normals(t.eps, rand.New(rand.NewPCG(t.cfg.Seed^noiseStream, uint64(t.st.Step))))
	r, err := t.net.Run(t.xb, t.eps)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		return r.Loss, fmt.Errorf("vae: step %d: the loss is %v: training diverged; the last checkpoint in %s holds the parameters before (try a lower --lr or --clip)", t.st.Step+1, r.Loss, t.dir)
	}
	for k := range t.grads {
		g, err := t.net.GradData(k)
		if err != nil {
			return 0, err
		}
		t.grads[k] = g.([]float32)
	}
	scale, _ := loop.ClipScale(t.grads, t.cfg.Clip)
	t.opt.Step(t.slices, t.grads, scale)
	t.st.Step++
	return r.Loss, nil
}

// Evaluation is the negative ELBO of a set of images, nats per image.
type Evaluation struct {
	NegELBO, BCE, KL float64
	Images           int
}

// Evaluate returns the negative ELBO of d (one ε sample per image, drawn from the run's seed
// and the batch index, the same at every call).
func (t *Trainer) Evaluate(d *datasets.Dataset) (Evaluation, error) {
	B, n := t.cfg.Batch, t.imageLen()
	src := t.eps
	var e Evaluation
	for b := 0; b*B < d.N; b++ {
		cnt := min(B, d.N-b*B)
		copy(t.xb, d.Images.F32()[b*B*n:(b*B+cnt)*n])
		clear(t.xb[cnt*n:])
		normals(src, rand.New(rand.NewPCG(t.cfg.Seed^testStream, uint64(b))))
		if _, err := t.eval.Run(t.xb, src); err != nil {
			return e, err
		}
		zm, zl, lg, err := t.eval.Outputs()
		if err != nil {
			return e, err
		}
		bce, kl := perImageLoss(t.model, t.xb, zm.([]float32), zl.([]float32), lg.([]float32), cnt)
		for i := range cnt {
			e.BCE += bce[i]
			e.KL += kl[i]
		}
		e.Images += cnt
	}
	e.BCE /= float64(e.Images)
	e.KL /= float64(e.Images)
	e.NegELBO = e.BCE + e.KL
	return e, nil
}

// Save writes a checkpoint of the current state (and best.ckpt when best is set) and prunes
// old ones.
func (t *Trainer) Save(best bool) error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	st := t.st
	st.Config, st.Model = t.cfg, t.model
	st.Optimizer, st.LR, st.OptT, st.NParams = t.opt.Name, t.opt.LR, t.opt.T, len(t.slices)
	arrays := append(append([][]float32(nil), t.slices...), t.opt.Slots...)
	b, err := loop.EncodeCheckpoint(&st, arrays)
	if err != nil {
		return err
	}
	names := []string{loop.CheckpointName(st.Step)}
	if best {
		names = append(names, loop.BestName)
	}
	for _, name := range names {
		if err := writeFile(filepath.Join(t.dir, name), b); err != nil {
			return err
		}
	}
	return loop.PruneCheckpoints(t.dir, t.cfg.KeepLast)
}

// Run trains until cfg.Epochs epochs or cfg.MaxSteps steps are done and returns the loss of
// every step it ran.
func (t *Trainer) Run() ([]float64, error) {
	cfg := t.cfg
	nb := t.BatchesPerEpoch()
	flops := StepFLOPs(t.model, cfg.Batch)
	var losses []float64
	for t.st.Epoch < cfg.Epochs {
		order := t.order(t.st.Epoch)
		start, cpu0 := time.Now(), loop.CPUTime()
		done0 := t.st.Batch
		for t.st.Batch < nb {
			if cfg.MaxSteps > 0 && t.st.Step >= cfg.MaxSteps {
				return losses, t.Save(false)
			}
			loss, err := t.trainStep(order, t.st.Batch)
			if err != nil {
				return losses, err
			}
			losses = append(losses, loss)
			t.st.EpochLoss += loss * float64(cfg.Batch)
			t.st.EpochImages += int64(cfg.Batch)
			t.st.Batch++
			if cfg.CheckpointEvery > 0 && t.st.Step%int64(cfg.CheckpointEvery) == 0 {
				if err := t.Save(false); err != nil {
					return losses, err
				}
			}
			if t.step != nil {
				per := time.Since(start) / time.Duration(t.st.Batch-done0)
				t.step(loop.Progress{
					Epoch: t.st.Epoch + 1, Epochs: cfg.Epochs, Batch: t.st.Batch, Batches: nb, Step: t.st.Step,
					Loss: loss, EpochLoss: t.st.EpochLoss / float64(t.st.EpochImages), Unit: "nats/image", PerStep: per,
					ETA:    time.Duration(nb-t.st.Batch)*per + time.Duration((cfg.Epochs-t.st.Epoch-1)*nb)*per,
					GFLOPs: flops / per.Seconds() / 1e9,
				})
			}
		}
		m := Metrics{Epoch: t.st.Epoch + 1, Step: t.st.Step, TrainLoss: t.st.EpochLoss / float64(t.st.EpochImages)}
		m.Seconds, m.CPUSeconds = time.Since(start).Seconds(), (loop.CPUTime() - cpu0).Seconds()
		if steps := t.st.Batch - done0; steps > 0 && m.Seconds > 0 {
			m.GFLOPs = flops * float64(steps) / m.Seconds / 1e9
		}
		score := m.TrainLoss
		line := fmt.Sprintf("epoch %d: train %.2f nats/image", m.Epoch, m.TrainLoss)
		if t.test != nil {
			e, err := t.Evaluate(t.test)
			if err != nil {
				return losses, err
			}
			m.TestNegELBO, m.TestBCE, m.TestKL = e.NegELBO, e.BCE, e.KL
			score = e.NegELBO
			line += fmt.Sprintf(", test negative ELBO %.2f nats/image (BCE %.2f + KL %.2f)", e.NegELBO, e.BCE, e.KL)
		}
		fmt.Fprintf(t.log, "%s; %.1f s (%.1f s CPU), %.1f GFLOP/s\n", line, m.Seconds, m.CPUSeconds, m.GFLOPs)
		if err := os.MkdirAll(t.dir, 0o755); err != nil {
			return losses, fmt.Errorf("vae: %w", err)
		}
		if err := loop.AppendJSONL(filepath.Join(t.dir, MetricsName), m); err != nil {
			return losses, err
		}
		best := t.st.BestTest == nil || score < *t.st.BestTest
		if best {
			t.st.BestTest, t.st.BestEpoch = &score, m.Epoch
		}
		t.st.Epoch++
		t.st.Batch, t.st.EpochLoss, t.st.EpochImages = 0, 0, 0
		if err := t.Save(best); err != nil {
			return losses, err
		}
		if cfg.Plot {
			if err := t.plot(); err != nil {
				return losses, err
			}
		}
		if cfg.Samples {
			if err := t.samples(m.Epoch); err != nil {
				return losses, err
			}
		}
	}
	return losses, nil
}

// Files in the checkpoint directory besides checkpoints.
const (
	MetricsName = "metrics.jsonl"
	PlotName    = "loss.png"
)

// ReadMetrics reads a metrics.jsonl file; a resumed run's repeated epochs keep their last line.
func ReadMetrics(path string) ([]Metrics, error) {
	return loop.ReadJSONL(path, func(m Metrics) int { return m.Epoch })
}

func (t *Trainer) plot() error {
	ms, err := ReadMetrics(filepath.Join(t.dir, MetricsName))
	if err != nil {
		return err
	}
	var x, tr, te []float64
	for _, m := range ms {
		x = append(x, float64(m.Epoch))
		tr = append(tr, m.TrainLoss)
		te = append(te, m.TestNegELBO)
	}
	series := []loop.Series{{Name: "train loss (negative ELBO)", X: x, Y: tr}}
	if t.test != nil {
		series = append(series, loop.Series{Name: "test negative ELBO", X: x, Y: te})
	}
	png, err := loop.PlotPNG(fmt.Sprintf("VAE, latent %d, on %s", t.model.LatentDim, t.model.Dataset), "epoch", "nats per image", series)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(t.dir, PlotName), png)
}

// Export writes encoder.onnx and decoder.onnx to dir (atomically), with the training
// configuration and results in the config's "train" field.
func (t *Trainer) Export(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	model, err := t.exportConfig()
	if err != nil {
		return err
	}
	return vae.ExportFiles(filepath.Join(dir, vae.EncoderFile), filepath.Join(dir, vae.DecoderFile), model, t.params)
}

func (t *Trainer) exportConfig() (vae.Config, error) {
	model := t.model
	info := struct {
		Config
		Step      int64    `json:"step"`
		Epochs    int      `json:"epochs_done"`
		BestTest  *float64 `json:"best_test_neg_elbo,omitempty"`
		BestEpoch int      `json:"best_epoch,omitempty"`
	}{t.cfg, t.st.Step, t.st.Epoch, t.st.BestTest, t.st.BestEpoch}
	raw, err := json.Marshal(info)
	if err != nil {
		return model, fmt.Errorf("vae: %w", err)
	}
	model.Train = raw
	return model, nil
}

// Close releases the graphs.
func (t *Trainer) Close() error {
	t.net.Close()
	return t.eval.Close()
}

// Train runs `gendl-train vae`: trains as cfg says, checkpointing, and exports cfg.Out.
func Train(cfg Config) error {
	t, err := NewTrainer(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	t.log, t.step = loop.Reporter(t.cfg.Progress, t.log, t.cfg.ProgressEvery)
	testN := 0
	if t.test != nil {
		testN = t.test.N
	}
	fmt.Fprintf(t.log, "dataset %s: %d training images (%d batches of %d per epoch), %d test images, %dx%dx%d; %d parameters; %.3g GFLOP per step; checkpoints in %s\n",
		t.train.Name, t.train.N, t.BatchesPerEpoch(), t.cfg.Batch, testN, t.train.C, t.train.H, t.train.W,
		paramCount(t.model), StepFLOPs(t.model, t.cfg.Batch)/1e9, t.dir)
	_, runErr := t.Run()
	if runErr != nil {
		return runErr
	}
	if t.cfg.Out != "" {
		if err := t.Export(t.cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(t.log, "wrote %s and %s\n", filepath.Join(t.cfg.Out, vae.EncoderFile), filepath.Join(t.cfg.Out, vae.DecoderFile))
	}
	return nil
}

func paramCount(c vae.Config) int {
	n := 0
	for _, s := range c.ParamShapes() {
		k := 1
		for _, d := range s.Shape {
			k *= d
		}
		n += k
	}
	return n
}

// ErrNoTest is returned by helpers that need a test set when there is none.
var ErrNoTest = errors.New("vae: no test set")
