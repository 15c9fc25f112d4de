package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/vae"
)

func vaeCommand() *cli.Command {
	d := vae.Defaults()
	return &cli.Command{
		Name:  "vae",
		Usage: "train the book's convolutional VAE on images and export its encoder and decoder to ONNX",
		Description: "Trains keras-io's convolutional VAE (the book's architecture) on --dataset: mnist, fashion-mnist\n" +
			"or a folder of images. Reports the training loss and the test set's negative ELBO in nats per\n" +
			"image after every epoch, writes checkpoints, metrics.jsonl, loss.png and a picture of test\n" +
			"images, their reconstructions and prior samples (samples-epoch-NNN.png) to --checkpoint-dir,\n" +
			"and exports --out/encoder.onnx and --out/decoder.onnx for `gendl sample vae`.\n" +
			"With --resume it continues the latest checkpoint exactly, with the stored settings\n" +
			"(only --epochs, --out, --checkpoint-dir, --data-dir and the reporting flags are taken from the command line).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Value: d.Dataset, Usage: "mnist, fashion-mnist, or a folder of images"},
			&cli.StringFlag{Name: "data-dir", Usage: "directory of the MNIST or Fashion-MNIST IDX files (default: located automatically)"},
			&cli.IntFlag{Name: "image-size", Usage: "folder datasets: resize images to this height and width (default 28)"},
			&cli.IntFlag{Name: "channels", Usage: "folder datasets: 1 (grayscale, default) or 3 (RGB)"},
			&cli.IntFlag{Name: "limit", Usage: "use at most N training images (0: all)"},
			&cli.IntFlag{Name: "test-limit", Usage: "use at most N test images (0: all)"},
			&cli.StringFlag{Name: "out", Value: "vae", Usage: "directory receiving encoder.onnx and decoder.onnx"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "epochs to train (in total, when resuming)"},
			&cli.IntFlag{Name: "latent-dim", Value: d.LatentDim, Usage: "size of the latent space"},
			&cli.StringFlag{Name: "filters", Value: joinInts(d.Filters), Usage: "comma-separated filters of the encoder's stride-2 convolutions (the decoder mirrors them)"},
			&cli.IntFlag{Name: "hidden", Value: d.Hidden, Usage: "units of the encoder's dense layer"},
			&cli.IntFlag{Name: "kernel", Value: d.Kernel, Usage: "kernel size of every convolution"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "images per batch"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "adam or rmsprop"},
			&cli.Float64Flag{Name: "clip", Value: d.Clip, Usage: "gradient global-norm limit (0: off)"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (initialisation, batch order, noise)"},
			&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints, metrics.jsonl, loss.png, sample pictures (default: --out/train)"},
			&cli.IntFlag{Name: "checkpoint-every", Usage: "also checkpoint every N steps (0: per epoch only)"},
			&cli.IntFlag{Name: "keep", Value: d.KeepLast, Usage: "step checkpoints kept, besides best.ckpt"},
			&cli.BoolFlag{Name: "resume", Usage: "continue from the latest checkpoint in --checkpoint-dir"},
			&cli.Int64Flag{Name: "max-steps", Usage: "stop after N optimizer steps in total (0: no limit)"},
			&cli.BoolFlag{Name: "plot", Value: d.Plot, Usage: "redraw loss.png after every epoch (--plot=false: off)"},
			&cli.BoolFlag{Name: "samples", Value: d.Samples, Usage: "write samples-epoch-NNN.png after every epoch (--samples=false: off)"},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (a bar with ETA on a terminal, plain lines otherwise), bar, lines or off"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("vae: unexpected argument %q", c.Args().First())
			}
			filters, err := parseInts(c.String("filters"))
			if err != nil {
				return fmt.Errorf("vae: --filters: %w", err)
			}
			progress := c.String("progress")
			if progress == "auto" {
				progress = loop.ProgressAuto
			}
			return vae.Train(vae.Config{
				Dataset: c.String("dataset"), DataDir: c.String("data-dir"), ImageSize: c.Int("image-size"),
				Channels: c.Int("channels"), Limit: c.Int("limit"), TestLimit: c.Int("test-limit"),
				LatentDim: c.Int("latent-dim"), Filters: filters, Hidden: c.Int("hidden"), Kernel: c.Int("kernel"),
				Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"), Optimizer: c.String("optimizer"),
				Clip: c.Float64("clip"), Seed: c.Uint64("seed"), Out: c.String("out"),
				CheckpointDir: c.String("checkpoint-dir"), CheckpointEvery: c.Int("checkpoint-every"),
				KeepLast: c.Int("keep"), Resume: c.Bool("resume"), MaxSteps: c.Int64("max-steps"),
				Plot: c.Bool("plot"), Samples: c.Bool("samples"), Progress: progress, Log: os.Stderr,
			})
		},
	}
}

// parseInts parses a comma-separated list of integers.
func parseInts(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
