package gan

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/trainer/layers"
	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/nn"
)

// Config is a training run's configuration (the flags of `gendl-train gan`).
type Config struct {
	// Dataset is "mnist", "fashion-mnist" or a folder of images (package datasets).
	Dataset string `json:"dataset"`
	// DataDir overrides where the MNIST / Fashion-MNIST files are read from.
	DataDir string `json:"-"`
	// ImageSize and Channels shape a folder's images (0: 28 and 1); ignored for MNIST.
	ImageSize int `json:"image_size,omitempty"`
	Channels  int `json:"channels,omitempty"`
	// Limit keeps at most that many training images (0: all).
	Limit int `json:"limit,omitempty"`

	LatentDim   int     `json:"latent_dim"`
	GenBase     int     `json:"gen_base"`
	GenFilters  []int   `json:"gen_filters"`
	DiscFilters []int   `json:"disc_filters"`
	Kernel      int     `json:"kernel"`
	OutKernel   int     `json:"out_kernel"`
	Alpha       float64 `json:"leaky_alpha"`
	Dropout     float64 `json:"dropout"`
	// GenBatchNorm adds batch normalisation before each of the generator's LeakyReLUs (the
	// DCGAN paper's generator; not the book's): batch statistics in training, population
	// statistics folded into the exported weights (see NetOptions, foldBN).
	GenBatchNorm bool `json:"gen_batchnorm,omitempty"`

	// Steps is the number of training steps (one discriminator and one generator update each).
	Steps int64 `json:"steps"`
	// Batch is the number of real images per step (the discriminator sees as many fakes).
	Batch     int    `json:"batch"`
	Optimizer string `json:"optimizer"`
	// DLR and GLR are the discriminator's and the generator's (through the frozen
	// discriminator) learning rates; 0: the optimizer's default (RMSprop: the book's 8e-4 and
	// 4e-4; Adam: 2e-4 each, the DCGAN paper).
	DLR float64 `json:"d_lr"`
	GLR float64 `json:"g_lr"`
	// Beta1 is Adam's first-moment decay (0: 0.5, the DCGAN paper).
	Beta1 float64 `json:"beta1,omitempty"`
	// Clip clips every gradient element to [-Clip, Clip] (Keras' clipvalue; the book: 1; 0: off).
	Clip float64 `json:"clip"`
	// LabelNoise is the amplitude of the uniform noise on the discriminator's targets: a fake's
	// target is LabelNoise·u, a real's 1 - LabelNoise·u, u ~ U[0, 1) (the book: 0.05).
	LabelNoise float64 `json:"label_noise"`
	// EMA, when > 0, keeps an exponential moving average of the generator's weights with
	// this decay (warmed up as min(EMA, (1+t)/(10+t)) at generator step t) and uses the
	// average for the exported generator, the sample grids and the scores (Yazıcı et al.
	// 2019, "The Unusual Effectiveness of Averaging in GAN Training"); 0: off, the book.
	EMA float64 `json:"ema,omitempty"`
	// LRDecay is the fraction of Steps at the end over which both learning rates fall
	// linearly towards 0 (the last step uses 1/(LRDecay·Steps) of them; 0: constant rates).
	// When resuming, a nonzero LRDecay replaces the stored one (relative to the new Steps).
	LRDecay float64 `json:"lr_decay,omitempty"`
	Seed    uint64  `json:"seed"`

	// Out is the exported generator ("": no export).
	Out string `json:"-"`
	// CheckpointDir receives checkpoints, metrics.jsonl, loss.png and the sample grids; "":
	// Out without extension + ".train" (or "gan.train").
	CheckpointDir string `json:"-"`
	// Resume continues from the latest checkpoint with its stored configuration; Steps, Out,
	// CheckpointDir, the data location, the evaluation and the reporting fields come from here.
	Resume          bool `json:"-"`
	CheckpointEvery int  `json:"-"` // steps between checkpoints (0: 1000)
	KeepLast        int  `json:"-"` // step checkpoints kept
	// MaxSteps stops this process after that many steps in total (0: Steps), without export.
	MaxSteps int64 `json:"-"`
	// TimeLimit ends training after the step during which this much wall time has passed in
	// this process (0: none); that step is then treated as the last one: scored (with a
	// classifier), sampled, checkpointed, and the generator exported.
	TimeLimit time.Duration `json:"-"`
	// SampleEvery writes samples-step-NNNNNNN.png (a grid of SampleCount images from fixed
	// noise) every that many steps (0: never; the last step always writes one unless
	// SampleCount is 0).
	SampleEvery int `json:"-"`
	SampleCount int `json:"-"`
	// LogEvery is the window (steps) of a metrics.jsonl line (0: 100).
	LogEvery int `json:"-"`
	// Classifier, when set, is a classifier ONNX file (imagegen contract) used to compute the
	// classifier inception score of EvalSamples generated images every EvalEvery steps (0:
	// only at the end); the best scoring generator is written to best.onnx in CheckpointDir.
	Classifier  string `json:"-"`
	EvalEvery   int    `json:"-"`
	EvalSamples int    `json:"-"`
	// Log receives progress lines (nil: os.Stderr); Progress is a loop.Progress* mode;
	// ProgressEvery the interval of plain lines.
	Log           io.Writer     `json:"-"`
	Progress      string        `json:"-"`
	ProgressEvery time.Duration `json:"-"`
	// Plot redraws loss.png at every metrics line.
	Plot bool `json:"-"`

	// TrainData, when set, is used instead of loading Dataset (tests).
	TrainData *datasets.Dataset `json:"-"`
}

// Defaults returns the book's training settings (RMSprop: discriminator 8e-4, GAN 4e-4,
// clipvalue 1; label noise 0.05; batch 20; 10,000 steps) on MNIST with dcgan.DefaultConfig.
func Defaults() Config {
	m := dcgan.DefaultConfig()
	return Config{
		Dataset: datasets.MNIST, LatentDim: m.LatentDim, GenBase: m.GenBase, GenFilters: m.GenFilters,
		DiscFilters: m.DiscFilters, Kernel: m.Kernel, OutKernel: m.OutKernel, Alpha: m.Alpha, Dropout: m.Dropout,
		Steps: 10000, Batch: 20, Optimizer: RMSprop, Clip: 1, LabelNoise: 0.05, Seed: 1,
		KeepLast: 2, SampleEvery: 500, SampleCount: 64, LogEvery: 100, EvalSamples: 2000, Plot: true,
	}
}

// learning rates by optimizer (DLR, GLR 0)
func (c *Config) rates() (d, g, beta1 float64) {
	d, g, beta1 = c.DLR, c.GLR, c.Beta1
	if c.Optimizer == Adam {
		if d == 0 {
			d = 2e-4
		}
		if g == 0 {
			g = 2e-4
		}
		if beta1 == 0 {
			beta1 = 0.5
		}
		return
	}
	if d == 0 {
		d = 8e-4
	}
	if g == 0 {
		g = 4e-4
	}
	return
}

// LRFactor is the multiplier of both learning rates at step s (0-based): 1, falling linearly
// over the last LRDecay·Steps steps to 1/(LRDecay·Steps) at the last step.
func (c *Config) LRFactor(s int64) float64 {
	n := c.LRDecay * float64(c.Steps)
	left := float64(c.Steps - s) // steps left, this one included
	if c.LRDecay <= 0 || left >= n {
		return 1
	}
	return max(left, 1) / n
}

func (c *Config) validate() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("gan: steps = %d, want >= 1", c.Steps)
	case c.Batch < 1:
		return fmt.Errorf("gan: batch = %d, want >= 1", c.Batch)
	case !(c.DLR >= 0) || !(c.GLR >= 0) || math.IsInf(c.DLR, 0) || math.IsInf(c.GLR, 0):
		return fmt.Errorf("gan: learning rates %v and %v, want > 0 (0: the optimizer's default)", c.DLR, c.GLR)
	case !(c.Clip >= 0):
		return fmt.Errorf("gan: clip = %v, want >= 0", c.Clip)
	case !(c.LabelNoise >= 0 && c.LabelNoise <= 0.5):
		return fmt.Errorf("gan: label noise %v, want 0..0.5", c.LabelNoise)
	case c.Optimizer != Adam && c.Optimizer != RMSprop:
		return fmt.Errorf("gan: optimizer %q, want %q or %q", c.Optimizer, RMSprop, Adam)
	case c.Limit < 0 || c.SampleEvery < 0 || c.SampleCount < 0 || c.SampleCount > 1024 || c.EvalEvery < 0 || c.EvalSamples < 0 || c.CheckpointEvery < 0 || c.LogEvery < 0:
		return fmt.Errorf("gan: negative count or interval, or more than 1024 samples per grid")
	case !(c.EMA >= 0 && c.EMA < 1):
		return fmt.Errorf("gan: EMA decay %v, want 0 (off) or a value in (0, 1)", c.EMA)
	case !(c.LRDecay >= 0 && c.LRDecay <= 1):
		return fmt.Errorf("gan: learning-rate decay fraction %v, want 0 (off) .. 1 (the whole run)", c.LRDecay)
	case c.Classifier != "" && c.EvalSamples < 10:
		return fmt.Errorf("gan: %d evaluation samples, want >= 10", c.EvalSamples)
	}
	return loop.CheckProgressMode(c.Progress)
}

// Model returns the model configuration c describes for images of shape (C, H, W).
func (c *Config) Model(shape [3]int, dataset string) dcgan.Config {
	return dcgan.Config{LatentDim: c.LatentDim, ImageShape: shape, GenBase: c.GenBase, GenFilters: c.GenFilters,
		DiscFilters: c.DiscFilters, Kernel: c.Kernel, OutKernel: c.OutKernel, Alpha: c.Alpha, Dropout: c.Dropout, Dataset: dataset}
}

// Metrics is one line of metrics.jsonl: means over the LogEvery steps up to Step.
type Metrics struct {
	Step int64 `json:"step"`
	// DLoss is the discriminator's binary cross-entropy on its batch of fakes and reals (with
	// the noisy targets), GLoss the generator's through the frozen discriminator ("real"
	// targets), nats per image.
	DLoss float64 `json:"d_loss"`
	GLoss float64 `json:"g_loss"`
	// DReal and DFake are the discriminator's mean probability of "real" on the real and the
	// fake images of its step.
	DReal float64 `json:"d_real"`
	DFake float64 `json:"d_fake"`
	// Seconds and CPUSeconds are the window's wall and process CPU time per step.
	SecondsPerStep    float64 `json:"seconds_per_step"`
	CPUSecondsPerStep float64 `json:"cpu_seconds_per_step,omitempty"`
	GFLOPs            float64 `json:"gflops_per_s"`
	// IS is the classifier inception score of EvalSamples generated images, when evaluated
	// (of the averaged generator when EMA is on: the one exported).
	IS *float64 `json:"inception_score,omitempty"`
	// ISRaw is the score of the generator's current (not averaged) weights, when EMA is on.
	ISRaw *float64 `json:"inception_score_raw,omitempty"`
	// Warning says when the losses looked like a collapse.
	Warning string `json:"warning,omitempty"`
}

// State is a checkpoint's header: everything needed to rebuild the model and the optimizers
// and to continue at the exact step. The data order of an epoch and the noise, label noise
// and dropout masks of a step are drawn from (Seed, epoch) and (Seed, step) alone, so no
// RNG state is stored.
type State struct {
	Config Config       `json:"config"`
	Model  dcgan.Config `json:"model"`
	Step   int64        `json:"step"`
	DOptT  int64        `json:"d_optimizer_t"`
	GOptT  int64        `json:"g_optimizer_t"`
	// Window sums the current metrics window (so a resumed run writes the same lines).
	Window window `json:"window"`
	// EMAs of the losses, for the collapse warnings.
	DEMA float64 `json:"d_ema"`
	GEMA float64 `json:"g_ema"`
	// LastWarn is the step of the last warning.
	LastWarn int64 `json:"last_warn"`
	// BestIS is the best inception score so far, at BestStep.
	BestIS   *float64 `json:"best_is,omitempty"`
	BestStep int64    `json:"best_step,omitempty"`
	NGen     int      `json:"gen_params"`
	NDisc    int      `json:"disc_params"`
	// NEMA is the number of averaged generator arrays stored after the optimizers' (0 or NGen).
	NEMA int `json:"ema_params,omitempty"`
}

// window sums d_loss, g_loss, d_real and d_fake over Steps steps.
type window struct {
	Steps int        `json:"steps"`
	Sums  [4]float64 `json:"sums"`
}

// Trainer holds a run's model, data and optimizer state.
type Trainer struct {
	cfg         Config
	model       dcgan.Config
	train       *datasets.Dataset
	real        []float32 // training images scaled to [-1, 1]
	gen, disc   dcgan.Params
	bn          dcgan.Params // the generator's batch normalisations' gamma and beta (BNShapes), or nil
	genS, discS [][]float32  // the trained parameters: genS is gen's then bn's
	ema         dcgan.Params // the moving average of gen and bn (nil: EMA off)
	emaS        [][]float32
	emaNet      *Net // GenOnly over ema, for its batch statistics (built when needed)
	gOpt, dOpt  *loop.Optimizer
	genNet      *Net // GenOnly at Batch
	dNet        *Net // DiscStep at 2·Batch
	ganNet      *Net // GANStep at Batch
	st          State
	log         io.Writer
	dir         string
	step        func(stepProgress)
	clf         *imagegen.Model
	order       []int // the data order of epoch orderEpoch
	timedOut    bool  // Run stopped at cfg.TimeLimit
	orderEpoch  int64

	z, xb, tb, ones, dgrads, ggrads []float32
	dg, gg                          [][]float32
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
		dir = "gan.train"
		if cfg.Out != "" {
			dir = trimExt(cfg.Out) + ".train"
		}
	}
	t := &Trainer{log: cfg.Log, dir: dir}
	var arrays [][]float32
	if cfg.Resume {
		var st State
		path, arr, err := loop.ResumeLatest("gan", dir, &st)
		if err != nil {
			return nil, err
		}
		arrays = arr
		run := cfg
		cfg = st.Config
		cfg.Out, cfg.CheckpointDir, cfg.Resume, cfg.DataDir = run.Out, run.CheckpointDir, true, run.DataDir
		cfg.Steps, cfg.MaxSteps, cfg.Log, cfg.CheckpointEvery, cfg.KeepLast = run.Steps, run.MaxSteps, run.Log, run.CheckpointEvery, run.KeepLast
		cfg.TimeLimit = run.TimeLimit
		if run.LRDecay > 0 { // a run can be given a decay at its end when it is extended
			cfg.LRDecay = run.LRDecay
		}
		cfg.Progress, cfg.ProgressEvery, cfg.Plot, cfg.SampleEvery, cfg.SampleCount = run.Progress, run.ProgressEvery, run.Plot, run.SampleEvery, run.SampleCount
		cfg.Classifier, cfg.EvalEvery, cfg.EvalSamples, cfg.TrainData, cfg.LogEvery = run.Classifier, run.EvalEvery, run.EvalSamples, run.TrainData, run.LogEvery
		t.st = st
		fmt.Fprintf(t.log, "resuming from %s at step %d\n", path, st.Step)
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = 100
	}
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = 1000
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t.cfg = cfg
	if err := t.loadData(); err != nil {
		return nil, err
	}
	t.model = cfg.Model([3]int{t.train.C, t.train.H, t.train.W}, t.train.Name)
	if err := t.model.Validate(); err != nil {
		return nil, fmt.Errorf("%w (dataset %s)", err, t.train.Name)
	}
	if cfg.Resume && t.st.Model.ImageShape != t.model.ImageShape {
		return nil, fmt.Errorf("gan: --resume: the data's images are %v, the checkpoint's %v", t.model.ImageShape, t.st.Model.ImageShape)
	}
	if t.train.N < cfg.Batch {
		return nil, fmt.Errorf("gan: %d training images, fewer than one batch of %d", t.train.N, cfg.Batch)
	}
	t.gen, t.disc = InitParams(t.model, rand.New(rand.NewPCG(cfg.Seed, 0x5eed)))
	if cfg.GenBatchNorm {
		t.bn = initBN(t.model)
	}
	t.genS, t.discS = append(t.gen.Slices(), t.bn.Slices()...), t.disc.Slices()
	if cfg.EMA > 0 {
		t.ema = dcgan.NewParams(t.genShapes())
		t.emaS = t.ema.Slices()
		loop.CopySlices(t.emaS, t.genS)
	}
	dlr, glr, b1 := cfg.rates()
	var err error
	if t.gOpt, err = newOptimizer(cfg.Optimizer, glr, b1, cfg.Clip, sizes(t.genS)); err != nil {
		return nil, err
	}
	if t.dOpt, err = newOptimizer(cfg.Optimizer, dlr, b1, cfg.Clip, sizes(t.discS)); err != nil {
		return nil, err
	}
	if cfg.Resume {
		if err := t.restore(arrays); err != nil {
			return nil, err
		}
	}
	gp := DenseParams(t.genShapes(), append(append(dcgan.Params(nil), t.gen...), t.bn...))
	dp := DenseParams(t.model.DiscShapes(), t.disc)
	B, no := cfg.Batch, t.netOptions()
	if t.genNet, err = NewNetWith(t.model, GenOnly, B, gp, nil, no); err != nil {
		return nil, err
	}
	if t.dNet, err = NewNet(t.model, DiscStep, 2*B, nil, dp); err != nil {
		return nil, err
	}
	if t.ganNet, err = NewNetWith(t.model, GANStep, B, gp, dp, no); err != nil {
		return nil, err
	}
	n := t.imageLen()
	t.z = make([]float32, B*t.model.LatentDim)
	t.xb = make([]float32, 2*B*n)
	t.tb = make([]float32, 2*B)
	t.ones = make([]float32, B)
	for i := range t.ones {
		t.ones[i] = 1
	}
	t.dg, t.gg = make([][]float32, len(t.discS)), make([][]float32, len(t.genS))
	if cfg.Classifier != "" {
		if t.clf, err = imagegen.LoadFile(cfg.Classifier); err != nil {
			return nil, err
		}
		if err := t.clf.Expect(imagegen.Classifier); err != nil {
			return nil, err
		}
		if i := t.clf.Info; i.C != t.train.C || i.H != t.train.H || i.W != t.train.W {
			return nil, fmt.Errorf("gan: --classifier %s takes %s images, the data's are %d,%d,%d", cfg.Classifier, i.ImageShape(), t.train.C, t.train.H, t.train.W)
		}
	}
	return t, nil
}

// genShapes lists the trained generator parameters: GenShapes, then BNShapes with batch
// normalisation.
func (t *Trainer) genShapes() []dcgan.ParamShape {
	s := t.model.GenShapes()
	if t.cfg.GenBatchNorm {
		s = append(s, BNShapes(t.model)...)
	}
	return s
}

func (t *Trainer) netOptions() NetOptions { return NetOptions{GenBatchNorm: t.cfg.GenBatchNorm} }

func sizes(s [][]float32) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = len(v)
	}
	return out
}

func trimExt(p string) string {
	if e := filepath.Ext(p); e != "" {
		return p[:len(p)-len(e)]
	}
	return p
}

// InitParams returns the generator's and the discriminator's parameters initialised as Keras
// initialises its layers (weights Glorot-uniform with layers.Fans in ONNX layout, biases
// zero), drawn from rng: the generator's first, in GenShapes then DiscShapes order.
func InitParams(c dcgan.Config, rng *rand.Rand) (gen, disc dcgan.Params) {
	init := func(shapes []dcgan.ParamShape) dcgan.Params {
		p := dcgan.NewParams(shapes)
		for i, s := range shapes {
			if s.Kind != dcgan.KindBias {
				in, out := layers.Fans(s.Shape)
				layers.GlorotUniform(p[i].F32(), in, out, rng)
			}
		}
		return p
	}
	gen = init(c.GenShapes())
	return gen, init(c.DiscShapes())
}

func (t *Trainer) imageLen() int { return t.train.C * t.train.H * t.train.W }

func (t *Trainer) loadData() error {
	c := t.cfg
	if c.TrainData != nil {
		t.train = c.TrainData
	} else {
		opt := datasets.Options{MNISTDir: c.DataDir, Height: c.ImageSize, Width: c.ImageSize, Channels: c.Channels, Limit: c.Limit}
		var err error
		if t.train, err = datasets.Load(c.Dataset, datasets.Train, opt); err != nil {
			return err
		}
	}
	d := t.train
	if err := d.Check(false, nil); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	src := d.Images.F32()
	t.real = make([]float32, len(src))
	for i, v := range src {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("gan: dataset %s: pixel %d of image %d is %v, want a value in [0, 1]", d.Name, i%(d.C*d.H*d.W), i/(d.C*d.H*d.W), v)
		}
		t.real[i] = 2*v - 1 // the generator's range, [-1, 1]
	}
	return nil
}

func (t *Trainer) restore(arrays [][]float32) error {
	ng, nd := len(t.genS), len(t.discS)
	want := ng + nd + len(t.gOpt.Slots) + len(t.dOpt.Slots) + len(t.emaS)
	if len(arrays) != want || t.st.NGen != ng || t.st.NDisc != nd || t.st.NEMA != len(t.emaS) {
		return fmt.Errorf("gan: checkpoint holds %d arrays, the model and optimizers need %d", len(arrays), want)
	}
	names := append(t.genShapes(), t.model.DiscShapes()...)
	for i, s := range append(append([][]float32(nil), t.genS...), t.discS...) {
		if len(arrays[i]) != len(s) {
			return fmt.Errorf("gan: checkpoint parameter %s has %d values, want %d", names[i].Name, len(arrays[i]), len(s))
		}
		copy(s, arrays[i])
	}
	k := ng + nd
	if err := t.gOpt.Restore(arrays[k:k+len(t.gOpt.Slots)], t.st.GOptT); err != nil {
		return err
	}
	k += len(t.gOpt.Slots)
	if err := t.dOpt.Restore(arrays[k:k+len(t.dOpt.Slots)], t.st.DOptT); err != nil {
		return err
	}
	k += len(t.dOpt.Slots)
	for i, s := range t.emaS {
		if len(arrays[k+i]) != len(s) {
			return fmt.Errorf("gan: checkpoint's averaged parameter %s has %d values, want %d", names[i].Name, len(arrays[k+i]), len(s))
		}
		copy(s, arrays[k+i])
	}
	return nil
}

// Params returns the model configuration and the (live) parameters.
func (t *Trainer) Params() (dcgan.Config, dcgan.Params, dcgan.Params) { return t.model, t.gen, t.disc }

// Generator returns the parameters of the generator that is exported, sampled and scored
// (GenShapes order): see GeneratorParams.
func (t *Trainer) Generator() (dcgan.Params, error) { return t.GeneratorParams(true) }

// statsSamples is the number of latent points whose batch statistics give the population
// statistics folded into an exported generator with batch normalisation.
const statsSamples = 2048

// GeneratorParams returns the generator's parameters in GenShapes order: the moving average
// when EMA is on and averaged is set, else the live weights; with batch normalisation, folded
// in at the population statistics of those weights over statsSamples latent points drawn from
// a fixed stream (so the same weights always export the same file).
func (t *Trainer) GeneratorParams(averaged bool) (dcgan.Params, error) {
	all := append(append(dcgan.Params(nil), t.gen...), t.bn...)
	net := t.genNet
	if averaged && t.ema != nil {
		all = t.ema
		if t.bn != nil && t.emaNet == nil {
			var err error
			gp := DenseParams(t.genShapes(), t.ema)
			if t.emaNet, err = NewNetWith(t.model, GenOnly, t.cfg.Batch, gp, nil, t.netOptions()); err != nil {
				return nil, err
			}
		}
		net = t.emaNet
	}
	ng := len(t.model.GenShapes())
	if t.bn == nil {
		return all[:ng], nil
	}
	B := t.cfg.Batch
	z := make([]float32, B*t.model.LatentDim)
	rng := rand.New(rand.NewPCG(t.cfg.Seed, statsStream))
	var ps popStats
	for range (statsSamples + B - 1) / B {
		normals(z, rng)
		if _, err := net.Run(z, nil); err != nil {
			return nil, err
		}
		if err := ps.add(net.BN); err != nil {
			return nil, err
		}
	}
	mean, vr := ps.result()
	return foldBN(t.model, all[:ng], all[ng:], mean, vr)
}

// updateEMA folds the generator's weights after generator step n (1, 2, ...) into the
// average: ema = d·ema + (1-d)·w, d = min(EMA, (1+n)/(10+n)).
func (t *Trainer) updateEMA(n int64) {
	if t.ema == nil {
		return
	}
	d := min(t.cfg.EMA, float64(1+n)/float64(10+n))
	a, b := float32(d), float32(1-d)
	for i, e := range t.emaS {
		w := t.genS[i][:len(e)]
		for j := range e {
			e[j] = a*e[j] + b*w[j]
		}
	}
}

// State returns a copy of the run state.
func (t *Trainer) State() State { return t.st }

// Dir returns the checkpoint directory.
func (t *Trainer) Dir() string { return t.dir }

// Streams of the PCG generators (the first word is the seed).
const (
	orderStream   = 0x6f72646572 // "order" + epoch
	stepStream    = 0x73746570   // "step": noise, targets and masks of a step
	samplesStream = 0x73616d70   // "samp": the fixed noise of the sample grids
	statsStream   = 0x626e7374   // "bnst": the noise of the population statistics
	evalStream    = 0x6576616c   // "eval": the noise of the inception score
)

func normals(dst []float32, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}

// StepResult is one training step's losses and discriminator outputs.
type StepResult struct {
	DLoss, GLoss float64
	// DReal, DFake: the discriminator's mean P(real) on the step's real and fake images.
	DReal, DFake float64
}

// Step runs one training step: the discriminator on a batch of fakes (from new noise) and
// reals with noisy targets, then the generator through the discriminator with "real" targets
// (only the generator's parameters change).
func (t *Trainer) Step() (StepResult, error) {
	cfg := t.cfg
	B := cfg.Batch
	s := t.st.Step
	nb := int64(t.train.N / B)
	epoch, b := s/nb, int(s%nb)
	if t.order == nil || t.orderEpoch != epoch {
		t.order = rand.New(rand.NewPCG(cfg.Seed, orderStream+uint64(epoch)<<20)).Perm(t.train.N)
		t.orderEpoch = epoch
	}
	order := t.order
	rng := rand.New(rand.NewPCG(cfg.Seed^stepStream, uint64(s)))
	var r StepResult
	dlr, glr, _ := cfg.rates()
	f := cfg.LRFactor(s)
	t.dOpt.LR, t.gOpt.LR = dlr*f, glr*f

	if err := t.discStep(order[b*B:(b+1)*B], rng, &r); err != nil {
		return r, err
	}
	if err := t.genStep(rng, &r); err != nil {
		return r, err
	}
	t.st.Step++
	return r, nil
}

// discStep trains the discriminator on [fakes; reals] [2B, C, H, W] (fakes from new noise),
// targets noise·u and 1 - noise·u. Only the discriminator's parameters change.
func (t *Trainer) discStep(real []int, rng *rand.Rand, r *StepResult) error {
	B, n := t.cfg.Batch, t.imageLen()
	normals(t.z, rng)
	if _, err := t.genNet.Run(t.z, nil); err != nil {
		return err
	}
	fakes, err := t.genNet.ImagesData()
	if err != nil {
		return err
	}
	copy(t.xb, fakes.([]float32))
	for k, i := range real {
		copy(t.xb[(B+k)*n:(B+k+1)*n], t.real[i*n:(i+1)*n])
	}
	for k := range t.tb {
		u := float32(t.cfg.LabelNoise * rng.Float64())
		if k < B {
			t.tb[k] = u
		} else {
			t.tb[k] = 1 - u
		}
	}
	if d := t.dNet.Dropout(); d != nil {
		d.Resample(rng)
	}
	if r.DLoss, err = t.dNet.Run(t.xb, t.tb); err != nil {
		return err
	}
	if !finite(r.DLoss) {
		return t.diverged("discriminator", r.DLoss)
	}
	lg, err := t.dNet.LogitsData()
	if err != nil {
		return err
	}
	r.DReal, r.DFake = 0, 0
	for k, l := range lg.([]float32) {
		p := sigmoid(float64(l))
		if k < B {
			r.DFake += p / float64(B)
		} else {
			r.DReal += p / float64(B)
		}
	}
	for k := range t.dg {
		g, err := t.dNet.GradData(k)
		if err != nil {
			return err
		}
		t.dg[k] = g.([]float32)
	}
	t.dOpt.Step(t.discS, t.dg, 1)
	return nil
}

// genStep trains the generator through the frozen discriminator: new noise, "real" targets.
// Only the generator's parameters change.
func (t *Trainer) genStep(rng *rand.Rand, r *StepResult) error {
	normals(t.z, rng)
	if d := t.ganNet.Dropout(); d != nil {
		d.Resample(rng)
	}
	var err error
	if r.GLoss, err = t.ganNet.Run(t.z, t.ones); err != nil {
		return err
	}
	if !finite(r.GLoss) {
		return t.diverged("generator", r.GLoss)
	}
	for k := range t.gg {
		g, err := t.ganNet.GradData(k)
		if err != nil {
			return err
		}
		t.gg[k] = g.([]float32)
	}
	t.gOpt.Step(t.genS, t.gg, 1)
	t.updateEMA(t.st.Step + 1)
	return nil
}

func (t *Trainer) diverged(what string, loss float64) error {
	return fmt.Errorf("gan: step %d: the %s's loss is %v: training diverged; the last checkpoint in %s holds the parameters before (try lower learning rates or --clip)", t.st.Step+1, what, loss, t.dir)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Collapse thresholds: a discriminator loss (mean BCE per image, exponential moving average
// over about 50 steps) below dCollapse means the discriminator wins outright and the
// generator's gradient vanishes; a generator loss above gExplode is the same seen from the
// other side (P(real) of its fakes below e^-6 ≈ 0.25%).
const (
	dCollapse = 0.05
	gExplode  = 6.0
	emaDecay  = 0.98
	warnGap   = 1000 // steps between two warnings
	warmup    = 200  // steps before the first warning
)

// watch updates the loss EMAs and returns a warning when they show a collapse.
func (t *Trainer) watch(r StepResult) string {
	st := &t.st
	if st.Step == 1 || (st.DEMA == 0 && st.GEMA == 0) {
		st.DEMA, st.GEMA = r.DLoss, r.GLoss
	} else {
		st.DEMA = emaDecay*st.DEMA + (1-emaDecay)*r.DLoss
		st.GEMA = emaDecay*st.GEMA + (1-emaDecay)*r.GLoss
	}
	if st.Step < warmup || (st.LastWarn > 0 && st.Step-st.LastWarn < warnGap) {
		return ""
	}
	var w string
	switch {
	case st.DEMA < dCollapse:
		w = fmt.Sprintf("the discriminator's loss has collapsed to %.3g (moving average): it tells fakes from reals outright and the generator gets almost no gradient; try --optimizer adam, a lower --d-lr or more --label-noise", st.DEMA)
	case st.GEMA > gExplode:
		w = fmt.Sprintf("the generator's loss has exploded to %.3g (moving average): the discriminator rejects its images; try --optimizer adam or a lower --d-lr", st.GEMA)
	}
	if w != "" {
		st.LastWarn = st.Step
	}
	return w
}

// Save writes a checkpoint of the current state and prunes old ones.
func (t *Trainer) Save() error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	st := t.st
	st.Config, st.Model = t.cfg, t.model
	st.GOptT, st.DOptT, st.NGen, st.NDisc, st.NEMA = t.gOpt.T, t.dOpt.T, len(t.genS), len(t.discS), len(t.emaS)
	var arrays [][]float32
	arrays = append(arrays, t.genS...)
	arrays = append(arrays, t.discS...)
	arrays = append(arrays, t.gOpt.Slots...)
	arrays = append(arrays, t.dOpt.Slots...)
	arrays = append(arrays, t.emaS...)
	if err := loop.WriteCheckpoint(filepath.Join(t.dir, loop.CheckpointName(st.Step)), &st, arrays); err != nil {
		return err
	}
	return loop.PruneCheckpoints(t.dir, t.cfg.KeepLast)
}

// Files in the checkpoint directory besides checkpoints.
const (
	MetricsName = "metrics.jsonl"
	PlotName    = "loss.png"
	// ScorePlotName plots the inception score (with a classifier).
	ScorePlotName = "score.png"
	ProgressName  = "progress.gif"
	BestName      = "best.onnx"
)

// SamplesName is the sample grid after step s.
func SamplesName(s int64) string { return fmt.Sprintf("samples-step-%07d.png", s) }

// Run trains until cfg.Steps (or cfg.MaxSteps) steps are done.
func (t *Trainer) Run() error {
	cfg := t.cfg
	stop := cfg.Steps
	if cfg.MaxSteps > 0 {
		stop = min(stop, cfg.MaxSteps)
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	flops := StepFLOPs(t.model, cfg.Batch)
	start, cpu0, step0 := time.Now(), loop.CPUTime(), t.st.Step
	wStart, wCPU := start, cpu0
	for t.st.Step < stop {
		r, err := t.Step()
		if err != nil {
			return err
		}
		w := &t.st.Window
		w.Steps++
		w.Sums[0] += r.DLoss
		w.Sums[1] += r.GLoss
		w.Sums[2] += r.DReal
		w.Sums[3] += r.DFake
		warn := t.watch(r)
		if warn != "" {
			fmt.Fprintf(t.log, "warning: step %d: %s\n", t.st.Step, warn)
		}
		s := t.st.Step
		if t.step != nil {
			per := time.Since(start) / time.Duration(s-step0)
			t.step(stepProgress{Step: s, Steps: stop, DLoss: r.DLoss, GLoss: r.GLoss, DReal: r.DReal, DFake: r.DFake,
				PerStep: per, ETA: time.Duration(stop-s) * per, GFLOPs: flops / per.Seconds() / 1e9})
		}
		timeUp := cfg.TimeLimit > 0 && time.Since(start) >= cfg.TimeLimit
		last := s == stop || timeUp
		evalNow := t.clf != nil && ((cfg.EvalEvery > 0 && s%int64(cfg.EvalEvery) == 0) || (last && s == cfg.Steps) || timeUp)
		// a metrics line closes a window; a stop before Steps (MaxSteps) keeps the window open
		// in the checkpoint, so a resumed run writes the lines of an uninterrupted one
		if s%int64(cfg.LogEvery) == 0 || s == cfg.Steps || evalNow || warn != "" {
			now, cpu := time.Now(), loop.CPUTime()
			m := Metrics{Step: s, Warning: warn}
			k := float64(w.Steps)
			m.DLoss, m.GLoss, m.DReal, m.DFake = w.Sums[0]/k, w.Sums[1]/k, w.Sums[2]/k, w.Sums[3]/k
			m.SecondsPerStep = now.Sub(wStart).Seconds() / k
			m.CPUSecondsPerStep = (cpu - wCPU).Seconds() / k
			if m.SecondsPerStep > 0 {
				m.GFLOPs = flops / m.SecondsPerStep / 1e9
			}
			line := fmt.Sprintf("step %d: D loss %.4f, G loss %.4f, D(real) %.3f, D(fake) %.3f; %.3f s/step (%.3f s CPU), %.1f GFLOP/s",
				s, m.DLoss, m.GLoss, m.DReal, m.DFake, m.SecondsPerStep, m.CPUSecondsPerStep, m.GFLOPs)
			if evalNow {
				is, err := t.inceptionScore(true)
				if err != nil {
					return err
				}
				m.IS = &is
				line += fmt.Sprintf("; inception score %.3f", is)
				if t.ema != nil {
					raw, err := t.inceptionScore(false)
					if err != nil {
						return err
					}
					m.ISRaw = &raw
					line += fmt.Sprintf(" (averaged weights; current weights %.3f)", raw)
				}
				if t.st.BestIS == nil || is > *t.st.BestIS {
					t.st.BestIS, t.st.BestStep = &is, s
					if err := t.exportTo(filepath.Join(t.dir, BestName)); err != nil {
						return err
					}
				}
			}
			fmt.Fprintln(t.log, line)
			if err := loop.AppendJSONL(filepath.Join(t.dir, MetricsName), m); err != nil {
				return err
			}
			t.st.Window = window{}
			wStart, wCPU = time.Now(), loop.CPUTime()
			if cfg.Plot {
				if err := t.plot(); err != nil {
					return err
				}
			}
		}
		if cfg.SampleCount > 0 && ((cfg.SampleEvery > 0 && s%int64(cfg.SampleEvery) == 0) || last) {
			if err := t.samples(); err != nil {
				return err
			}
		}
		if s%int64(cfg.CheckpointEvery) == 0 || last {
			if err := t.Save(); err != nil {
				return err
			}
		}
		if timeUp {
			t.timedOut = true
			fmt.Fprintf(t.log, "time limit %v reached after step %d (%v)\n", cfg.TimeLimit, s, time.Since(start).Round(time.Second))
			break
		}
	}
	return nil
}

// ReadMetrics reads a metrics.jsonl file; a resumed run's repeated steps keep their last line.
func ReadMetrics(path string) ([]Metrics, error) {
	return loop.ReadJSONL(path, func(m Metrics) int64 { return m.Step })
}

func (t *Trainer) plot() error {
	ms, err := ReadMetrics(filepath.Join(t.dir, MetricsName))
	if err != nil {
		return err
	}
	var x, d, g, is, xi []float64
	for _, m := range ms {
		x = append(x, float64(m.Step))
		d = append(d, m.DLoss)
		g = append(g, m.GLoss)
		if m.IS != nil {
			xi = append(xi, float64(m.Step))
			is = append(is, *m.IS)
		}
	}
	series := []loop.Series{{Name: "discriminator loss", X: x, Y: d}, {Name: "generator loss (frozen D)", X: x, Y: g}}
	title := fmt.Sprintf("DCGAN on %s (%s, batch %d)", t.model.Dataset, t.cfg.Optimizer, t.cfg.Batch)
	png, err := loop.PlotPNG(title, "step", "binary cross-entropy (nats per image)", series)
	if err != nil {
		return err
	}
	if len(is) > 0 {
		sp, err := loop.PlotPNG(title, "step", "classifier inception score", []loop.Series{{Name: "inception score", X: xi, Y: is}})
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(t.dir, ScorePlotName), sp); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(t.dir, PlotName), png)
}

// exportConfig returns the model config with the training settings and results.
func (t *Trainer) exportConfig() (dcgan.Config, error) {
	model := t.model
	dlr, glr, b1 := t.cfg.rates()
	cfg := t.cfg
	cfg.DLR, cfg.GLR = dlr, glr
	if cfg.Optimizer == Adam {
		cfg.Beta1 = b1
	}
	info := struct {
		Config
		Step     int64    `json:"step"`
		BestIS   *float64 `json:"best_inception_score,omitempty"`
		BestStep int64    `json:"best_step,omitempty"`
	}{cfg, t.st.Step, t.st.BestIS, t.st.BestStep}
	raw, err := json.Marshal(info)
	if err != nil {
		return model, fmt.Errorf("gan: %w", err)
	}
	model.Train = raw
	return model, nil
}

func (t *Trainer) exportTo(path string) error {
	model, err := t.exportConfig()
	if err != nil {
		return err
	}
	gen, err := t.Generator()
	if err != nil {
		return err
	}
	return dcgan.ExportFile(path, model, gen)
}

// Export writes the generator to path (atomically), with the training configuration and
// results in its config's "train" field.
func (t *Trainer) Export(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("gan: %w", err)
		}
	}
	return t.exportTo(path)
}

// Close releases the graphs.
func (t *Trainer) Close() error {
	if t.emaNet != nil {
		t.emaNet.Close()
	}
	t.genNet.Close()
	t.dNet.Close()
	return t.ganNet.Close()
}

// Train runs `gendl-train gan`: trains as cfg says, checkpointing, and exports cfg.Out.
func Train(cfg Config) error {
	t, err := NewTrainer(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	t.log, t.step = reporter(t.cfg.Progress, t.log, t.cfg.ProgressEvery)
	ng, nd := t.model.Counts()
	dlr, glr, _ := t.cfg.rates()
	fmt.Fprintf(t.log, "dataset %s: %d training images %dx%dx%d; generator %d parameters, discriminator %d; %s (D %g, G %g), batch %d; %.3f GFLOP per step; checkpoints in %s\n",
		t.train.Name, t.train.N, t.train.C, t.train.H, t.train.W, ng, nd, t.cfg.Optimizer, dlr, glr, t.cfg.Batch,
		StepFLOPs(t.model, t.cfg.Batch)/1e9, t.dir)
	if err := t.Run(); err != nil {
		return err
	}
	if t.cfg.SampleCount > 0 {
		if err := t.progressGIF(); err != nil {
			return err
		}
	}
	if t.cfg.Out != "" && (t.st.Step >= t.cfg.Steps || t.timedOut) {
		if err := t.Export(t.cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(t.log, "wrote %s\n", t.cfg.Out)
		if t.st.BestIS != nil {
			fmt.Fprintf(t.log, "best inception score %.3f at step %d: %s\n", *t.st.BestIS, t.st.BestStep, filepath.Join(t.dir, BestName))
		}
	}
	return nil
}
