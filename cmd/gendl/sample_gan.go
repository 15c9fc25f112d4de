package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/latent"
)

// defaultGAN supplies the embedded default DCGAN generator when --model is not given (nil:
// none; tests may swap it).
var defaultGAN = dcgan.Default

// sampleGANCommand is `gendl sample gan`.
func sampleGANCommand() *cli.Command {
	return &cli.Command{
		Name:  "gan",
		Usage: "draw images from a DCGAN generator: a grid of samples, or a walk through its latent space",
		Description: "Runs a DCGAN generator exported by gendl-train (gendl.model=dcgan-generator): latent points\n" +
			"are drawn from N(0, I) with --seed (the same seed gives the same images), decoded, and written\n" +
			"as a grid of --n images, or with --interpolate as a walk through --points random points (slerp by\n" +
			"default, as White 2016 recommends for Gaussian latents), an animated GIF or, for .png/.jpg,\n" +
			"a strip of the frames. --loop returns to the first point, so the GIF repeats seamlessly.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "DCGAN generator .onnx" + defaultNote(defaultGAN != nil)},
			&cli.StringFlag{Name: "out", Usage: "output file: .png or .jpg; a walk may also be .gif (default: " + defaultSamples + ", or " + defaultWalk + " with --interpolate)"},
			&cli.IntFlag{Name: "n", Value: 64, Usage: "number of samples in the grid"},
			&cli.IntFlag{Name: "cols", Usage: "grid columns (0: square; a .png walk: one row)"},
			&cli.BoolFlag{Name: "interpolate", Usage: "write a walk between random latent points instead of a grid"},
			&cli.IntFlag{Name: "points", Value: 2, Usage: "walk: random latent points to pass through"},
			&cli.IntFlag{Name: "frames", Value: 24, Usage: "walk: number of frames"},
			&cli.StringFlag{Name: "interpolation", Value: "slerp", Usage: "walk: slerp or linear"},
			&cli.BoolFlag{Name: "loop", Usage: "walk: return to the first point (a seamless loop)"},
			&cli.IntFlag{Name: "delay", Value: 8, Usage: "GIF frame time in 1/100 s"},
			&cli.IntFlag{Name: "pad", Value: 2, Usage: "pixels between tiles"},
			&cli.IntFlag{Name: "zoom", Usage: "enlarge each image this many times, nearest-neighbour (0: 1 for pictures, to >= 128 px for GIFs)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed of the latent points"},
			&cli.IntFlag{Name: "threads", Value: 1, Usage: "threads the ops may use"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("sample gan: unexpected argument %q", c.Args().First())
			}
			return sampleGAN(c)
		},
	}
}

func sampleGAN(c *cli.Context) error {
	walk := c.Bool("interpolate")
	out := c.String("out")
	if out == "" {
		out = defaultSamples
		if walk {
			out = defaultWalk
		}
	}
	if err := checkOut(out, walk); err != nil {
		return fmt.Errorf("sample gan: %w", err)
	}
	n, points, frames := c.Int("n"), c.Int("points"), c.Int("frames")
	if !walk && (n < 1 || n > 1<<16) {
		return fmt.Errorf("sample gan: --n %d: want 1 to 65536 images", n)
	}
	if walk && (points < 2 || points > 1000) {
		return fmt.Errorf("sample gan: --points %d: want 2 to 1000", points)
	}
	if walk && (frames < 2 || frames > 10000) {
		return fmt.Errorf("sample gan: --frames %d: want 2 to 10000", frames)
	}
	method, err := latent.ParseMethod(c.String("interpolation"))
	if err != nil {
		return fmt.Errorf("sample gan: --interpolation: %w", err)
	}
	var g *imagegen.Model
	if path := c.String("model"); path != "" {
		if g, err = imagegen.LoadFile(path); err != nil {
			return fmt.Errorf("sample gan: %w", err)
		}
	} else {
		if defaultGAN == nil {
			return errors.New("sample gan: --model is required (the DCGAN generator .onnx that gendl-train gan writes); there is no embedded default GAN yet")
		}
		if g, err = defaultGAN(); err != nil {
			return fmt.Errorf("sample gan: %w", err)
		}
	}
	if err := g.Expect(imagegen.DCGANGenerator); err != nil {
		return fmt.Errorf("sample gan: --model: %w", err)
	}
	s := g.NewSession(c.Int("threads"))
	L, seed := g.Info.LatentDim, c.Uint64("seed")
	if !walk {
		z, err := latent.Normal(n, L, seed)
		if err != nil {
			return fmt.Errorf("sample gan: %w", err)
		}
		imgs, err := s.Images(z)
		if err != nil {
			return fmt.Errorf("sample gan: %w", err)
		}
		return writePicture(c, out, imgs, c.Int("cols"), fmt.Sprintf("%d samples (seed %d)", n, seed))
	}
	keys, err := latent.Normal(points, L, seed)
	if err != nil {
		return fmt.Errorf("sample gan: %w", err)
	}
	pts := make([][]float32, points)
	for i := range pts {
		pts[i] = latent.Row(keys, i)
	}
	loop := c.Bool("loop")
	z, err := latent.Path(pts, frames, method, loop)
	if err != nil {
		return fmt.Errorf("sample gan: %w", err)
	}
	imgs, err := s.Images(z)
	if err != nil {
		return fmt.Errorf("sample gan: %w", err)
	}
	what := fmt.Sprintf("%d-frame %s walk through %d random points (seed %d)", frames, method, points, seed)
	if loop {
		what += ", looped"
	}
	return writeFrames(c, out, imgs, what)
}
