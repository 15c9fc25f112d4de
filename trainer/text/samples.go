package text

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/sample"
)

// seedStream is the second PCG word of the generator that picks the sample seed window.
const seedStream = 0x73656564 // "seed"

// SeedWindow returns the seed of the samples during training, as the book takes it: MaxLen
// characters of the training text from a random start drawn from cfg.Seed. It is the same
// every epoch (and after a resume), so the samples show the model's progress on one prompt.
func (t *Trainer) SeedWindow() []int {
	text, T := t.data.Train, t.cfg.MaxLen
	n := min(T, len(text))
	start := 0
	if len(text) > n {
		start = rand.New(rand.NewPCG(t.cfg.Seed, seedStream)).IntN(len(text) - n + 1)
	}
	seed := make([]int, n)
	for i := range seed {
		seed[i] = int(text[start+i])
	}
	return seed
}

// Samples exports the current parameters in memory (charlstm.Export), runs them in gendl's
// engine and generates n characters after seed at each temperature, each from a sampler
// seeded with cfg.Seed, as `gendl sample text --temperatures` does. It writes the book's
// layout to w:
//
//	--- generating with seed: "<seed>"
//	------ temperature: 0.2
//	<seed><generated>
func (t *Trainer) Samples(w io.Writer, seed []int, n int, temps []float64) error {
	proto, err := charlstm.Export(t.model, t.params)
	if err != nil {
		return fmt.Errorf("text: samples: %w", err)
	}
	plan, err := engine.New(proto, engine.Options{})
	if err != nil {
		return fmt.Errorf("text: samples: %w", err)
	}
	s, err := sample.New(plan.NewSession(engine.SessionOptions{}), t.model.SampleSpec(), t.cfg.Seed)
	if err != nil {
		return fmt.Errorf("text: samples: %w", err)
	}
	runes := t.data.Vocab.Runes()
	var prompt strings.Builder
	for _, i := range seed {
		prompt.WriteRune(runes[i])
	}
	fmt.Fprintf(w, "--- generating with seed: %q\n", prompt.String())
	for _, T := range temps {
		fmt.Fprintf(w, "------ temperature: %g\n%s", T, prompt.String())
		s.Seed(t.cfg.Seed)
		if err := s.WriteText(w, runes, seed, n, sample.Options{Temperature: T}); err != nil {
			return fmt.Errorf("text: samples at temperature %g: %w", T, err)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sampleHook returns the epoch hook that writes samples to the log and appends them to
// SamplesName in the checkpoint directory.
func sampleHook(n int, temps []float64) func(*Trainer, Metrics) error {
	return func(t *Trainer, m Metrics) error {
		var b strings.Builder
		fmt.Fprintf(&b, "=== epoch %d (step %d) samples\n", m.Epoch, m.Step)
		if err := t.Samples(&b, t.SeedWindow(), n, temps); err != nil {
			return err
		}
		if _, err := io.WriteString(t.log, b.String()); err != nil {
			return err
		}
		if err := os.MkdirAll(t.dir, 0o755); err != nil {
			return fmt.Errorf("text: %w", err)
		}
		return appendFile(filepath.Join(t.dir, SamplesName), []byte(b.String()+"\n"))
	}
}
