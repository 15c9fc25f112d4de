// Command gendl-train is gendl's trainer: it trains models with Gorgonia, checkpoints them
// and exports them to ONNX.
//
//	gendl-train text --corpus book.txt --out lstm.onnx [--epochs N --hidden H ...]
//
// This file only wires flags to the library packages.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/trainer/text"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "gendl-train:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:            "gendl-train",
		Usage:           "train gendl's generative models and export them to ONNX",
		Commands:        []*cli.Command{textCommand(), importCommand(), exportCommand(), vaeCommand(), ganCommand(), classifierCommand(), evalCommand()},
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // main prints the error once
	}
}

func textCommand() *cli.Command {
	d := text.Defaults()
	return &cli.Command{
		Name:  "text",
		Usage: "train a character-level LSTM on a text (the book's text generation) and export it to ONNX",
		Description: "Trains on --corpus (default: the embedded copy of Newton's Opticks) with the book's settings,\n" +
			"reports train and validation loss per epoch in nats and bits per character, writes\n" +
			"checkpoints and metrics.jsonl to --checkpoint-dir, and exports --out for `gendl sample text`.\n" +
			"With --resume it continues the latest checkpoint exactly, with the stored settings: --epochs,\n" +
			"--out, --checkpoint-dir, --max-steps and the reporting flags come from the command line, and\n" +
			"--lr, --clip and --val-step override the stored values when given; the model, data and\n" +
			"batch-order settings cannot change (giving one with another value is an error).\n" +
			"The validation loss is the next-character loss after each validation window (every\n" +
			"--val-step characters), whatever --target, so runs with other --step or --target compare.\n" +
			"After every epoch it prints samples at --sample-temperatures from a seed window of the text\n" +
			"(drawn from --seed), appends them to samples.txt and redraws loss.png in --checkpoint-dir.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "corpus", Usage: "UTF-8 training text (default: the embedded Opticks)"},
			&cli.StringFlag{Name: "out", Value: "lstm.onnx", Usage: "exported ONNX model"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "epochs to train (in total, when resuming)"},
			&cli.IntFlag{Name: "maxlen", Value: d.MaxLen, Usage: "window length in characters"},
			&cli.IntFlag{Name: "step", Value: d.Step, Usage: "stride between windows"},
			&cli.IntFlag{Name: "hidden", Value: d.Hidden, Usage: "LSTM units per layer"},
			&cli.IntFlag{Name: "layers", Value: d.Layers, Usage: "stacked LSTM layers"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "windows per batch"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "rmsprop or adam"},
			&cli.Float64Flag{Name: "clip", Value: d.Clip, Usage: "gradient global-norm limit (0: off)"},
			&cli.StringFlag{Name: "target", Value: d.Target, Usage: "next (window -> next char) or shifted (window -> window shifted by one)"},
			&cli.BoolFlag{Name: "lowercase", Usage: "lower-case the text first"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (initialisation and batch order)"},
			&cli.Float64Flag{Name: "val-frac", Value: d.ValFrac, Usage: "fraction of the text, from its end, held out for validation"},
			&cli.IntFlag{Name: "val-step", Value: d.ValStep, Usage: "stride between validation windows (0: --step)"},
			&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints and metrics.jsonl (default: --out without extension + .train)"},
			&cli.IntFlag{Name: "checkpoint-every", Usage: "also checkpoint every N steps (0: per epoch only)"},
			&cli.IntFlag{Name: "keep", Value: d.KeepLast, Usage: "step checkpoints kept, besides best.ckpt"},
			resumeFlag(),
			&cli.Int64Flag{Name: "max-steps", Usage: "stop after N optimizer steps in total (0: no limit)"},
			&cli.IntFlag{Name: "sample-length", Value: d.SampleLength, Usage: "characters sampled per temperature after every epoch, into the log and samples.txt (0: no samples)"},
			&cli.StringFlag{Name: "sample-temperatures", Value: formatFloats(d.SampleTemperatures), Usage: "comma-separated temperatures of those samples"},
			&cli.BoolFlag{Name: "plot", Value: d.Plot, Usage: "draw the loss curve, loss.png, beside metrics.jsonl after every epoch (--plot=false: off)"},
			progressFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c, "text"); err != nil {
				return err
			}
			temps, err := parseFloats(c.String("sample-temperatures"))
			if err != nil {
				return fmt.Errorf("text: --sample-temperatures: %w", err)
			}
			return text.Train(text.Config{
				Corpus: c.String("corpus"), Out: c.String("out"), Epochs: c.Int("epochs"),
				MaxLen: c.Int("maxlen"), Step: c.Int("step"), Hidden: c.Int("hidden"),
				Layers: c.Int("layers"), Batch: c.Int("batch"), LR: c.Float64("lr"),
				Optimizer: c.String("optimizer"), Clip: c.Float64("clip"), Target: c.String("target"),
				Lowercase: c.Bool("lowercase"), Seed: c.Uint64("seed"), ValFrac: c.Float64("val-frac"), ValStep: c.Int("val-step"),
				CheckpointDir: c.String("checkpoint-dir"), CheckpointEvery: c.Int("checkpoint-every"),
				KeepLast: c.Int("keep"), Resume: c.Bool("resume"), MaxSteps: c.Int64("max-steps"),
				SampleLength: c.Int("sample-length"), SampleTemperatures: temps, Plot: c.Bool("plot"),
				Progress: progressMode(c), Log: os.Stderr, Explicit: explicitFlags(c),
			})
		},
	}
}

// explicitFlags returns the names of the flags given on the command line.
func explicitFlags(c *cli.Context) map[string]bool {
	set := map[string]bool{}
	for _, name := range c.FlagNames() {
		if c.IsSet(name) {
			set[name] = true
		}
	}
	return set
}

// parseFloats parses a comma-separated list of numbers ("" is none).
func parseFloats(list string) ([]float64, error) {
	var out []float64
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	return out, nil
}

func formatFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}
