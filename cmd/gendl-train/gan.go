package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/trainer/gan"
)

func ganCommand() *cli.Command {
	d := gan.Defaults()
	return &cli.Command{
		Name:  "gan",
		Usage: "train the book's DCGAN on images and export its generator to ONNX",
		Description: "Trains a DCGAN with the book's bag of tricks on --dataset (mnist, fashion-mnist or a folder of\n" +
			"images): strided convolutions, kernels divisible by strides, LeakyReLU, dropout in the\n" +
			"discriminator, tanh output, normal latent points, noise on the discriminator's targets, and\n" +
			"alternating steps (the discriminator on fakes + reals, then the generator through the frozen\n" +
			"discriminator with \"real\" targets). RMSprop with the book's rates by default; --optimizer adam\n" +
			"uses 2e-4 and beta1 0.5 unless --d-lr/--g-lr/--beta1 say otherwise.\n" +
			"Writes a grid of images from fixed noise every --sample-every steps, metrics.jsonl, loss.png,\n" +
			"checkpoints and, at the end, progress.gif to --checkpoint-dir, and exports the generator to --out\n" +
			"for `gendl sample gan`. With --classifier (from `gendl-train classifier`) it scores the generator\n" +
			"every --eval-every steps (classifier inception score) and keeps the best one as best.onnx.\n" +
			"With --resume it continues the latest checkpoint exactly, with the stored settings (only --steps,\n" +
			"--out, --checkpoint-dir, --data-dir, the evaluation and the reporting flags come from the command line).",
		Flags: concat(imageDataFlags(d.Dataset, "mnist, fashion-mnist, or a folder of images", false), []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "gan.onnx", Usage: "exported generator"},
			&cli.Int64Flag{Name: "steps", Value: d.Steps, Usage: "training steps (in total, when resuming)"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "real images per step (the discriminator sees as many fakes)"},
			&cli.IntFlag{Name: "latent-dim", Value: d.LatentDim, Usage: "size of the latent space"},
			&cli.IntFlag{Name: "gen-base", Value: d.GenBase, Usage: "channels of the generator's first feature map"},
			&cli.StringFlag{Name: "gen-filters", Value: joinInts(d.GenFilters), Usage: "comma-separated filters of the generator's stride-2 transposed convolutions"},
			&cli.StringFlag{Name: "disc-filters", Value: joinInts(d.DiscFilters), Usage: "comma-separated filters of the discriminator's stride-2 convolutions"},
			&cli.IntFlag{Name: "kernel", Value: d.Kernel, Usage: "kernel size of the strided layers (a multiple of 2)"},
			&cli.IntFlag{Name: "out-kernel", Value: d.OutKernel, Usage: "kernel size of the generator's output convolution"},
			&cli.Float64Flag{Name: "alpha", Value: d.Alpha, Usage: "LeakyReLU slope"},
			&cli.Float64Flag{Name: "dropout", Value: d.Dropout, Usage: "discriminator dropout rate"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "rmsprop (the book) or adam"},
			&cli.Float64Flag{Name: "d-lr", Usage: "discriminator learning rate (0: rmsprop 8e-4, adam 2e-4)"},
			&cli.Float64Flag{Name: "g-lr", Usage: "generator (GAN) learning rate (0: rmsprop 4e-4, adam 2e-4)"},
			&cli.Float64Flag{Name: "beta1", Usage: "Adam's beta1 (0: 0.5)"},
			&cli.Float64Flag{Name: "clip", Value: d.Clip, Usage: "clip every gradient element to [-clip, clip] (Keras clipvalue; 0: off)"},
			&cli.Float64Flag{Name: "label-noise", Value: d.LabelNoise, Usage: "uniform noise amplitude on the discriminator's targets"},
			&cli.BoolFlag{Name: "gen-batchnorm", Usage: "batch normalisation before the generator's LeakyReLUs (the DCGAN paper's; folded into the exported weights)"},
			&cli.Float64Flag{Name: "ema", Value: d.EMA, Usage: "decay of the moving average of the generator's weights that is exported, sampled and scored (0: off, the book)"},
			&cli.Float64Flag{Name: "lr-decay", Usage: "fraction of --steps at the end over which both learning rates fall linearly to 0 (0: constant)"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (initialisation, data order, noise)"},
			&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints, metrics.jsonl, loss.png, sample grids (default: --out without extension + .train)"},
			&cli.IntFlag{Name: "checkpoint-every", Value: 1000, Usage: "steps between checkpoints"},
			&cli.IntFlag{Name: "keep", Value: d.KeepLast, Usage: "step checkpoints kept"},
			resumeFlag(),
			&cli.DurationFlag{Name: "time-limit", Usage: "stop after this much training time (e.g. 1h), scoring, checkpointing and exporting as at the last step (0: none)"},
			&cli.Int64Flag{Name: "max-steps", Usage: "stop this process after N steps in total, without exporting (0: --steps)"},
			&cli.IntFlag{Name: "sample-every", Value: d.SampleEvery, Usage: "steps between sample grids (0: only at the end)"},
			&cli.IntFlag{Name: "samples", Value: d.SampleCount, Usage: "images per sample grid (0: no grids)"},
			&cli.IntFlag{Name: "log-every", Value: d.LogEvery, Usage: "steps per metrics.jsonl line"},
			&cli.StringFlag{Name: "classifier", Usage: "classifier .onnx for the inception score during training (from gendl-train classifier)"},
			&cli.IntFlag{Name: "eval-every", Usage: "steps between inception scores (0: only at the end)"},
			&cli.IntFlag{Name: "eval-samples", Value: d.EvalSamples, Usage: "generated images per inception score during training (in splits of 1,000)"},
			&cli.BoolFlag{Name: "plot", Value: d.Plot, Usage: "redraw loss.png at every metrics line (--plot=false: off)"},
			progressFlag(),
		}),
		Action: func(c *cli.Context) error {
			if err := noArgs(c, "gan"); err != nil {
				return err
			}
			gf, err := intsFlag(c, "gan", "gen-filters")
			if err != nil {
				return err
			}
			df, err := intsFlag(c, "gan", "disc-filters")
			if err != nil {
				return err
			}
			return gan.Train(gan.Config{
				Dataset: c.String("dataset"), DataDir: c.String("data-dir"), ImageSize: c.Int("image-size"),
				Channels: c.Int("channels"), Limit: c.Int("limit"),
				LatentDim: c.Int("latent-dim"), GenBase: c.Int("gen-base"), GenFilters: gf, DiscFilters: df,
				Kernel: c.Int("kernel"), OutKernel: c.Int("out-kernel"), Alpha: c.Float64("alpha"), Dropout: c.Float64("dropout"),
				Steps: c.Int64("steps"), Batch: c.Int("batch"), Optimizer: c.String("optimizer"),
				DLR: c.Float64("d-lr"), GLR: c.Float64("g-lr"), Beta1: c.Float64("beta1"), Clip: c.Float64("clip"),
				LabelNoise: c.Float64("label-noise"), EMA: c.Float64("ema"), LRDecay: c.Float64("lr-decay"), GenBatchNorm: c.Bool("gen-batchnorm"), Seed: c.Uint64("seed"), Out: c.String("out"),
				CheckpointDir: c.String("checkpoint-dir"), CheckpointEvery: c.Int("checkpoint-every"),
				KeepLast: c.Int("keep"), Resume: c.Bool("resume"), MaxSteps: c.Int64("max-steps"), TimeLimit: c.Duration("time-limit"),
				SampleEvery: c.Int("sample-every"), SampleCount: c.Int("samples"), LogEvery: c.Int("log-every"),
				Classifier: c.String("classifier"), EvalEvery: c.Int("eval-every"), EvalSamples: c.Int("eval-samples"),
				Plot: c.Bool("plot"), Progress: progressMode(c), Log: os.Stderr,
			})
		},
	}
}
