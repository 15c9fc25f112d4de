package gan

import (
	"fmt"
	"io"
	"time"

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
// mode (loop.Progress*): a bar with ETA over the run's steps, plain lines every `every` (0:
// 10 s) and at the last step, or nothing. It is package loop's reporter, with the run's
// steps as the batches of one epoch.
func reporter(mode string, log io.Writer, every time.Duration) (io.Writer, func(stepProgress)) {
	var cur stepProgress // the step being reported
	line := func(loop.Progress) string {
		p := cur
		return fmt.Sprintf("step %d/%d D loss %.4f G loss %.4f D(real) %.3f D(fake) %.3f %.3f s/step %.1f GFLOP/s ETA %s\n",
			p.Step, p.Steps, p.DLoss, p.GLoss, p.DReal, p.DFake, p.PerStep.Seconds(), p.GFLOPs, p.ETA.Round(time.Second))
	}
	desc := func(loop.Progress) string { return fmt.Sprintf("D %.3f G %.3f", cur.DLoss, cur.GLoss) }
	w, hook := loop.ReporterFormat(mode, log, every, line, desc)
	if hook == nil {
		return w, nil
	}
	return w, func(p stepProgress) {
		cur = p
		hook(loop.Progress{Epoch: 1, Epochs: 1, Batch: int(p.Step), Batches: int(p.Steps), Step: p.Step,
			PerStep: p.PerStep, ETA: p.ETA, GFLOPs: p.GFLOPs})
	}
}
