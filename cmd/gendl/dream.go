package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/dream"
)

// dreamCommand is `gendl dream`.
func dreamCommand() *cli.Command {
	def := dream.Defaults()
	return &cli.Command{
		Name:      "dream",
		Usage:     "DeepDream an image through a network (InceptionV3 from scripts/fetch-inception.sh)",
		ArgsUsage: "IMAGE",
		Description: "Gradient ascent on the image to maximise the activations of --layers, as Deep Learning with\n" +
			"Python (8.2) does: the loss is the weighted mean of squared activations (a --border of 2 pixels left\n" +
			"out), steps of --step on the gradient normalised by its mean absolute value, --iterations per\n" +
			"octave, an octave ends when the loss exceeds --max-loss, --octaves sizes each --octave-scale\n" +
			"times the last, and the detail lost by shrinking is re-injected after each. Images larger than\n" +
			"--tile-size are processed in tiles at a random shift per step (--seed), so memory stays bounded;\n" +
			"a run that would need more than --max-memory is refused before it starts.\n" +
			"The model needs one input [N, 3, H, W]; its range comes from the model's metadata (--input-range).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "ONNX network, e.g. the InceptionV3 that scripts/fetch-inception.sh writes (.models/inception_v3.onnx)"},
			&cli.StringFlag{Name: "out", Value: "dream.png", Usage: "output image: .png or .jpg"},
			&cli.StringFlag{Name: "layers", Value: dream.FormatLayers(def.Layers), Usage: "layers and their weights in the loss, name=weight,..."},
			&cli.Float64Flag{Name: "step", Value: def.Step, Usage: "gradient-ascent step"},
			&cli.IntFlag{Name: "iterations", Value: def.Iterations, Usage: "ascent steps per octave"},
			&cli.Float64Flag{Name: "max-loss", Value: def.MaxLoss, Usage: "end an octave when the loss exceeds this (0: never)"},
			&cli.IntFlag{Name: "octaves", Value: def.Octaves, Usage: "number of scales"},
			&cli.Float64Flag{Name: "octave-scale", Value: def.OctaveScale, Usage: "size ratio between successive octaves"},
			&cli.IntFlag{Name: "border", Value: def.Border, Usage: "activation pixels on each side left out of the loss"},
			&cli.IntFlag{Name: "tile-size", Value: def.TileSize, Usage: "process octaves larger than this in tiles of at most this many pixels a side (0: whole)"},
			&cli.StringFlag{Name: "size", Usage: "resize the input first: HEIGHT (keeping the aspect ratio) or WIDTHxHEIGHT"},
			&cli.StringFlag{Name: "input-range", Value: "auto", Usage: "value range the model expects: auto (from its metadata), -1,1, 0,1 or 0,255"},
			&cli.StringFlag{Name: "max-memory", Value: "4GiB", Usage: "refuse runs estimated to need more memory than this"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "random seed of the tile shifts"},
			&cli.IntFlag{Name: "threads", Value: runtime.NumCPU(), Usage: "threads the network uses (the default is the number of cores)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("dream: want one image argument, got %d (gendl dream IMAGE --model inception_v3.onnx --out dream.png)", c.NArg())
			}
			return runDream(c, c.Args().First())
		},
	}
}

func runDream(c *cli.Context, in string) error {
	opt := dream.Defaults()
	var err error
	if opt.Layers, err = dream.ParseLayers(c.String("layers")); err != nil {
		return fmt.Errorf("dream: --layers: %w", err)
	}
	opt.Step, opt.Iterations, opt.MaxLoss = c.Float64("step"), c.Int("iterations"), c.Float64("max-loss")
	opt.Octaves, opt.OctaveScale, opt.Border = c.Int("octaves"), c.Float64("octave-scale"), c.Int("border")
	opt.TileSize, opt.Seed, opt.Threads = c.Int("tile-size"), c.Uint64("seed"), c.Int("threads")
	if opt.Threads < 1 {
		return fmt.Errorf("dream: --threads %d: want at least 1", opt.Threads)
	}
	if opt.MaxMemory, err = parseBytes(c.String("max-memory")); err != nil {
		return fmt.Errorf("dream: --max-memory: %w", err)
	}
	out := c.String("out")
	switch strings.ToLower(filepath.Ext(out)) {
	case ".png", ".jpg", ".jpeg":
	default:
		return fmt.Errorf("dream: --out %q: want a .png or .jpg file", out)
	}
	modelPath := c.String("model")
	if modelPath == "" {
		return errors.New("dream: --model is required: an ONNX network such as the InceptionV3 that scripts/fetch-inception.sh writes (.models/inception_v3.onnx)")
	}
	img, err := imaging.DecodeFile(in)
	if err != nil {
		return fmt.Errorf("dream: %w", err)
	}
	if s := c.String("size"); s != "" {
		w, h, err := parseSize(s, img.Bounds())
		if err != nil {
			return fmt.Errorf("dream: --size: %w", err)
		}
		if img, err = imaging.Resize(img, w, h, imaging.CatmullRom); err != nil {
			return fmt.Errorf("dream: --size: %w", err)
		}
	}
	m, err := dream.LoadModel(modelPath)
	if err != nil {
		return err
	}
	if r := c.String("input-range"); r != "auto" {
		if m.Range, err = dream.ParseRange(r); err != nil {
			return fmt.Errorf("dream: --input-range: %w", err)
		}
	} else if m.RangeErr != nil {
		return m.RangeErr
	}
	w := c.App.Writer
	prog, finish := dreamProgress(c.App.ErrWriter)
	opt.Progress = prog
	d, err := dream.New(m, opt)
	if err != nil {
		return err
	}
	x, err := imaging.ToTensor([]image.Image{img}, 3, m.Range)
	if err != nil {
		return fmt.Errorf("dream: %w", err)
	}
	b := img.Bounds()
	fmt.Fprintf(w, "dreaming %s (%dx%d) with %s: layers %s, %d octaves x%g, %d iterations, step %g, max loss %g, %d threads\n",
		in, b.Dx(), b.Dy(), modelPath, dream.FormatLayers(opt.Layers), opt.Octaves, opt.OctaveScale, opt.Iterations, opt.Step, opt.MaxLoss, d.Options().Threads)
	start := time.Now()
	y, rep, err := d.Run(x)
	finish()
	if err != nil {
		return err
	}
	for k, o := range rep.Octaves {
		what := o.Size.String()
		if o.Tiles > 1 {
			what += fmt.Sprintf(" (%d tiles of %s)", o.Tiles, o.Tile)
		}
		// Losses are taken before each step, as the book prints them; a loss over the maximum
		// ends the octave without its step.
		n, loss := len(o.Losses), "no steps"
		switch {
		case o.Stopped && n == 1:
			loss = fmt.Sprintf("0 steps: loss %.4g > max loss", o.Losses[0])
		case o.Stopped:
			loss = fmt.Sprintf("%d steps, loss %.4g -> %.4g, then %.4g > max loss", n-1, o.Losses[0], o.Losses[n-2], o.Losses[n-1])
		case n > 0:
			loss = fmt.Sprintf("%d steps, loss %.4g -> %.4g", n, o.Losses[0], o.Losses[n-1])
		}
		fmt.Fprintf(w, "octave %d/%d %s: %s, %.1f s (CPU %.1f s)\n", k+1, len(rep.Octaves), what, loss, o.Duration.Seconds(), o.CPU.Seconds())
	}
	imgs, err := imaging.FromTensor(y, m.Range)
	if err != nil {
		return fmt.Errorf("dream: %w", err)
	}
	if err := imaging.Save(out, imgs[0]); err != nil {
		return fmt.Errorf("dream: %w", err)
	}
	fmt.Fprintf(w, "wrote %s (%dx%d) in %.1f s; estimated peak memory %s\n", out, b.Dx(), b.Dy(), time.Since(start).Seconds(), dream.FormatBytes(rep.Memory))
	return nil
}

// dreamProgress returns the progress callback and a function that ends it: a bar over all
// loss evaluations (octave, iteration and loss in its description) when w is a terminal,
// otherwise one line per evaluation, as the book prints its losses.
func dreamProgress(w io.Writer) (func(dream.Progress), func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(p dream.Progress) {
				if bar == nil {
					bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
						progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
						progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
				}
				bar.Describe(fmt.Sprintf("octave %d/%d %s iteration %d/%d loss %.4g", p.Octave, p.Octaves, p.Size, p.Iteration, p.Iterations, p.Loss))
				_ = bar.Set(p.Done)
			}, func() {
				if bar != nil {
					_ = bar.Finish()
				}
			}
	}
	return func(p dream.Progress) {
		stop := ""
		if p.Stopped {
			stop = " > max loss: next octave"
		}
		fmt.Fprintf(w, "octave %d/%d %s iteration %d/%d loss %.4g%s (%.1f s)\n", p.Octave, p.Octaves, p.Size, p.Iteration, p.Iterations, p.Loss, stop, p.Elapsed.Seconds())
	}, func() {}
}

// parseSize reads --size: "H" (the width follows the aspect ratio of b) or "WxH".
func parseSize(s string, b image.Rectangle) (w, h int, err error) {
	if ws, hs, ok := strings.Cut(strings.ToLower(s), "x"); ok {
		w, err1 := strconv.Atoi(ws)
		h, err2 := strconv.Atoi(hs)
		if err1 != nil || err2 != nil || w < 1 || h < 1 {
			return 0, 0, fmt.Errorf("%q: want HEIGHT or WIDTHxHEIGHT in pixels", s)
		}
		return w, h, nil
	}
	h, err = strconv.Atoi(s)
	if err != nil || h < 1 {
		return 0, 0, fmt.Errorf("%q: want HEIGHT or WIDTHxHEIGHT in pixels", s)
	}
	w = max(1, int(float64(b.Dx())*float64(h)/float64(b.Dy())+0.5))
	return w, h, nil
}

// parseBytes reads "4GiB", "512MiB", "2G", "1048576".
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q: want a size such as 4GiB or 512MiB", s)
	}
	return int64(v * float64(mult)), nil
}
