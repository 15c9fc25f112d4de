package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/trainer/classifier"
)

func classifierCommand() *cli.Command {
	d := classifier.Defaults()
	return &cli.Command{
		Name:  "classifier",
		Usage: "train a small convolutional image classifier (the scorer of `eval gan`) and export it to ONNX",
		Description: "Trains a classifier on --dataset (mnist, fashion-mnist, or a folder whose subdirectories are the\n" +
			"classes): stride-2 convolutions with ReLU, a dense layer whose output is exported as \"features\"\n" +
			"(for the Fréchet distance), dropout, and a dense layer of logits. Reports the training and test\n" +
			"loss and accuracy after every epoch, writes checkpoints, metrics.jsonl and loss.png to\n" +
			"--checkpoint-dir, and exports --out for `gendl-train eval gan --classifier`.\n" +
			"With --resume it continues the latest checkpoint exactly, with the stored settings.",
		Flags: concat(imageDataFlags(d.Dataset, "mnist, fashion-mnist, or a folder of images (subdirectories are classes)", true), []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "clf.onnx", Usage: "exported classifier"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "epochs to train (in total, when resuming)"},
			&cli.StringFlag{Name: "filters", Value: joinInts(d.Filters), Usage: "comma-separated filters of the stride-2 convolutions"},
			&cli.IntFlag{Name: "kernel", Value: d.Kernel, Usage: "kernel size of every convolution"},
			&cli.IntFlag{Name: "hidden", Value: d.Hidden, Usage: "units of the dense layer (the exported features)"},
			&cli.Float64Flag{Name: "dropout", Value: d.Dropout, Usage: "dropout rate before the last layer"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "images per batch"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "learning rate"},
			&cli.StringFlag{Name: "optimizer", Value: d.Optimizer, Usage: "adam or rmsprop"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (initialisation, batch order, dropout)"},
			&cli.StringFlag{Name: "checkpoint-dir", Usage: "checkpoints, metrics.jsonl, loss.png (default: --out without extension + .train)"},
			&cli.IntFlag{Name: "keep", Value: d.KeepLast, Usage: "step checkpoints kept"},
			resumeFlag(),
			&cli.Int64Flag{Name: "max-steps", Usage: "stop after N optimizer steps in total, without exporting (0: no limit)"},
			&cli.BoolFlag{Name: "plot", Value: d.Plot, Usage: "redraw loss.png after every epoch (--plot=false: off)"},
			progressFlag(),
		}),
		Action: func(c *cli.Context) error {
			if err := noArgs(c, "classifier"); err != nil {
				return err
			}
			filters, err := intsFlag(c, "classifier", "filters")
			if err != nil {
				return err
			}
			return classifier.Train(classifier.Config{
				Dataset: c.String("dataset"), DataDir: c.String("data-dir"), ImageSize: c.Int("image-size"),
				Channels: c.Int("channels"), Limit: c.Int("limit"), TestLimit: c.Int("test-limit"),
				Filters: filters, Kernel: c.Int("kernel"), Hidden: c.Int("hidden"), Dropout: c.Float64("dropout"),
				Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"), Optimizer: c.String("optimizer"),
				Seed: c.Uint64("seed"), Out: c.String("out"), CheckpointDir: c.String("checkpoint-dir"),
				KeepLast: c.Int("keep"), Resume: c.Bool("resume"), MaxSteps: c.Int64("max-steps"),
				Plot: c.Bool("plot"), Progress: progressMode(c), Log: os.Stderr,
			})
		},
	}
}
