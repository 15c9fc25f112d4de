package text

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/corpus"
)

// TestResumeOverrides: on --resume, an explicit --lr, --clip or --val-step replaces the
// stored value (and is stored by the next checkpoint), an explicit model, data or
// batch-order setting with another value is refused naming the flag, and one equal to the
// stored value or not given explicitly is accepted.
func TestResumeOverrides(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.MaxSteps = 5
	a, _, err := run(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	resume := func(edit func(*Config), explicit ...string) (*Trainer, error) {
		c := tinyConfig(t)
		c.CheckpointDir, c.Resume, c.MaxSteps = cfg.CheckpointDir, true, 6
		c.Explicit = map[string]bool{}
		for _, f := range explicit {
			c.Explicit[f] = true
		}
		edit(&c)
		return NewTrainer(c)
	}
	for _, tc := range []struct {
		flag string
		edit func(*Config)
	}{
		{"hidden", func(c *Config) { c.Hidden = 16 }},
		{"maxlen", func(c *Config) { c.MaxLen = 12 }},
		{"step", func(c *Config) { c.Step = 3 }},
		{"batch", func(c *Config) { c.Batch = 8 }},
		{"target", func(c *Config) { c.Target = charlstm.TargetShifted }},
		{"optimizer", func(c *Config) { c.Optimizer = Adam }},
		{"seed", func(c *Config) { c.Seed = 9 }},
		{"val-frac", func(c *Config) { c.ValFrac = 0.1 }},
		{"lowercase", func(c *Config) { c.Lowercase = true }},
	} {
		_, err := resume(tc.edit, tc.flag)
		if err == nil || !strings.Contains(err.Error(), "--"+tc.flag+" ") {
			t.Errorf("--resume --%s with another value: %v, want an error naming the flag", tc.flag, err)
		}
		// the same change not given explicitly (a flag's default) keeps the stored value
		tr, err := resume(tc.edit)
		if err != nil {
			t.Errorf("--resume, %s not given: %v", tc.flag, err)
			continue
		}
		if tr.cfg.Hidden != 8 || tr.cfg.MaxLen != 10 || tr.cfg.Batch != 16 || tr.cfg.Target != charlstm.TargetNext {
			t.Errorf("%s not given: the stored settings were not used: %+v", tc.flag, tr.cfg)
		}
		tr.Close()
	}
	// equal to the stored value: fine
	tr, err := resume(func(c *Config) {}, "hidden", "maxlen")
	if err != nil {
		t.Fatalf("--resume with the stored --hidden and --maxlen: %v", err)
	}
	tr.Close()

	var log strings.Builder
	tr, err = resume(func(c *Config) { c.LR, c.Clip, c.ValStep, c.Log = 0.003, 1.5, 5, &log }, "lr", "clip", "val-step")
	if err != nil {
		t.Fatal(err)
	}
	if tr.cfg.LR != 0.003 || tr.opt.LR != 0.003 || tr.cfg.Clip != 1.5 || tr.cfg.ValStep != 5 {
		t.Errorf("overrides not applied: lr %v (optimizer %v), clip %v, val-step %v", tr.cfg.LR, tr.opt.LR, tr.cfg.Clip, tr.cfg.ValStep)
	}
	for _, want := range []string{"--lr 0.003 instead of the checkpoint's 0.01", "--clip 1.5 instead of the checkpoint's 5", "--val-step 5 instead of the checkpoint's 3"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, log.String())
		}
	}
	if _, err := tr.Run(); err != nil { // one step; the checkpoint stores the new values
		t.Fatal(err)
	}
	tr.Close()
	tr, err = resume(func(c *Config) {})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.cfg.LR != 0.003 || tr.cfg.Clip != 1.5 || tr.cfg.ValStep != 5 {
		t.Errorf("after a checkpoint: lr %v, clip %v, val-step %v; want the overrides stored", tr.cfg.LR, tr.cfg.Clip, tr.cfg.ValStep)
	}
}

// TestValidationIsNextChar: a model trained with --target shifted is validated on the
// next-character loss, the same number the "next" graph gives for the same parameters,
// and over windows every ValStep characters whatever Step.
func TestValidationIsNextChar(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Target, cfg.Step, cfg.ValStep = charlstm.TargetShifted, 11, 2
	cfg.Log = io.Discard
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	d := tr.Corpus()
	if got, want := d.Windows(corpus.SplitVal), (len(d.Val)-cfg.MaxLen-1)/2+1; got != want {
		t.Errorf("%d validation windows, want %d (every 2 characters)", got, want)
	}
	if got, want := d.Windows(corpus.SplitTrain), (len(d.Train)-cfg.MaxLen-1)/11+1; got != want {
		t.Errorf("%d training windows, want %d (every 11 characters)", got, want)
	}
	got, err := tr.Evaluate(corpus.SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	// the same parameters in a "next" trainer built from the same seed
	next := cfg
	next.Target = charlstm.TargetNext
	tn, err := NewTrainer(next)
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	want, err := tn.Evaluate(corpus.SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || math.IsNaN(got) {
		t.Errorf("shifted run's validation loss %v, next run's %v: want the same next-character loss", got, want)
	}
}
