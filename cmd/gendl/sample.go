package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/sample"
)

// sampleCommand is `gendl sample KIND`: one subcommand per kind of model.
func sampleCommand() *cli.Command {
	return &cli.Command{
		Name:            "sample",
		Usage:           "generate from a trained model: text from a char-LSTM, images from a VAE or a GAN",
		Subcommands:     []*cli.Command{sampleTextCommand(), sampleVAECommand(), sampleGANCommand()},
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("sample: want the kind of model to sample: %s (e.g. gendl sample text --help)", sampleKinds(c.Command))
			}
			return fmt.Errorf("sample: unknown kind %q: want one of %s", c.Args().First(), sampleKinds(c.Command))
		},
	}
}

// sampleKinds lists the subcommands of `gendl sample`, quoted.
func sampleKinds(c *cli.Command) string {
	var names []string
	for _, s := range c.Subcommands {
		if s.Name == "help" {
			continue
		}
		names = append(names, "`"+s.Name+"`")
	}
	return strings.Join(names, ", ")
}

// sampleTextCommand is `gendl sample text`.
func sampleTextCommand() *cli.Command {
	return &cli.Command{
		Name:  "text",
		Usage: "stream text from a char-LSTM at a temperature",
		Description: "Streams characters from a char-LSTM exported by gendl-train (an ONNX file whose\n" +
			"metadata carries the vocabulary). The seed text primes the model's state in one run; each\n" +
			"further character costs one run at sequence length 1. Probabilities are reweighted at the\n" +
			"temperature T as exp(log(p)/T), renormalised (T < 1 sharper, T > 1 more random); --greedy takes\n" +
			"the most probable character, --top-k K draws among the K most probable. The same --seed gives\n" +
			"the same text. --temperatures 0.2,0.5,1.0 writes one sample per temperature, one after another,\n" +
			"each from the same seed text and --seed, as the book compares them.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "char-LSTM .onnx file exported by gendl-train (default: the embedded model trained on Newton's Opticks)"},
			&cli.StringFlag{Name: "seed-text", Usage: "text that primes the model (default: a few words made of the vocabulary)"},
			&cli.IntFlag{Name: "length", Value: 400, Usage: "characters to generate"},
			&cli.Float64Flag{Name: "temperature", Value: 0.5, Usage: "sampling temperature, > 0"},
			&cli.StringFlag{Name: "temperatures", Usage: "comma-separated temperatures to compare, e.g. 0.2,0.5,1.0 (overrides --temperature)"},
			&cli.BoolFlag{Name: "greedy", Usage: "always take the most probable character (ignores temperatures)"},
			&cli.IntFlag{Name: "top-k", Usage: "draw only among the K most probable characters (0: all)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed"},
			&cli.IntFlag{Name: "threads", Value: 1, Usage: "threads the ops may use"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("sample text: unexpected argument %q", c.Args().First())
			}
			return sampleText(c)
		},
	}
}

// textRun is one sample to write: its options and, with several, its header.
type textRun struct {
	label string
	opt   sample.Options
}

func sampleText(c *cli.Context) error {
	runs, err := textRuns(c)
	if err != nil {
		return err
	}
	if c.Int("length") < 0 {
		return fmt.Errorf("sample text: --length %d: want >= 0", c.Int("length"))
	}
	path := c.String("model")
	var m *charlstm.Model
	if path == "" {
		m, err = charlstm.Default()
		path = charlstm.DefaultName
	} else {
		m, err = charlstm.LoadFile(path)
	}
	if err != nil {
		return fmt.Errorf("sample text: %w", err)
	}
	seedText := c.String("seed-text")
	if !c.IsSet("seed-text") {
		seedText = defaultSeedText(m.Vocab)
	}
	seed, err := m.Vocab.Encode(seedText)
	if err != nil {
		return fmt.Errorf("sample text: --seed-text: %w", err)
	}
	if len(seed) == 0 {
		return fmt.Errorf("sample text: --seed-text is empty: the model needs at least one character to start from")
	}
	plan, err := engine.New(m.Proto, engine.Options{BaseDir: baseDir(c.String("model"))})
	if err != nil {
		return fmt.Errorf("sample text: %s: %w", path, err)
	}
	s, err := sample.New(plan.NewSession(engine.SessionOptions{Threads: c.Int("threads")}), m.Config.SampleSpec(), c.Uint64("seed"))
	if err != nil {
		return err
	}
	w := c.App.Writer
	vocab := m.Vocab.Runes()
	for i, r := range runs {
		if len(runs) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "--- %s\n", r.label)
		}
		s.Seed(c.Uint64("seed"))
		if _, err := io.WriteString(w, m.Vocab.Normalize(seedText)); err != nil {
			return err
		}
		if err := s.WriteText(w, vocab, seed, c.Int("length"), r.opt); err != nil {
			return fmt.Errorf("sample text: %w", err)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// textRuns turns the flags into the samples to write, checking temperatures and top-k before
// any model is read.
func textRuns(c *cli.Context) ([]textRun, error) {
	topK := c.Int("top-k")
	if topK < 0 {
		return nil, fmt.Errorf("sample text: --top-k %d: want >= 0 (0: no limit)", topK)
	}
	if c.Bool("greedy") {
		return []textRun{{label: "greedy", opt: sample.Options{Greedy: true}}}, nil
	}
	temps := []float64{c.Float64("temperature")}
	if list := c.String("temperatures"); list != "" {
		temps = temps[:0]
		for _, f := range strings.Split(list, ",") {
			t, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("sample text: --temperatures: %q is not a number", strings.TrimSpace(f))
			}
			temps = append(temps, t)
		}
	}
	var runs []textRun
	for _, t := range temps {
		if !(t > 0) || math.IsInf(t, 1) {
			return nil, fmt.Errorf("sample text: temperature %v: want a finite number > 0 (use --greedy for the most probable character)", t)
		}
		runs = append(runs, textRun{label: fmt.Sprintf("temperature %g", t), opt: sample.Options{Temperature: t, TopK: topK}})
	}
	return runs, nil
}

// defaultSeedText returns the first of a few English openings that the vocabulary can
// encode, else its first letter, else its first rune.
func defaultSeedText(v *charlstm.Vocab) string {
	for _, s := range []string{"The light ", "the light ", "The ", "the ", "a ", "e"} {
		if _, err := v.Encode(s); err == nil {
			return s
		}
	}
	for _, r := range v.Runes() {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return string(r)
		}
	}
	return string(v.Rune(0))
}

// baseDir is where a model file's external data may live: its directory, or nowhere for the
// embedded model.
func baseDir(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Dir(path)
}
