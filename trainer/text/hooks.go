package text

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gendl/gendl/trainer/loop"
)

// Progress is what a step hook sees after every optimizer step (trainer/loop's; Loss and
// EpochLoss are in nats/char).
type Progress = loop.Progress

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

// progressLine formats a plain progress line (loop.LinesFunc writes one at most every
// --progress-every and at the end of each epoch).
func progressLine(p Progress) string {
	return fmt.Sprintf("epoch %d/%d batch %d/%d loss %.4f nats/char (%.3f bits/char) %.2f s/step %.1f GFLOP/s ETA %s\n",
		p.Epoch, p.Epochs, p.Batch, p.Batches, p.EpochLoss, p.EpochLoss/math.Ln2, p.PerStep.Seconds(),
		p.GFLOPs, p.ETA.Round(time.Second))
}
