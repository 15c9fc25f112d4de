package gan

import (
	"bytes"
	"testing"
	"time"

	"github.com/gendl/gendl/trainer/loop"
)

// Plain lines: none at the first step (the first line comes after one interval), always one
// at the last step, in the gan format.
func TestReporterLines(t *testing.T) {
	var buf bytes.Buffer
	w, hook := reporter(loop.ProgressLines, &buf, time.Hour)
	if w != &buf || hook == nil {
		t.Fatalf("lines mode: writer %v, hook %v", w, hook != nil)
	}
	hook(stepProgress{Step: 1, Steps: 2, DLoss: 9})
	hook(stepProgress{Step: 2, Steps: 2, DLoss: 0.5, GLoss: 1.25, DReal: 0.75, DFake: 0.25, PerStep: 1500 * time.Millisecond, GFLOPs: 2, ETA: 0})
	want := "step 2/2 D loss 0.5000 G loss 1.2500 D(real) 0.750 D(fake) 0.250 1.500 s/step 2.0 GFLOP/s ETA 0s\n"
	if got := buf.String(); got != want {
		t.Errorf("lines (-want +got):\n-%q\n+%q", want, got)
	}
	if _, hook := reporter(loop.ProgressOff, &buf, 0); hook != nil {
		t.Error("off mode has a hook")
	}
}
