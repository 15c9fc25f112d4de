package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/corpus"
	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/nn"
)

// Config is the configuration of a training run (the flags of `gendl-train text`).
type Config struct {
	// Corpus is the training text's path; "" trains on the embedded default corpus.
	Corpus string `json:"corpus"`
	// Out is the exported ONNX model's path; "" skips the export.
	Out       string  `json:"-"`
	Epochs    int     `json:"epochs"`
	MaxLen    int     `json:"maxlen"`
	Step      int     `json:"step"`
	Hidden    int     `json:"hidden"`
	Layers    int     `json:"layers"`
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	Optimizer string  `json:"optimizer"`
	// Clip is the global gradient-norm limit; 0 disables clipping.
	Clip      float64 `json:"clip"`
	Target    string  `json:"target"`
	Lowercase bool    `json:"lowercase"`
	Seed      uint64  `json:"seed"`
	ValFrac   float64 `json:"val_frac"`
	// ValStep is the stride of the validation windows (0: Step). The validation loss is
	// the next-character loss after every window, whatever the target, so a fixed ValStep
	// scores runs with different --step and --target alike.
	ValStep int `json:"val_step,omitempty"`
	// CheckpointDir receives checkpoints and metrics.jsonl; "" means Out without its
	// extension plus ".train" (or "gendl-train.train" without Out).
	CheckpointDir string `json:"-"`
	// Resume continues from the latest checkpoint of CheckpointDir with the stored
	// configuration. Epochs, Out, CheckpointDir, MaxSteps, CheckpointEvery, KeepLast and the
	// reporting fields are taken from this Config; so are LR, Clip and ValStep when Explicit
	// names them ("lr", "clip", "val-step"). A setting that defines the model, the data or
	// the batch order (corpus, maxlen, step, hidden, layers, batch, optimizer, target,
	// lowercase, seed, val-frac) named in Explicit with a value other than the stored one is
	// an error.
	Resume bool `json:"-"`
	// Explicit names the settings given explicitly (by their flag names), for Resume.
	Explicit map[string]bool `json:"-"`
	// CheckpointEvery also writes a checkpoint every that many steps (0: per epoch only).
	CheckpointEvery int `json:"-"`
	// KeepLast is the number of step checkpoints kept (besides best.ckpt).
	KeepLast int `json:"-"`
	// MaxSteps stops after that many optimizer steps in total (0: no limit).
	MaxSteps int64 `json:"-"`
	// Log receives progress lines; nil means os.Stderr.
	Log io.Writer `json:"-"`
	// ProgressEvery is the interval between progress lines (0: 10 s).
	ProgressEvery time.Duration `json:"-"`
	// Progress selects how Train reports progress: ProgressAuto (""; a bar with ETA when
	// Log is a terminal, else plain lines), ProgressBar, ProgressLines or ProgressOff.
	Progress string `json:"-"`
	// SampleLength is the number of characters Train samples per temperature after every
	// epoch (0: no samples).
	SampleLength int `json:"-"`
	// SampleTemperatures are the temperatures of those samples (each > 0).
	SampleTemperatures []float64 `json:"-"`
	// Plot makes Train write the loss curve, loss.png, after every epoch.
	Plot bool `json:"-"`
}

// Progress modes (Config.Progress).
const (
	ProgressAuto  = loop.ProgressAuto
	ProgressBar   = loop.ProgressBar
	ProgressLines = loop.ProgressLines
	ProgressOff   = loop.ProgressOff
)

// Defaults returns the book's settings: maxlen 60, step 3, LSTM(128), batch 128, RMSprop
// at 0.01; plus gradient clipping at norm 5 and a 5% validation split (karpathy/char-rnn).
func Defaults() Config {
	return Config{
		Epochs: 20, MaxLen: 60, Step: 3, Hidden: 128, Layers: 1, Batch: 128,
		LR: 0.01, Optimizer: RMSprop, Clip: 5, Target: charlstm.TargetNext, Seed: 1,
		ValFrac: 0.05, ValStep: 3, KeepLast: 3,
		SampleLength: 400, SampleTemperatures: []float64{0.2, 0.5, 1.0, 1.2}, Plot: true,
	}
}

func (c *Config) validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("text: epochs = %d, want >= 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("text: batch = %d, want >= 1", c.Batch)
	case c.ValStep < 0:
		return fmt.Errorf("text: validation step = %d, want >= 1 (0: the step)", c.ValStep)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("text: learning rate = %v, want > 0", c.LR)
	case !(c.Clip >= 0):
		return fmt.Errorf("text: clip = %v, want >= 0", c.Clip)
	case c.Optimizer != RMSprop && c.Optimizer != Adam:
		return fmt.Errorf("text: optimizer %q, want %q or %q", c.Optimizer, RMSprop, Adam)
	case c.SampleLength < 0:
		return fmt.Errorf("text: sample length = %d, want >= 0 (0: no samples)", c.SampleLength)
	case c.SampleLength > 0 && len(c.SampleTemperatures) == 0:
		return fmt.Errorf("text: sample length %d but no sample temperatures", c.SampleLength)
	}
	for _, T := range c.SampleTemperatures {
		if !(T > 0) || math.IsInf(T, 1) {
			return fmt.Errorf("text: sample temperature %v: want a finite number > 0", T)
		}
	}
	switch c.Progress {
	case ProgressAuto, ProgressBar, ProgressLines, ProgressOff:
	default:
		return fmt.Errorf("text: progress %q, want %q, %q, %q or %q (auto)", c.Progress, ProgressBar, ProgressLines, ProgressOff, "")
	}
	return nil
}

// Metrics is one line of metrics.jsonl, written after every epoch.
type Metrics struct {
	Epoch     int     `json:"epoch"`
	Step      int64   `json:"step"`
	TrainLoss float64 `json:"train_loss"`
	TrainBPC  float64 `json:"train_bpc"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	ValBPC    float64 `json:"val_bpc,omitempty"`
	// Seconds is the epoch's training time (wall clock, without validation and hooks).
	Seconds float64 `json:"seconds"`
	GFLOPs  float64 `json:"train_gflops_per_s"`
	// Elapsed is the wall-clock time since this process started training (Run), after the
	// epoch's validation; CPU the process's CPU time (user+system, all threads) by then.
	// On a shared machine CPU moves less with the load than Elapsed.
	Elapsed float64 `json:"elapsed_s,omitempty"`
	CPU     float64 `json:"cpu_s,omitempty"`
}

// Trainer holds a run's model, data and optimizer state.
type Trainer struct {
	cfg    Config
	model  charlstm.Config
	data   *corpus.Corpus
	params *charlstm.Params
	slices [][]float32 // parameter data, nn.ParamShapes order; aliases params
	opt    *loop.Optimizer
	net    *nn.Net // training graph (with gradients)
	eval   *nn.Net // forward-only graph for validation
	grads  [][]float32
	st     State
	batch  corpus.Batch
	log    io.Writer
	dir    string

	// last good state, for roll-back on divergence
	good      [][]float32
	goodOpt   *loop.Optimizer
	goodEpoch int

	// steps are the per-step losses not yet appended to StepsName (Save appends them).
	steps []StepLoss

	// Hooks are called by Run; Train attaches progress, samples and the loss plot.
	Hooks Hooks
}

// ErrDiverged reports that training stopped on a NaN or diverging loss (the parameters
// were rolled back to the last good ones).
var ErrDiverged = errors.New("text: training diverged")

// NewTrainer prepares a run: it reads the corpus, and either initialises the model from
// cfg.Seed or, with cfg.Resume, restores the latest checkpoint of the checkpoint directory.
func NewTrainer(cfg Config) (*Trainer, error) {
	nn.UseGendlBLAS() // gendl's SGEMM for Gorgonia's matrix products (global; before any graph runs)
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.KeepLast < 1 {
		cfg.KeepLast = 1
	}
	dir := cfg.CheckpointDir
	if dir == "" {
		base := "gendl-train"
		if cfg.Out != "" {
			base = strings.TrimSuffix(cfg.Out, filepath.Ext(cfg.Out))
		}
		dir = base + ".train"
	}
	t := &Trainer{log: cfg.Log, dir: dir}
	var arrays [][]float32
	if cfg.Resume {
		st := &State{}
		path, arr, err := loop.ResumeLatest("text", dir, st)
		if err != nil {
			return nil, err
		}
		if cfg, err = resumeConfig(st.Config, cfg, t.log); err != nil {
			return nil, err
		}
		t.st, arrays = *st, arr
		fmt.Fprintf(t.log, "resuming from %s: epoch %d, batch %d, step %d\n", path, st.Epoch+1, st.Batch, st.Step)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t.cfg = cfg
	data, err := corpus.ReadFile(cfg.Corpus, corpus.Options{MaxLen: cfg.MaxLen, Step: cfg.Step, ValStep: cfg.ValStep, Lowercase: cfg.Lowercase, ValFrac: cfg.ValFrac})
	if err != nil {
		return nil, err
	}
	t.data = data
	name := data.Name
	t.model = charlstm.Config{
		Vocabulary: data.Vocab.String(), Lowercase: cfg.Lowercase, Layers: cfg.Layers,
		Hidden: cfg.Hidden, MaxLen: cfg.MaxLen, Step: cfg.Step, Target: cfg.Target, Corpus: name,
	}
	if err := t.model.Validate(); err != nil {
		return nil, err
	}
	if cfg.Resume && t.st.Model.Vocabulary != t.model.Vocabulary {
		return nil, fmt.Errorf("text: --resume: the corpus %s has a different vocabulary from the checkpoint's; resume with the same corpus", name)
	}
	if t.params, err = charlstm.NewParams(t.model, rand.New(rand.NewPCG(cfg.Seed, 0x5eed))); err != nil {
		return nil, err
	}
	t.slices = nn.ParamSlices(t.params)
	var sizes []int
	for _, s := range t.slices {
		sizes = append(sizes, len(s))
	}
	if t.opt, err = loop.NewOptimizer(cfg.Optimizer, cfg.LR, sizes); err != nil {
		return nil, err
	}
	if cfg.Resume {
		if err := t.restore(arrays); err != nil {
			return nil, err
		}
	} else {
		t.st = State{Optimizer: cfg.Optimizer, LR: cfg.LR, Seed: cfg.Seed}
	}
	ps := nn.DenseParams(t.model, t.params)
	if t.net, err = nn.New(t.model, ps, nn.Options{Batch: cfg.Batch, Gradients: true}); err != nil {
		return nil, err
	}
	// validation scores the next character after each window, whatever the target
	evalModel := t.model
	evalModel.Target = charlstm.TargetNext
	if t.eval, err = nn.New(evalModel, ps, nn.Options{Batch: cfg.Batch}); err != nil {
		return nil, err
	}
	t.grads = make([][]float32, len(ps))
	t.snapshot()
	return t, nil
}

// resumeConfig returns the configuration of a resumed run: the stored one, with the fields
// that belong to this invocation taken from run, and LR, Clip and ValStep where run.Explicit
// names them. A setting that cannot change without changing the model, the data or the
// batch order, given explicitly with another value, is an error.
func resumeConfig(stored, run Config, log io.Writer) (Config, error) {
	for _, f := range []struct {
		flag          string
		stored, given any
	}{
		{"corpus", stored.Corpus, run.Corpus}, {"maxlen", stored.MaxLen, run.MaxLen},
		{"step", stored.Step, run.Step}, {"hidden", stored.Hidden, run.Hidden},
		{"layers", stored.Layers, run.Layers}, {"batch", stored.Batch, run.Batch},
		{"optimizer", stored.Optimizer, run.Optimizer}, {"target", stored.Target, run.Target},
		{"lowercase", stored.Lowercase, run.Lowercase}, {"seed", stored.Seed, run.Seed},
		{"val-frac", stored.ValFrac, run.ValFrac},
	} {
		if run.Explicit[f.flag] && f.stored != f.given {
			return Config{}, fmt.Errorf("text: --resume: --%s %v differs from the checkpoint's %v; a resumed run keeps the model, data and batch-order settings (train anew in another --checkpoint-dir to change it)",
				f.flag, f.given, f.stored)
		}
	}
	cfg := stored
	for _, f := range []struct {
		flag          string
		stored, given *float64
	}{{"lr", &cfg.LR, &run.LR}, {"clip", &cfg.Clip, &run.Clip}} {
		if run.Explicit[f.flag] && *f.given != *f.stored {
			fmt.Fprintf(log, "resuming with --%s %v instead of the checkpoint's %v\n", f.flag, *f.given, *f.stored)
			*f.stored = *f.given
		}
	}
	if run.Explicit["val-step"] && run.ValStep != cfg.ValStep {
		fmt.Fprintf(log, "resuming with --val-step %d instead of the checkpoint's %d\n", run.ValStep, cfg.ValStep)
		cfg.ValStep = run.ValStep
	}
	cfg.Out, cfg.CheckpointDir, cfg.Resume, cfg.Explicit = run.Out, run.CheckpointDir, true, run.Explicit
	cfg.Epochs, cfg.MaxSteps, cfg.Log = run.Epochs, run.MaxSteps, run.Log
	cfg.CheckpointEvery, cfg.KeepLast, cfg.ProgressEvery = run.CheckpointEvery, run.KeepLast, run.ProgressEvery
	cfg.Progress, cfg.SampleLength, cfg.SampleTemperatures, cfg.Plot = run.Progress, run.SampleLength, run.SampleTemperatures, run.Plot
	return cfg, nil
}

func (t *Trainer) restore(arrays [][]float32) error {
	want := len(t.slices) + len(t.opt.Slots)
	if len(arrays) != want || t.st.NParams != len(t.slices) {
		return fmt.Errorf("text: checkpoint holds %d arrays, the model and optimizer need %d", len(arrays), want)
	}
	for i, s := range t.slices {
		if len(arrays[i]) != len(s) {
			return fmt.Errorf("text: checkpoint parameter %d has %d values, want %d", i, len(arrays[i]), len(s))
		}
		copy(s, arrays[i])
	}
	if err := t.opt.Restore(arrays[len(t.slices):], t.st.OptT); err != nil {
		return fmt.Errorf("text: checkpoint: %w", err)
	}
	return nil
}

// Model returns the model configuration and the (live) parameters.
func (t *Trainer) Model() (charlstm.Config, *charlstm.Params) { return t.model, t.params }

// Corpus returns the training data.
func (t *Trainer) Corpus() *corpus.Corpus { return t.data }

// State returns a copy of the run state.
func (t *Trainer) State() State { return t.st }

// Dir returns the checkpoint directory.
func (t *Trainer) Dir() string { return t.dir }

// batchesPerEpoch returns the number of training batches of an epoch.
func (t *Trainer) batchesPerEpoch() int {
	return corpus.Batches(t.data.Windows(corpus.SplitTrain), t.cfg.Batch)
}

// trainStep runs batch b of the current epoch, updates the parameters and returns the loss
// (nats/char) and the number of target characters.
func (t *Trainer) trainStep(order []int, b int) (float64, int, error) {
	B := t.cfg.Batch
	win := order[b*B : min((b+1)*B, len(order))]
	t.data.Fill(&t.batch, corpus.SplitTrain, t.cfg.Target, win, B)
	loss, err := t.net.Run(t.batch.X, t.batch.Y)
	if err != nil {
		return 0, 0, err
	}
	chars := len(win)
	if t.cfg.Target == charlstm.TargetShifted {
		chars *= t.cfg.MaxLen
	}
	if !(loss <= t.stepLimit()) {
		return loss, chars, nil // diverged: no update; the caller rolls back
	}
	for k := range t.grads {
		g, err := t.net.GradData(k)
		if err != nil {
			return 0, 0, err
		}
		t.grads[k] = g.([]float32)
	}
	scale, _ := loop.ClipScale(t.grads, t.cfg.Clip)
	t.opt.Step(t.slices, t.grads, scale)
	t.st.Step++
	return loss, chars, nil
}

// Evaluate returns the mean next-character loss (nats/char) over all windows of a split:
// the loss of the character after each window, predicted after the whole window, whatever
// the training target (so "next" and "shifted" runs are scored alike; a "shifted" run's
// training loss averages over every position of its windows instead, short contexts
// included). NaN when the split has no windows.
func (t *Trainer) Evaluate(s corpus.Split) (float64, error) {
	n := t.data.Windows(s)
	if n == 0 {
		return math.NaN(), nil
	}
	B := t.cfg.Batch
	var sum float64
	var chars int
	win := make([]int, 0, B)
	for start := 0; start < n; start += B {
		win = win[:0]
		for w := start; w < min(start+B, n); w++ {
			win = append(win, w)
		}
		t.data.Fill(&t.batch, s, charlstm.TargetNext, win, B)
		loss, err := t.eval.Run(t.batch.X, t.batch.Y)
		if err != nil {
			return 0, err
		}
		c := len(win)
		sum += loss * float64(c)
		chars += c
	}
	return sum / float64(chars), nil
}

// snapshot remembers the current parameters and optimizer state as the last good ones.
func (t *Trainer) snapshot() {
	t.good = loop.CloneSlices(t.slices)
	t.goodOpt = t.opt.Clone()
	t.goodEpoch = t.st.Epoch
}

func (t *Trainer) rollback() {
	loop.CopySlices(t.slices, t.good)
	loop.CopySlices(t.opt.Slots, t.goodOpt.Slots)
	t.opt.T = t.goodOpt.T
}

// stepLimit is the batch loss above which training counts as diverged: twice the uniform
// guess's ln V before any epoch is done, then the larger of ln V and twice the best loss.
func (t *Trainer) stepLimit() float64 {
	lnV := math.Log(float64(t.data.Vocab.Size()))
	if t.st.BestVal == nil {
		return 2 * lnV
	}
	return max(lnV, 2**t.st.BestVal)
}

// Save writes a checkpoint of the current state to the checkpoint directory (and best.ckpt
// when best is set) and prunes old ones.
func (t *Trainer) Save(best bool) error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	if err := t.flushSteps(); err != nil {
		return err
	}
	st := t.st
	st.Config, st.Model = t.cfg, t.model
	st.Optimizer, st.LR, st.OptT, st.Seed = t.opt.Name, t.opt.LR, t.opt.T, t.cfg.Seed
	st.NParams = len(t.slices)
	arrays := append(append([][]float32(nil), t.slices...), t.opt.Slots...)
	if err := loop.WriteCheckpoint(filepath.Join(t.dir, loop.CheckpointName(st.Step)), &st, arrays); err != nil {
		return err
	}
	if best {
		if err := loop.WriteCheckpoint(filepath.Join(t.dir, BestName), &st, arrays); err != nil {
			return err
		}
	}
	return loop.PruneCheckpoints(t.dir, t.cfg.KeepLast)
}

// Run trains until cfg.Epochs epochs or cfg.MaxSteps steps are done. It returns the losses
// of every step it ran (for tests) and ErrDiverged when it stopped on divergence.
func (t *Trainer) Run() ([]float64, error) {
	cfg := t.cfg
	nb := t.batchesPerEpoch()
	stepFlops := nn.StepFLOPs(t.model, cfg.Batch)
	var losses []float64
	start := time.Now()
	startStep := t.st.Step
	for t.st.Epoch < cfg.Epochs {
		order := t.data.Order(cfg.Seed, t.st.Epoch)
		epochStart := time.Now()
		doneAtStart := t.st.Batch
		for t.st.Batch < nb {
			if cfg.MaxSteps > 0 && t.st.Step >= cfg.MaxSteps {
				return losses, t.Save(false)
			}
			loss, chars, err := t.trainStep(order, t.st.Batch)
			if err != nil {
				return losses, err
			}
			if limit := t.stepLimit(); !(loss <= limit) {
				t.rollback()
				fmt.Fprintf(t.log, "epoch %d batch %d: loss %.4g is NaN or above %.4g (worse than a uniform guess and twice the best): diverged; rolled back to the parameters at the start of epoch %d and stopped (try a lower --lr or --clip)\n",
					t.st.Epoch+1, t.st.Batch+1, loss, limit, t.goodEpoch+1)
				return losses, ErrDiverged
			}
			losses = append(losses, loss)
			t.steps = append(t.steps, StepLoss{Step: t.st.Step, Loss: loss})
			t.st.EpochLoss += loss * float64(chars)
			t.st.EpochChars += int64(chars)
			t.st.Batch++
			if cfg.CheckpointEvery > 0 && t.st.Step%int64(cfg.CheckpointEvery) == 0 {
				if err := t.Save(false); err != nil {
					return losses, err
				}
			}
			if len(t.Hooks.Step) > 0 {
				per := time.Since(epochStart) / time.Duration(t.st.Batch-doneAtStart)
				p := Progress{
					Unit:  "nats/char",
					Epoch: t.st.Epoch + 1, Epochs: cfg.Epochs, Batch: t.st.Batch, Batches: nb, Step: t.st.Step,
					Loss: loss, EpochLoss: t.st.EpochLoss / float64(t.st.EpochChars), PerStep: per,
					ETA:    time.Duration(nb-t.st.Batch)*per + time.Duration((cfg.Epochs-t.st.Epoch-1)*nb)*per,
					GFLOPs: stepFlops / per.Seconds() / 1e9,
				}
				for _, h := range t.Hooks.Step {
					h(p)
				}
			}
		}
		// end of epoch
		m := Metrics{Epoch: t.st.Epoch + 1, Step: t.st.Step, TrainLoss: t.st.EpochLoss / float64(t.st.EpochChars)}
		m.TrainBPC = m.TrainLoss / math.Ln2
		m.Seconds = time.Since(epochStart).Seconds()
		if steps := t.st.Batch - doneAtStart; steps > 0 {
			m.GFLOPs = stepFlops * float64(steps) / m.Seconds / 1e9
		}
		score := m.TrainLoss
		if t.data.Windows(corpus.SplitVal) > 0 {
			val, err := t.Evaluate(corpus.SplitVal)
			if err != nil {
				return losses, err
			}
			m.ValLoss, m.ValBPC = val, val/math.Ln2
			score = val
		}
		m.Elapsed, m.CPU = time.Since(start).Seconds(), loop.CPUTime().Seconds()
		line := fmt.Sprintf("epoch %d: train %.4f nats/char (%.3f bits/char)", m.Epoch, m.TrainLoss, m.TrainBPC)
		if m.ValLoss != 0 {
			line += fmt.Sprintf(", validation %.4f nats/char (%.3f bits/char)", m.ValLoss, m.ValBPC)
		}
		fmt.Fprintf(t.log, "%s, %.1f s (%.0f s in all, %.0f s CPU)\n", line, m.Seconds, m.Elapsed, m.CPU)
		if err := t.appendMetrics(m); err != nil {
			return losses, err
		}
		if err := t.flushSteps(); err != nil {
			return losses, err
		}
		best := t.st.BestVal == nil || score < *t.st.BestVal
		if math.IsNaN(score) || (t.st.BestVal != nil && score > 2**t.st.BestVal) {
			t.rollback()
			why := "is NaN"
			if t.st.BestVal != nil && !math.IsNaN(score) {
				why = fmt.Sprintf("is more than twice the best, %.4f at epoch %d", *t.st.BestVal, t.st.BestEpoch)
			}
			fmt.Fprintf(t.log, "epoch %d: loss %.4f %s: diverged; rolled back to the parameters after epoch %d and stopped (try a lower --lr or --clip)\n",
				m.Epoch, score, why, t.goodEpoch)
			return losses, ErrDiverged
		}
		if best {
			t.st.BestVal, t.st.BestEpoch = &score, m.Epoch
		}
		t.st.Epoch++
		t.st.Batch, t.st.EpochLoss, t.st.EpochChars = 0, 0, 0
		t.snapshot()
		if err := t.Save(best); err != nil {
			return losses, err
		}
		for _, h := range t.Hooks.Epoch {
			if err := h(t, m); err != nil {
				return losses, err
			}
		}
	}
	if n := t.st.Step - startStep; n > 0 {
		fmt.Fprintf(t.log, "trained %d steps in %s\n", n, time.Since(start).Round(time.Second))
	}
	return losses, nil
}

func (t *Trainer) appendMetrics(m Metrics) error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	return loop.AppendJSONL(filepath.Join(t.dir, "metrics.jsonl"), m)
}

// Export writes the model to path as ONNX (charlstm.ExportFile: atomic), with the training
// configuration and results in the config's "train" field.
func (t *Trainer) Export(path string) error {
	model := t.model
	info := struct {
		Config
		Step      int64    `json:"step"`
		Epochs    int      `json:"epochs_done"`
		BestVal   *float64 `json:"best_val_loss,omitempty"`
		BestEpoch int      `json:"best_epoch,omitempty"`
	}{t.cfg, t.st.Step, t.st.Epoch, t.st.BestVal, t.st.BestEpoch}
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	model.Train = raw
	if err := charlstm.ExportFile(path, model, t.params); err != nil {
		return fmt.Errorf("text: export: %w", err)
	}
	return nil
}

// Close releases the graphs.
func (t *Trainer) Close() error {
	t.net.Close()
	return t.eval.Close()
}

// Train runs `gendl-train text`: trains as cfg says, checkpointing, and exports cfg.Out.
// It attaches the default hooks: progress (a bar with ETA on a terminal, plain lines
// otherwise), samples after every epoch (cfg.SampleLength) and the loss plot (cfg.Plot).
// On divergence it exports the rolled-back parameters and returns ErrDiverged.
func Train(cfg Config) error {
	t, err := NewTrainer(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	t.attachHooks()
	fmt.Fprintf(t.log, "corpus %s: %d characters, vocabulary %d, %d training windows, %d validation windows; %d batches per epoch; checkpoints in %s\n",
		t.data.Name, len(t.data.Train)+len(t.data.Val), t.data.Vocab.Size(), t.data.Windows(corpus.SplitTrain),
		t.data.Windows(corpus.SplitVal), t.batchesPerEpoch(), t.dir)
	_, runErr := t.Run()
	if runErr != nil && !errors.Is(runErr, ErrDiverged) {
		return runErr
	}
	if t.cfg.Out != "" {
		if err := t.Export(t.cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(t.log, "wrote %s\n", t.cfg.Out)
	}
	return runErr
}

// attachHooks attaches Train's hooks as the (possibly resumed) configuration says.
func (t *Trainer) attachHooks() {
	cfg := t.cfg
	log, hook := loop.ReporterFunc(cfg.Progress, t.log, cfg.ProgressEvery, progressLine)
	t.log = log // with a bar, log lines clear it first
	if hook != nil {
		t.Hooks.Step = append(t.Hooks.Step, hook)
	}
	if cfg.SampleLength > 0 {
		t.Hooks.Epoch = append(t.Hooks.Epoch, sampleHook(cfg.SampleLength, cfg.SampleTemperatures))
	}
	if cfg.Plot {
		t.Hooks.Epoch = append(t.Hooks.Epoch, plotHook)
	}
}
