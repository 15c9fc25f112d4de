package gan

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gendl/gendl/trainer/loop"
)

// stepProgress is what the progress hook sees after every step.
type stepProgress struct {
	Step, Steps                int64
	DLoss, GLoss, DReal, DFake float64
	// PerStep is the mean step time in this process; ETA extrapolates it to the last step.
	PerStep, ETA time.Duration
	GFLOPs       float64
}

// reporter returns the writer log lines should go through and the step hook of a progress
// mode (loop.Progress*): a bar with ETA, plain lines every `every` (0: 10 s), or nothing.
func reporter(mode string, log io.Writer, every time.Duration) (io.Writer, func(stepProgress)) {
	if mode == loop.ProgressAuto {
		mode = loop.ProgressLines
		if loop.IsTerminal(log) {
			mode = loop.ProgressBar
		}
	}
	switch mode {
	case loop.ProgressBar:
		b := &barLog{w: log}
		return b, b.step
	case loop.ProgressLines:
		if every <= 0 {
			every = 10 * time.Second
		}
		var last time.Time
		return log, func(p stepProgress) {
			now := time.Now()
			if last.IsZero() {
				last = now
			}
			if now.Sub(last) < every && p.Step != p.Steps {
				return
			}
			last = now
			fmt.Fprintf(log, "step %d/%d D loss %.4f G loss %.4f D(real) %.3f D(fake) %.3f %.3f s/step %.1f GFLOP/s ETA %s\n",
				p.Step, p.Steps, p.DLoss, p.GLoss, p.DReal, p.DFake, p.PerStep.Seconds(), p.GFLOPs, p.ETA.Round(time.Second))
		}
	}
	return log, nil
}

// barLog shows a progress bar with ETA over the run's steps; lines written through it clear
// the bar first.
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

func (b *barLog) step(p stepProgress) {
	if b.bar == nil {
		b.bar = progressbar.NewOptions64(p.Steps,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	b.bar.Describe(fmt.Sprintf("D %.3f G %.3f", p.DLoss, p.GLoss))
	b.bar.Set64(p.Step)
	if p.Step == p.Steps {
		b.bar.Finish()
		b.bar = nil
	}
}
