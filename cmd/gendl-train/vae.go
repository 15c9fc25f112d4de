package main

import (
	"os"

	"github.com/urfave/cli/v2"

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
		Flags: concat(imageDataFlags(d.Dataset, "mnist, fashion-mnist, or a folder of images", true), []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "vae", Usage: "directory receiving encoder.onnx and decoder.onnx"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "epochs to train (in total, when resuming)"},
			&cli.IntFlag{Name: "latent-dim", Value: d.LatentDim, Usage: "size of the latent space"},
			&cli.StringFlag{Name: "filters", Value: joinInts(d.Filters), Usage: "comma-separated filters of the encoder's stride-2 convolutions (the decoder mirrors them)"},
			&cli.IntFlag{Name: "hidden", Usage: "units of the encoder's dense layer (0: 16 for a latent of 2 or less, the book's; 256 above)"},
			&cli.IntFlag{Name: "kernel", Value: d.Kernel, Usage: "kernel size of every convolution"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "images per batch"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "adam or rmsprop"},
			&cli.Float64Flag{Name: "clip", Value: d.Clip, Usage: "gradient global-norm limit (0: off)"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (initialisation, batch order, noise)"},
			&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints, metrics.jsonl, loss.png, sample pictures (default: --out/train)"},
			&cli.IntFlag{Name: "checkpoint-every", Usage: "also checkpoint every N steps (0: per epoch only)"},
			&cli.IntFlag{Name: "keep", Value: d.KeepLast, Usage: "step checkpoints kept, besides best.ckpt"},
			resumeFlag(),
			&cli.Int64Flag{Name: "max-steps", Usage: "stop after N optimizer steps in total (0: no limit)"},
			&cli.BoolFlag{Name: "plot", Value: d.Plot, Usage: "redraw loss.png after every epoch (--plot=false: off)"},
			&cli.BoolFlag{Name: "samples", Value: d.Samples, Usage: "write samples-epoch-NNN.png after every epoch (--samples=false: off)"},
			progressFlag(),
		}),
		Action: func(c *cli.Context) error {
			if err := noArgs(c, "vae"); err != nil {
				return err
			}
			filters, err := intsFlag(c, "vae", "filters")
			if err != nil {
				return err
			}
			return vae.Train(vae.Config{
				Dataset: c.String("dataset"), DataDir: c.String("data-dir"), ImageSize: c.Int("image-size"),
				Channels: c.Int("channels"), Limit: c.Int("limit"), TestLimit: c.Int("test-limit"),
				LatentDim: c.Int("latent-dim"), Filters: filters, Hidden: c.Int("hidden"), Kernel: c.Int("kernel"),
				Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"), Optimizer: c.String("optimizer"),
				Clip: c.Float64("clip"), Seed: c.Uint64("seed"), Out: c.String("out"),
				CheckpointDir: c.String("checkpoint-dir"), CheckpointEvery: c.Int("checkpoint-every"),
				KeepLast: c.Int("keep"), Resume: c.Bool("resume"), MaxSteps: c.Int64("max-steps"),
				Plot: c.Bool("plot"), Samples: c.Bool("samples"), Progress: progressMode(c), Log: os.Stderr,
			})
		},
	}
}
