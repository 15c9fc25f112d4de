package loop

import (
	"fmt"
	"io"
	"os"
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
	// Loss is this batch's loss and EpochLoss the epoch's mean so far, in Unit.
	Loss, EpochLoss float64
	Unit            string
	// PerStep is the mean step time of this epoch in this process; ETA extrapolates it to the
	// end of the run.
	PerStep, ETA time.Duration
	// GFLOPs is the rate of the step's counted floating-point work.
	GFLOPs float64
}

// Progress modes.
const (
	ProgressAuto  = ""      // a bar on a terminal, plain lines otherwise
	ProgressBar   = "bar"   // a bar with ETA
	ProgressLines = "lines" // plain lines
	ProgressOff   = "off"
)

// CheckProgressMode returns an error for an unknown mode.
func CheckProgressMode(mode string) error {
	switch mode {
	case ProgressAuto, ProgressBar, ProgressLines, ProgressOff:
		return nil
	}
	return fmt.Errorf("loop: progress %q, want %q, %q, %q or %q (auto)", mode, ProgressBar, ProgressLines, ProgressOff, "")
}

// Reporter returns the step hook of a progress mode writing to log, and the writer further
// log lines should go through (with a bar, lines clear it first). The hook is nil for
// ProgressOff. every is the interval between plain lines (0: 10 s).
func Reporter(mode string, log io.Writer, every time.Duration) (io.Writer, func(Progress)) {
	return ReporterFunc(mode, log, every, nil)
}

// ReporterFunc is Reporter with plain lines formatted by line (nil: Lines' format).
func ReporterFunc(mode string, log io.Writer, every time.Duration, line func(Progress) string) (io.Writer, func(Progress)) {
	return ReporterFormat(mode, log, every, line, nil)
}

// ReporterFormat is ReporterFunc with the bar's description formatted by desc (nil: the
// epoch, its mean loss and the run's ETA). A run without epochs reports its steps as the
// batches of one epoch: a single bar over the run.
func ReporterFormat(mode string, log io.Writer, every time.Duration, line, desc func(Progress) string) (io.Writer, func(Progress)) {
	if mode == ProgressAuto {
		mode = ProgressLines
		if IsTerminal(log) {
			mode = ProgressBar
		}
	}
	switch mode {
	case ProgressBar:
		if desc == nil {
			desc = defaultDesc
		}
		b := &barLog{w: log, desc: desc}
		return b, b.step
	case ProgressLines:
		return log, LinesFunc(log, every, line)
	}
	return log, nil
}

// Lines returns a step hook that writes a plain progress line to w at most every `every`
// (0: 10 s) and at the end of each epoch.
func Lines(w io.Writer, every time.Duration) func(Progress) {
	return LinesFunc(w, every, nil)
}

// LinesFunc is Lines with each line formatted by line (nil: Lines' format, which ends in a
// newline as line's result must).
func LinesFunc(w io.Writer, every time.Duration, line func(Progress) string) func(Progress) {
	if every <= 0 {
		every = 10 * time.Second
	}
	if line == nil {
		line = defaultLine
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
		io.WriteString(w, line(p))
	}
}

func defaultLine(p Progress) string {
	rate := "" // a trainer that does not count its FLOPs leaves GFLOPs 0
	if p.GFLOPs > 0 {
		rate = fmt.Sprintf(" %.1f GFLOP/s", p.GFLOPs)
	}
	return fmt.Sprintf("epoch %d/%d batch %d/%d loss %.4f %s %.3f s/step%s ETA %s\n",
		p.Epoch, p.Epochs, p.Batch, p.Batches, p.EpochLoss, p.Unit, p.PerStep.Seconds(),
		rate, p.ETA.Round(time.Second))
}

// barLog shows a progress bar with ETA: one bar per epoch, desc's description (by default
// the epoch's mean loss and the run's ETA). Lines written through it clear the bar first.
type barLog struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	desc func(Progress) string
}

func defaultDesc(p Progress) string {
	return fmt.Sprintf("epoch %d/%d loss %.4f run ETA %s", p.Epoch, p.Epochs, p.EpochLoss, p.ETA.Round(time.Second))
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
	b.bar.Describe(b.desc(p))
	b.bar.Set(p.Batch)
	if p.Batch == p.Batches {
		b.bar.Finish()
		b.bar = nil
	}
}

// IsTerminal tells whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
