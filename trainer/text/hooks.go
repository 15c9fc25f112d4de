package text

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress is what a step hook sees after every optimizer step.
type Progress struct {
	// Epoch (from 1) of Epochs; Batch batches of its Batches are done.
	Epoch, Epochs  int
	Batch, Batches int
	// Step counts the optimizer updates.
	Step int64
	// Loss is this batch's loss and EpochLoss the epoch's mean so far, nats/char.
	Loss, EpochLoss float64
	// PerStep is the mean step time of this epoch (since this process started it); ETA
	// extrapolates it to the end of the run.
	PerStep, ETA time.Duration
	// GFLOPs is the rate of the step's matrix products (nn.StepFLOPs).
	GFLOPs float64
}

// Hooks are attached to Run from outside; Train attaches the default ones (progress,
// samples, the loss plot). A hook's error stops the run.
type Hooks struct {
	// Step hooks run after every optimizer step.
	Step []func(Progress)
	// Epoch hooks run at the end of every epoch that did not diverge, after validation,
	// metrics.jsonl and the epoch's checkpoint.
	Epoch []func(*Trainer, Metrics) error
}

// StepLoss is one optimizer step's training loss (nats/char).
type StepLoss struct {
	Step int64
	Loss float64
}

// Files a run writes to its checkpoint directory besides checkpoints and metrics.jsonl.
const (
	// StepsName holds the loss of every step, "step<TAB>loss" per line; it is appended to
	// whenever a checkpoint is written, so it covers every checkpointed step.
	StepsName = "steps.tsv"
	// SamplesName collects the samples of every epoch.
	SamplesName = "samples.txt"
	// PlotName is the loss curve.
	PlotName = "loss.png"
)

// flushSteps appends the pending step losses to StepsName.
func (t *Trainer) flushSteps() error {
	if len(t.steps) == 0 {
		return nil
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	var b bytes.Buffer
	for _, s := range t.steps {
		fmt.Fprintf(&b, "%d\t%.7g\n", s.Step, s.Loss)
	}
	if err := appendFile(filepath.Join(t.dir, StepsName), b.Bytes()); err != nil {
		return err
	}
	t.steps = t.steps[:0]
	return nil
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("text: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("text: %w", err)
	}
	return nil
}

// ReadSteps reads a StepsName file, sorted by step. A step written twice (a run resumed
// from a checkpoint older than the file's end redoes those steps, with the same losses)
// keeps its last value.
func ReadSteps(path string) ([]StepLoss, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	defer f.Close()
	byStep := map[int64]float64{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		step, loss, ok := strings.Cut(sc.Text(), "\t")
		s, err1 := strconv.ParseInt(step, 10, 64)
		l, err2 := strconv.ParseFloat(loss, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("text: %s line %d: %q is not step<TAB>loss", path, n, sc.Text())
		}
		byStep[s] = l
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("text: %s: %w", path, err)
	}
	out := make([]StepLoss, 0, len(byStep))
	for s, l := range byStep {
		out = append(out, StepLoss{s, l})
	}
	slices.SortFunc(out, func(a, b StepLoss) int { return int(a.Step - b.Step) })
	return out, nil
}

// progressLines returns a step hook that writes a plain progress line to w at most every
// `every` and at the end of each epoch.
func progressLines(w io.Writer, every time.Duration) func(Progress) {
	if every <= 0 {
		every = 10 * time.Second
	}
	var last time.Time
	return func(p Progress) {
		now := time.Now()
		if last.IsZero() {
			last = now // the first line after one interval, not after the first step
		}
		if now.Sub(last) < every && p.Batch != p.Batches {
			return
		}
		last = now
		fmt.Fprintf(w, "epoch %d/%d batch %d/%d loss %.4f nats/char (%.3f bits/char) %.2f s/step %.1f GFLOP/s ETA %s\n",
			p.Epoch, p.Epochs, p.Batch, p.Batches, p.EpochLoss, p.EpochLoss/math.Ln2, p.PerStep.Seconds(),
			p.GFLOPs, p.ETA.Round(time.Second))
	}
}

// barLog shows a progress bar with ETA on a terminal: one bar per epoch, the epoch's mean
// loss and the run's ETA in its description. Log lines written through it clear the bar
// first (it redraws at the next step).
type barLog struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *barLog) Write(p []byte) (int, error) {
	if b.bar != nil {
		b.bar.Clear()
	}
	return b.w.Write(p)
}

func (b *barLog) step(p Progress) {
	if b.bar == nil || b.bar.GetMax() != p.Batches {
		b.bar = progressbar.NewOptions(p.Batches,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	b.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f run ETA %s", p.Epoch, p.Epochs, p.EpochLoss, p.ETA.Round(time.Second)))
	b.bar.Set(p.Batch)
	if p.Batch == p.Batches {
		b.bar.Finish()
		b.bar = nil
	}
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
