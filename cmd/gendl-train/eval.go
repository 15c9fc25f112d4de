package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/trainer/gan"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:            "eval",
		Usage:           "evaluate trained models",
		HideHelpCommand: true,
		Subcommands:     []*cli.Command{evalGANCommand()},
	}
}

func evalGANCommand() *cli.Command {
	return &cli.Command{
		Name:  "gan",
		Usage: "score an image generator with a classifier: inception score and Fréchet distance",
		Description: "Draws --samples latent points from N(0, I) with --seed, generates images with --model (a DCGAN\n" +
			"generator, or a VAE decoder), classifies them with --classifier (from `gendl-train classifier`)\n" +
			"and reports the classifier inception score exp(E KL(p(y|x) || p(y))) as mean ± std over --splits\n" +
			"splits, and the Fréchet distance between the classifier's penultimate features of the generated\n" +
			"images and of the real --dataset test set, whose own inception score is reported beside it\n" +
			"(--dataset none: no real set). Both models run in gendl's ONNX runtime.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "generator .onnx (required)"},
			&cli.StringFlag{Name: "classifier", Usage: "classifier .onnx (required)"},
			&cli.IntFlag{Name: "samples", Value: 10000, Usage: "generated images to score"},
			&cli.IntFlag{Name: "splits", Value: 10, Usage: "splits of the inception score"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed of the latent points"},
			&cli.StringFlag{Name: "dataset", Value: datasets.MNIST, Usage: "real images (test split) for the Fréchet distance: mnist, fashion-mnist, a folder, or none"},
			&cli.StringFlag{Name: "data-dir", Usage: "directory of the MNIST or Fashion-MNIST IDX files (default: located automatically)"},
			&cli.IntFlag{Name: "real-limit", Usage: "use at most N real images (0: all)"},
			&cli.StringFlag{Name: "json", Usage: "also write the report as JSON to this file"},
			&cli.IntFlag{Name: "threads", Usage: "threads the ops may use (0: all cores)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("eval gan: unexpected argument %q", c.Args().First())
			}
			if c.String("model") == "" || c.String("classifier") == "" {
				return fmt.Errorf("eval gan: --model and --classifier are required")
			}
			g, err := imagegen.LoadFile(c.String("model"))
			if err != nil {
				return fmt.Errorf("eval gan: %w", err)
			}
			clf, err := imagegen.LoadFile(c.String("classifier"))
			if err != nil {
				return fmt.Errorf("eval gan: %w", err)
			}
			opt := gan.EvalOptions{Samples: c.Int("samples"), Splits: c.Int("splits"), Seed: c.Uint64("seed"), Threads: c.Int("threads")}
			if opt.Samples < 1 || opt.Splits < 1 {
				return fmt.Errorf("eval gan: --samples %d and --splits %d must be positive", opt.Samples, opt.Splits)
			}
			if ds := c.String("dataset"); ds != "none" {
				i := clf.Info
				real, err := datasets.Load(ds, datasets.Test, datasets.Options{MNISTDir: c.String("data-dir"), Limit: c.Int("real-limit"),
					Height: i.H, Width: i.W, Channels: i.C})
				if err != nil {
					return fmt.Errorf("eval gan: %w", err)
				}
				opt.Real = real
			}
			rep, err := gan.Evaluate(g, clf, opt)
			if err != nil {
				return fmt.Errorf("eval gan: %w", err)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "model %s: classifier inception score %.3f ± %.3f (%d images, %d splits)", c.String("model"), rep.Model.IS, rep.Model.ISStd, rep.Model.Images, opt.Splits)
			if rep.Model.FID != nil {
				fmt.Fprintf(w, ", Fréchet distance %.3f to the real set", *rep.Model.FID)
			}
			fmt.Fprintf(w, "\n  classes: %s\n", fractions(rep.Model.ClassFractions, clf.Info.Classes))
			if rep.Real != nil {
				fmt.Fprintf(w, "real %s test set: classifier inception score %.3f ± %.3f (%d images)\n  classes: %s\n", opt.Real.Name,
					rep.Real.IS, rep.Real.ISStd, rep.Real.Images, fractions(rep.Real.ClassFractions, clf.Info.Classes))
			}
			if path := c.String("json"); path != "" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return fmt.Errorf("eval gan: %w", err)
				}
				if err := onnx.WriteFileAtomic(path, append(b, '\n')); err != nil {
					return fmt.Errorf("eval gan: %w", err)
				}
			}
			return nil
		},
	}
}

// fractions formats class shares as "0 9.8%, 1 11.2%, ...".
func fractions(f []float64, names []string) string {
	parts := make([]string, len(f))
	for i, v := range f {
		name := fmt.Sprint(i)
		if i < len(names) {
			name = names[i]
		}
		parts[i] = fmt.Sprintf("%s %.1f%%", name, 100*v)
	}
	return strings.Join(parts, ", ")
}
