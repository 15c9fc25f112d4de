package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/style"
)

// styleCommand is `gendl style`.
func styleCommand() *cli.Command {
	def, inc := style.DefaultConfig(), style.InceptionConfig()
	return &cli.Command{
		Name:  "style",
		Usage: "neural style transfer: repaint a content image in the style of another, through VGG19 or InceptionV3",
		Description: "The algorithm of Deep Learning with Python (8.3, after Gatys et al. 2015): starting from the\n" +
			"content image (--init), L-BFGS minimises content-weight x the content loss (squared feature\n" +
			"differences at --content-layer) + style-weight x the style loss (squared differences of Gram\n" +
			"matrices at --style-layers, divided by 4 (3 H W)^2 as the book does, averaged over the layers)\n" +
			"+ tv-weight x the total-variation loss, in --rounds restarts of --iterations loss evaluations.\n" +
			"The generated image is --size pixels high, its width keeps the content's aspect ratio; the style\n" +
			"image is resized to the same size. Pixels are RGB in [0, 255], the scale of the book's weights.\n" +
			"\n" +
			"--model is a VGG19 (the ONNX model zoo's vgg19-7.onnx, or a feature extractor from gendl-train\n" +
			"export vgg19; layers by Keras name, defaults content block5_conv2, style block1_conv1..block5_conv1)\n" +
			"or any other network with one image input [N, 3, H, W], such as the InceptionV3 from\n" +
			"scripts/fetch-inception.sh (layers by value name; defaults content " + style.InceptionContent + ", style\n" +
			strings.Join(style.InceptionStyle, ",") + "). A run estimated to need more than --max-memory is refused.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "content", Usage: "content image (PNG, JPEG or GIF) (required)"},
			&cli.StringFlag{Name: "style", Usage: "style image (required)"},
			&cli.StringFlag{Name: "model", Usage: "ONNX network: a VGG19, or the InceptionV3 from scripts/fetch-inception.sh (required)"},
			&cli.StringFlag{Name: "out", Value: "styled.png", Usage: "output image: .png or .jpg"},
			&cli.IntFlag{Name: "size", Value: 400, Usage: "height of the generated image in pixels (0: the content image's)"},
			&cli.Float64Flag{Name: "content-weight", Value: def.ContentWeight, Usage: "weight of the content loss"},
			&cli.Float64Flag{Name: "style-weight", Value: def.StyleWeight, Usage: "weight of the style loss (split evenly over the style layers)",
				DefaultText: fmt.Sprintf("%g; %g for InceptionV3's default layers", def.StyleWeight, inc.StyleWeight)},
			&cli.Float64Flag{Name: "tv-weight", Value: def.TVWeight, Usage: "weight of the total-variation loss"},
			&cli.StringFlag{Name: "style-norm", Value: style.NormBook, Usage: "style-loss normalisation: book (4 (3 H W)^2 for every layer) or layer (4 (C h w)^2 of each layer)"},
			&cli.StringFlag{Name: "content-layer", Usage: "layer of the content loss (default: block5_conv2 for VGG19, " + style.InceptionContent + " for InceptionV3)"},
			&cli.StringFlag{Name: "style-layers", Usage: "comma-separated layers of the style loss (default: block1_conv1,...,block5_conv1 for VGG19, " + strings.Join(style.InceptionStyle, ",") + " for InceptionV3)"},
			&cli.StringFlag{Name: "network", Value: "auto", Usage: "network kind: auto, vgg19 or generic"},
			&cli.StringFlag{Name: "vgg-preprocessing", Value: "auto", Usage: "what a VGG19 file expects: auto (from its names or metadata), torch, caffe, or \"rgb|bgr range=1|255 mean=a,b,c std=a,b,c\""},
			&cli.StringFlag{Name: "input-range", Value: "auto", Usage: "value range a generic network's input expects: auto (from its metadata), -1,1, 0,1 or 0,255"},
			&cli.StringFlag{Name: "optimizer", Value: style.LBFGS, Usage: "lbfgs or adam"},
			&cli.IntFlag{Name: "rounds", Value: 20, Usage: "rounds (L-BFGS restarts; an image can be saved after each)"},
			&cli.IntFlag{Name: "iterations", Value: 20, Usage: "loss evaluations per round (L-BFGS) or steps per round (Adam)"},
			&cli.Float64Flag{Name: "lr", Value: 5, Usage: "Adam's step size, in pixel levels (0-255)"},
			&cli.StringFlag{Name: "init", Value: style.InitContent, Usage: "starting image: content or noise"},
			&cli.IntFlag{Name: "save-every", Usage: "also save the image every N rounds, as OUT with _roundK before the extension (0: only the final image)"},
			&cli.StringFlag{Name: "max-memory", Value: "8GiB", Usage: "refuse runs estimated to need more memory than this (0: no limit); also the Go runtime's soft memory limit"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed (of the noise of --init noise)"},
			&cli.IntFlag{Name: "threads", Value: runtime.NumCPU(), Usage: "threads of the forward and backward passes (the default is the number of cores)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("style: unexpected argument %q (the images are given with --content and --style)", c.Args().First())
			}
			return runStyle(c)
		},
	}
}

func runStyle(c *cli.Context) error {
	// The weights: the network's suggestion (known after reading it), overridden by the flags
	// given; checked here first so that a bad value does not cost reading the model.
	setWeights := func(cfg *style.Config) {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"content-weight", &cfg.ContentWeight}, {"style-weight", &cfg.StyleWeight}, {"tv-weight", &cfg.TVWeight}} {
			if c.IsSet(f.name) {
				*f.v = c.Float64(f.name)
			}
		}
		cfg.StyleNorm, cfg.Threads = c.String("style-norm"), c.Int("threads")
	}
	cfg := style.DefaultConfig()
	setWeights(&cfg)
	if err := cfg.Check(); err != nil {
		return err
	}
	if cfg.Threads < 1 {
		return fmt.Errorf("style: --threads %d: want at least 1", cfg.Threads)
	}
	opt := style.Options{Optimizer: c.String("optimizer"), Rounds: c.Int("rounds"), Iterations: c.Int("iterations"), LR: c.Float64("lr")}
	if opt.Optimizer != style.LBFGS && opt.Optimizer != style.Adam {
		return fmt.Errorf("style: --optimizer %q: want %s or %s", opt.Optimizer, style.LBFGS, style.Adam)
	}
	if opt.Rounds < 1 || opt.Iterations < 1 {
		return fmt.Errorf("style: --rounds %d --iterations %d: want at least 1 each", opt.Rounds, opt.Iterations)
	}
	saveEvery := c.Int("save-every")
	if saveEvery < 0 {
		return fmt.Errorf("style: --save-every %d: want 0 (off) or a number of rounds", saveEvery)
	}
	maxMem, err := style.ParseBytes(c.String("max-memory"))
	if err != nil {
		return fmt.Errorf("style: --max-memory: %w", err)
	}
	init := c.String("init")
	if init != style.InitContent && init != style.InitNoise {
		return fmt.Errorf("style: --init %q: want %s or %s", init, style.InitContent, style.InitNoise)
	}
	out := c.String("out")
	if err := checkOut(out, false); err != nil {
		return fmt.Errorf("style: %w", err)
	}
	contentPath, stylePath, modelPath := c.String("content"), c.String("style"), c.String("model")
	var missing []string
	for _, f := range []struct{ flag, v string }{{"--content", contentPath}, {"--style", stylePath}, {"--model", modelPath}} {
		if f.v == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("style: missing %s (gendl style --content photo.jpg --style painting.jpg --model vgg19-7.onnx --out styled.png)",
			strings.Join(missing, ", "))
	}

	// Images first: a bad picture should not cost reading a 548 MB model.
	contentImg, err := imaging.DecodeFile(contentPath)
	if err != nil {
		return fmt.Errorf("style: content image: %w", err)
	}
	styleImg, err := imaging.DecodeFile(stylePath)
	if err != nil {
		return fmt.Errorf("style: style image: %w", err)
	}
	b := contentImg.Bounds()
	w, h, err := style.OutputSize(b.Dx(), b.Dy(), c.Int("size"))
	if err != nil {
		return fmt.Errorf("%w (--size)", err)
	}

	log := c.App.Writer
	nopt := style.NetworkOptions{Kind: c.String("network"), Content: strings.TrimSpace(c.String("content-layer")),
		VGGPreprocessing: c.String("vgg-preprocessing"), InputRange: c.String("input-range")}
	if s := strings.TrimSpace(c.String("style-layers")); s != "" {
		for _, l := range strings.Split(s, ",") {
			nopt.Style = append(nopt.Style, strings.TrimSpace(l))
		}
	}
	t0 := time.Now()
	net, err := style.OpenNetwork(modelPath, nopt)
	if err != nil {
		return err
	}
	runtime.GC() // the source model's weights are garbage now
	fmt.Fprintf(log, "model %s: %s (read in %.1f s)\n", modelPath, net.Summary, time.Since(t0).Seconds())
	fmt.Fprintf(log, "content layer %s, style layers %s\n", net.Content, strings.Join(net.Style, ","))
	cfg = net.Weights
	setWeights(&cfg)

	mem, err := style.EstimateMemory(net, h, w, cfg.Threads, opt)
	if err != nil {
		return err
	}
	if maxMem > 0 && mem.Total > maxMem {
		return fmt.Errorf("style: a %dx%d image would need about %s, more than --max-memory %s; choose a smaller --size, or raise --max-memory",
			w, h, mem, style.Bytes(maxMem))
	}
	if maxMem > 0 {
		debug.SetMemoryLimit(maxMem)
	}
	if os.Getenv("GOGC") == "" {
		// The buffers live for the whole run and little garbage is made, so a tight heap
		// goal costs few collections: the peak stays near 1.25 x the live memory that
		// EstimateMemory adds up, instead of Go's default 2x.
		debug.SetGCPercent(25)
	}
	ct, st, err := style.PrepareImages(contentImg, styleImg, h)
	if err != nil {
		return err
	}
	t0 = time.Now()
	tr, err := style.NewTransfer(net, ct, st, cfg)
	if err != nil {
		return err
	}
	x, err := style.InitImage(init, ct, c.Uint64("seed"))
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "%s (%dx%d) in the style of %s, %dx%d: %s %d rounds x %d iterations, weights content %g style %g tv %g, %d threads; targets in %.1f s; estimated memory %s\n",
		contentPath, b.Dx(), b.Dy(), stylePath, w, h, opt.Optimizer, opt.Rounds, opt.Iterations,
		cfg.ContentWeight, cfg.StyleWeight, cfg.TVWeight, cfg.Threads, time.Since(t0).Seconds(), style.Bytes(mem.Total))
	if l, err := tr.Evaluate(x, make([]float32, len(x))); err == nil {
		fmt.Fprintf(log, "initial %s\n", l)
	} else {
		return err
	}

	prog := newStyleProgress(c.App.ErrWriter, log, opt.Rounds*opt.Iterations)
	opt.Eval = prog.eval
	start, cpu0 := time.Now(), styleCPUTime()
	opt.Round = func(r style.Round) error {
		prog.round(r, time.Since(start), styleCPUTime()-cpu0)
		if saveEvery > 0 && r.Index%saveEvery == 0 && r.Index < r.Rounds {
			path := roundPath(out, r.Index)
			if err := saveStyled(path, r.X, h, w); err != nil {
				return err
			}
			prog.printf("saved %s\n", path)
		}
		return nil
	}
	final, err := tr.Run(x, opt)
	prog.finish()
	if err != nil {
		return err
	}
	if err := saveStyled(out, x, h, w); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s (%dx%d): %s after %d evaluations in %.1f s (CPU %.1f s); peak memory %s (estimate %s)\n",
		out, w, h, final, tr.Evaluations()-1, time.Since(start).Seconds(), (styleCPUTime() - cpu0).Seconds(), style.Bytes(styleMaxRSS()), style.Bytes(mem.Total))
	return nil
}

func saveStyled(path string, x []float32, h, w int) error {
	img, err := style.ToImage(x, h, w)
	if err != nil {
		return err
	}
	if err := imaging.Save(path, img); err != nil {
		return fmt.Errorf("style: %w", err)
	}
	return nil
}

// roundPath is out with _roundK before its extension: styled_round05.png.
func roundPath(out string, k int) string {
	ext := filepath.Ext(out)
	return fmt.Sprintf("%s_round%02d%s", strings.TrimSuffix(out, ext), k, ext)
}

// styleProgress shows a bar over all evaluations on a terminal (the round and the loss in
// its description) and a line per round otherwise; round lines always go to log.
type styleProgress struct {
	log   io.Writer
	bar   *progressbar.ProgressBar
	total int
	done  int
	cur   int
}

func newStyleProgress(errw, log io.Writer, total int) *styleProgress {
	p := &styleProgress{log: log, total: total, cur: 1}
	if f, ok := errw.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(errw), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *styleProgress) eval(_ int, l style.Loss) {
	p.done++
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("round %d loss %.4g", p.cur, l.Total))
		_ = p.bar.Set(min(p.done, p.total))
	}
}

func (p *styleProgress) round(r style.Round, elapsed, cpu time.Duration) {
	// The ETA extrapolates the mean round time.
	eta := time.Duration(float64(elapsed) / float64(r.Index) * float64(r.Rounds-r.Index)).Round(time.Second)
	p.printf("round %d/%d: %s, %d evaluations, %.1f s; total %.1f s (CPU %.1f s), ETA %s\n",
		r.Index, r.Rounds, r.Loss, r.Evals, r.Elapsed.Seconds(), elapsed.Seconds(), cpu.Seconds(), eta)
	p.cur = r.Index + 1
	// L-BFGS may end a round early (a line search that cannot progress): keep the bar on the
	// round boundaries.
	p.done = r.Index * (p.total / max(r.Rounds, 1))
	if p.bar != nil {
		_ = p.bar.Set(min(p.done, p.total))
	}
}

// printf writes a line to the log, clearing the bar first.
func (p *styleProgress) printf(format string, args ...any) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.log, format, args...)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *styleProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func styleCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// styleMaxRSS is the process's peak resident set size (getrusage), in bytes.
func styleMaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
