package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/runtime/latent"
	"github.com/gendl/gendl/runtime/tensor"
)

// defaultVAE supplies the embedded default VAE (decoder and encoder) when --model is not given
// (nil: none; tests may swap it).
var defaultVAE = vae.Default

// Output names written when --out is not given.
const (
	defaultManifold = "manifold.png"
	defaultSamples  = "samples.png"
	defaultMorph    = "morph.gif"
	defaultConcept  = "concept.png"
	defaultWalk     = "walk.gif"
)

// sampleVAECommand is `gendl sample vae`.
func sampleVAECommand() *cli.Command {
	return &cli.Command{
		Name:  "vae",
		Usage: "draw a VAE's latent space: manifold grids, random samples, morphs, encodings, concept vectors",
		Description: "Runs a VAE exported by gendl-train (vae/decoder.onnx and vae/encoder.onnx). One mode per run:\n\n" +
			"  --grid N            the book's figure: an N x N grid of latent points at the standard normal's\n" +
			"                      quantiles (0.05..0.95, --grid-quantiles) or evenly in [-S,S] (--grid-span S),\n" +
			"                      decoded and tiled; dimension --dims[0] grows to the right, --dims[1] upwards\n" +
			"  --random N          N random latent points from N(0, I) (--seed), decoded and tiled\n" +
			"  --interpolate A,B   a morph from A to B (GIF, or a strip for .png/.jpg); A and B are each a class\n" +
			"                      of --dataset (index or name: its images' mean latent point), an image file,\n" +
			"                      or a directory of images (their mean point); --from-z/--to-z give points\n" +
			"  --encode FILE...    prints each image's latent point (z_mean), one line per file: NAME v1 v2 ...\n" +
			"  --concept A,B       the concept vector mean(A) - mean(B) (A, B as for --interpolate) added to\n" +
			"                      --image (default: the first image of B) at each of --strengths; one strip\n\n" +
			"Without a mode, --grid 15. Classes, images and directories need the encoder (--encoder, default\n" +
			"encoder.onnx beside the decoder). Input images are resized to the model's size (Catmull-Rom) and\n" +
			"converted to its channels; MNIST digits are light on dark: --invert dark-on-light images.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "VAE decoder .onnx, or a directory with decoder.onnx (and encoder.onnx)" + defaultNote(defaultVAE != nil)},
			&cli.StringFlag{Name: "encoder", Usage: "VAE encoder .onnx (default: encoder.onnx beside the decoder)"},
			&cli.StringFlag{Name: "out", Usage: "output file: .png or .jpg; a morph may also be .gif (default: " + defaultManifold + ", " + defaultSamples + ", " + defaultMorph + " or " + defaultConcept + " by mode)"},
			&cli.IntFlag{Name: "grid", Value: 15, Usage: "manifold grid: points per side"},
			&cli.IntFlag{Name: "random", Usage: "grid of this many random latent points"},
			&cli.StringFlag{Name: "interpolate", Usage: "morph between A,B (classes, image files or directories)"},
			&cli.StringFlag{Name: "from-z", Usage: "morph start as a latent point, e.g. -1.5,0.5 (with --to-z)"},
			&cli.StringFlag{Name: "to-z", Usage: "morph end as a latent point (with --from-z)"},
			&cli.StringSliceFlag{Name: "encode", Usage: "image file to encode (repeat the flag for several)"},
			&cli.StringFlag{Name: "concept", Usage: "concept vector A,B: mean(A) - mean(B)"},
			&cli.StringFlag{Name: "strengths", Value: "-2,-1,0,1,2", Usage: "concept strengths, comma-separated"},
			&cli.StringSliceFlag{Name: "image", Usage: "concept: image file to move along the vector (repeat for one row each)"},
			&cli.StringFlag{Name: "dataset", Usage: "where classes come from: mnist, fashion-mnist or a directory of class subdirectories (default: the model's gendl.dataset, else mnist)"},
			&cli.StringFlag{Name: "split", Value: "test", Usage: "dataset split for class means: train, test (folders: all)"},
			&cli.IntFlag{Name: "per-class", Value: 500, Usage: "images per class averaged into a class's latent point (0: all)"},
			&cli.StringFlag{Name: "mnist-dir", Usage: "directory with the MNIST (or Fashion-MNIST) IDX files (default: $GENDL_MNIST_DIR, then the Go module cache)"},
			&cli.StringFlag{Name: "grid-quantiles", Value: "0.05,0.95", Usage: "normal quantile probabilities of the grid's first and last points"},
			&cli.Float64Flag{Name: "grid-span", Usage: "space grid points evenly in [-S, S] instead of at quantiles (keras-io: 1)"},
			&cli.StringFlag{Name: "dims", Value: "0,1", Usage: "the two latent dimensions a grid varies (others stay 0)"},
			&cli.IntFlag{Name: "frames", Value: 24, Usage: "morph: number of frames"},
			&cli.StringFlag{Name: "interpolation", Value: "linear", Usage: "morph: linear or slerp"},
			&cli.BoolFlag{Name: "boomerang", Usage: "morph: play forward then backward (a seamless loop)"},
			&cli.IntFlag{Name: "delay", Value: 8, Usage: "GIF frame time in 1/100 s"},
			&cli.BoolFlag{Name: "invert", Usage: "invert input images (dark digits on light paper -> MNIST's light on dark)"},
			&cli.IntFlag{Name: "cols", Usage: "columns of a --random grid (0: square)"},
			&cli.IntFlag{Name: "pad", Value: 2, Usage: "pixels between tiles"},
			&cli.IntFlag{Name: "zoom", Usage: "enlarge each image this many times, nearest-neighbour (0: 1 for pictures, to >= 128 px for GIFs)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed (--random)"},
			&cli.IntFlag{Name: "threads", Value: 1, Usage: "threads the ops may use"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 && !c.IsSet("encode") {
				return fmt.Errorf("sample vae: unexpected argument %q (image files go after --encode or --image)", c.Args().First())
			}
			return sampleVAE(c)
		},
	}
}

func defaultNote(has bool) string {
	if has {
		return " (default: the embedded model trained on MNIST)"
	}
	return " (required)"
}

// vaeMode is what `gendl sample vae` was asked to do.
type vaeMode int

const (
	modeGrid vaeMode = iota
	modeRandom
	modeInterpolate
	modeEncode
	modeConcept
)

func vaeModeOf(c *cli.Context) (vaeMode, error) {
	var set []string
	mode := modeGrid
	for _, m := range []struct {
		flag string
		mode vaeMode
	}{{"grid", modeGrid}, {"random", modeRandom}, {"interpolate", modeInterpolate}, {"from-z", modeInterpolate}, {"encode", modeEncode}, {"concept", modeConcept}} {
		if c.IsSet(m.flag) {
			if m.flag == "from-z" && c.IsSet("interpolate") {
				return 0, errors.New("sample vae: give either --interpolate A,B or --from-z/--to-z, not both")
			}
			if m.flag != "from-z" {
				set = append(set, "--"+m.flag)
			}
			mode = m.mode
		}
	}
	if len(set) > 1 {
		return 0, fmt.Errorf("sample vae: choose one mode, got %s", strings.Join(set, " and "))
	}
	if c.IsSet("from-z") != c.IsSet("to-z") {
		return 0, errors.New("sample vae: --from-z and --to-z go together")
	}
	return mode, nil
}

// vaeRun holds what a mode needs: the decoder, the encoder (loaded on demand), and the
// dataset (loaded on demand).
type vaeRun struct {
	c       *cli.Context
	dec     *imagegen.Model
	decS    *imagegen.Session
	encPath string
	enc     *imagegen.Model
	encS    *imagegen.Session
	data    *datasets.Dataset
}

func sampleVAE(c *cli.Context) error {
	mode, err := vaeModeOf(c)
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		out = map[vaeMode]string{modeGrid: defaultManifold, modeRandom: defaultSamples, modeInterpolate: defaultMorph, modeConcept: defaultConcept}[mode]
	}
	if mode != modeEncode {
		if err := checkOut(out, mode == modeInterpolate); err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
	}
	r := &vaeRun{c: c}
	if err := r.load(); err != nil {
		return err
	}
	switch mode {
	case modeGrid:
		return r.grid(out)
	case modeRandom:
		return r.random(out)
	case modeInterpolate:
		return r.interpolate(out)
	case modeEncode:
		return r.encodeFiles()
	}
	return r.concept(out)
}

// load reads the decoder (and, with the embedded default, the encoder).
func (r *vaeRun) load() error {
	c := r.c
	path := c.String("model")
	if path == "" {
		if defaultVAE == nil {
			return errors.New("sample vae: --model is required (the VAE decoder .onnx that gendl-train vae writes, e.g. vae/decoder.onnx); there is no embedded default VAE yet")
		}
		dec, enc, err := defaultVAE()
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		r.dec, r.enc = dec, enc
	} else {
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			path = filepath.Join(path, "decoder.onnx")
		}
		dec, err := imagegen.LoadFile(path)
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		if err := dec.Expect(imagegen.VAEDecoder); err != nil {
			return fmt.Errorf("sample vae: --model: %w", err)
		}
		r.dec = dec
		r.encPath = filepath.Join(filepath.Dir(path), "encoder.onnx")
	}
	if p := c.String("encoder"); p != "" {
		r.encPath, r.enc = p, nil
	}
	r.decS = r.dec.NewSession(c.Int("threads"))
	return nil
}

// encoder returns the encoder session, loading it on first use.
func (r *vaeRun) encoder(why string) (*imagegen.Session, error) {
	if r.encS != nil {
		return r.encS, nil
	}
	if r.enc == nil {
		if r.encPath == "" {
			return nil, fmt.Errorf("sample vae: %s needs the VAE encoder: give --encoder", why)
		}
		if _, err := os.Stat(r.encPath); err != nil && !r.c.IsSet("encoder") {
			return nil, fmt.Errorf("sample vae: %s needs the VAE encoder: %s does not exist; give --encoder", why, r.encPath)
		}
		enc, err := imagegen.LoadFile(r.encPath)
		if err != nil {
			return nil, fmt.Errorf("sample vae: %w", err)
		}
		r.enc = enc
	}
	if err := r.enc.Expect(imagegen.VAEEncoder); err != nil {
		return nil, fmt.Errorf("sample vae: --encoder: %w", err)
	}
	d, e := r.dec.Info, r.enc.Info
	if d.LatentDim != e.LatentDim || d.ImageShape() != e.ImageShape() {
		return nil, fmt.Errorf("sample vae: the encoder %s (latent %d, images %s) does not match the decoder %s (latent %d, images %s)",
			r.enc.Name, e.LatentDim, e.ImageShape(), r.dec.Name, d.LatentDim, d.ImageShape())
	}
	r.encS = r.enc.NewSession(r.c.Int("threads"))
	return r.encS, nil
}

func (r *vaeRun) grid(out string) error {
	c := r.c
	q, err := parseFloats(c.String("grid-quantiles"), "--grid-quantiles")
	if err != nil {
		return err
	}
	if len(q) != 2 {
		return fmt.Errorf("sample vae: --grid-quantiles %q: want two probabilities LOW,HIGH", c.String("grid-quantiles"))
	}
	dims, err := parseInts(c.String("dims"), "--dims")
	if err != nil {
		return err
	}
	if len(dims) != 2 {
		return fmt.Errorf("sample vae: --dims %q: want two latent dimensions, e.g. 0,1", c.String("dims"))
	}
	spec := latent.GridSpec{N: c.Int("grid"), Latent: r.dec.Info.LatentDim, Lo: q[0], Hi: q[1], Span: c.Float64("grid-span"), Dims: [2]int{dims[0], dims[1]}}
	if spec.Latent == 1 {
		return fmt.Errorf("sample vae: %s has a 1-D latent space: a grid needs two dimensions (use --random or --from-z/--to-z)", r.dec.Name)
	}
	z, err := latent.Grid(spec)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	imgs, err := r.decS.Images(z)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	what := fmt.Sprintf("%dx%d latent grid", spec.N, spec.N)
	if spec.Latent > 2 {
		what += fmt.Sprintf(" over dimensions %d,%d of %d", spec.Dims[0], spec.Dims[1], spec.Latent)
	}
	return writePicture(c, out, imgs, spec.N, what)
}

func (r *vaeRun) random(out string) error {
	c := r.c
	n := c.Int("random")
	if n < 1 || n > 1<<16 {
		return fmt.Errorf("sample vae: --random %d: want 1 to 65536 images", n)
	}
	z, err := latent.Normal(n, r.dec.Info.LatentDim, c.Uint64("seed"))
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	imgs, err := r.decS.Images(z)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	return writePicture(c, out, imgs, c.Int("cols"), fmt.Sprintf("%d random samples (seed %d)", n, c.Uint64("seed")))
}

func (r *vaeRun) interpolate(out string) error {
	c := r.c
	m, err := latent.ParseMethod(c.String("interpolation"))
	if err != nil {
		return fmt.Errorf("sample vae: --interpolation: %w", err)
	}
	frames := c.Int("frames")
	if frames < 2 || frames > 10000 {
		return fmt.Errorf("sample vae: --frames %d: want 2 to 10000", frames)
	}
	var a, b []float32
	var desc string
	if c.IsSet("from-z") {
		if a, err = r.point(c.String("from-z"), "--from-z"); err != nil {
			return err
		}
		if b, err = r.point(c.String("to-z"), "--to-z"); err != nil {
			return err
		}
		desc = "from " + c.String("from-z") + " to " + c.String("to-z")
	} else {
		specs, err := pair(c.String("interpolate"), "--interpolate")
		if err != nil {
			return err
		}
		if a, err = r.group(specs[0], "--interpolate"); err != nil {
			return err
		}
		if b, err = r.group(specs[1], "--interpolate"); err != nil {
			return err
		}
		desc = "from " + specs[0] + " to " + specs[1]
	}
	z, err := latent.Path([][]float32{a, b}, frames, m, false)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	imgs, err := r.decS.Images(z)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	if c.Bool("boomerang") {
		for i := len(imgs) - 2; i > 0; i-- {
			imgs = append(imgs, imgs[i])
		}
	}
	return writeFrames(c, out, imgs, fmt.Sprintf("%d-frame %s morph %s", len(imgs), m, desc))
}

// point parses a latent point given on the command line.
func (r *vaeRun) point(s, flag string) ([]float32, error) {
	v, err := parseFloats(s, flag)
	if err != nil {
		return nil, err
	}
	if len(v) != r.dec.Info.LatentDim {
		return nil, fmt.Errorf("sample vae: %s %q has %d values, the latent space has %d dimensions", flag, s, len(v), r.dec.Info.LatentDim)
	}
	p := make([]float32, len(v))
	for i, x := range v {
		p[i] = float32(x)
	}
	return p, nil
}

// group resolves A or B of --interpolate/--concept to a latent point: an image file's code,
// the mean code of a directory's images, or the mean code of a dataset class.
func (r *vaeRun) group(spec, flag string) ([]float32, error) {
	x, _, err := r.groupImages(spec, flag)
	if err != nil {
		return nil, err
	}
	enc, err := r.encoder(flag + " " + spec)
	if err != nil {
		return nil, err
	}
	z, err := latent.EncodeMean(enc, x)
	if err != nil {
		return nil, fmt.Errorf("sample vae: %w", err)
	}
	m, err := latent.Mean(z, nil)
	if err != nil {
		return nil, fmt.Errorf("sample vae: %w", err)
	}
	return m, nil
}

// groupImages returns the images a group spec names, as the encoder's input [N, C, H, W],
// and the first of them.
func (r *vaeRun) groupImages(spec, flag string) (*tensor.Tensor, *tensor.Tensor, error) {
	if spec == "" {
		return nil, nil, fmt.Errorf("sample vae: %s: empty group", flag)
	}
	if st, err := os.Stat(spec); err == nil {
		var files []string
		if st.IsDir() {
			ents, err := os.ReadDir(spec)
			if err != nil {
				return nil, nil, fmt.Errorf("sample vae: %w", err)
			}
			for _, e := range ents {
				if !e.IsDir() && imaging.IsImageFile(e.Name()) && !strings.HasPrefix(e.Name(), ".") {
					files = append(files, filepath.Join(spec, e.Name()))
				}
			}
			if len(files) == 0 {
				return nil, nil, fmt.Errorf("sample vae: %s: directory %s holds no .png, .jpg or .gif images", flag, spec)
			}
		} else {
			files = []string{spec}
		}
		x, err := r.readImages(files)
		if err != nil {
			return nil, nil, err
		}
		first := tensor.FromFloat32(x.F32()[:x.Len()/x.Shape[0]], append([]int{1}, x.Shape[1:]...)...)
		return x, first, nil
	}
	d, err := r.dataset()
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s %q is not an existing file or directory, so it was taken as a class)", err, flag, spec)
	}
	k := classIndex(d, spec)
	if k < 0 {
		return nil, nil, fmt.Errorf("sample vae: %s: %q is not an image file, a directory of images, or a class of %s (classes: %s)", flag, spec, d.Name, classList(d))
	}
	idx := d.OfClass(k, r.c.Int("per-class"))
	if len(idx) == 0 {
		return nil, nil, fmt.Errorf("sample vae: %s: class %q has no images in the %s split of %s", flag, spec, d.Split, d.Name)
	}
	return d.Batch(idx), d.Image(idx[0]), nil
}

// classIndex finds a class by name (case-insensitive) or index.
func classIndex(d *datasets.Dataset, s string) int {
	for i, n := range d.Classes {
		if strings.EqualFold(n, s) {
			return i
		}
	}
	if k, err := strconv.Atoi(s); err == nil && k >= 0 && k < len(d.Classes) {
		return k
	}
	return -1
}

func classList(d *datasets.Dataset) string {
	var parts []string
	for i, n := range d.Classes {
		if n == strconv.Itoa(i) {
			parts = append(parts, n)
		} else {
			parts = append(parts, fmt.Sprintf("%d=%q", i, n))
		}
	}
	return strings.Join(parts, ", ")
}

// dataset loads the dataset that classes refer to, once, at the model's image size.
func (r *vaeRun) dataset() (*datasets.Dataset, error) {
	if r.data != nil {
		return r.data, nil
	}
	c := r.c
	name := c.String("dataset")
	if name == "" {
		name = r.dec.Info.Dataset
		if name == "" {
			name = datasets.MNIST
		}
	}
	info := r.dec.Info
	d, err := datasets.Load(name, c.String("split"), datasets.Options{MNISTDir: c.String("mnist-dir"), Height: info.H, Width: info.W, Channels: info.C})
	if err != nil {
		return nil, fmt.Errorf("sample vae: %w", err)
	}
	if d.C != info.C || d.H != info.H || d.W != info.W {
		return nil, fmt.Errorf("sample vae: dataset %s has images %d,%d,%d; the model takes %s", d.Name, d.C, d.H, d.W, info.ImageShape())
	}
	r.data = d
	return d, nil
}

// readImages decodes image files and converts them to the model's input [N, C, H, W] in [0, 1].
func (r *vaeRun) readImages(files []string) (*tensor.Tensor, error) {
	return readModelImages(files, r.dec.Info, r.c.Bool("invert"))
}

func readModelImages(files []string, info imagegen.Info, invert bool) (*tensor.Tensor, error) {
	var imgs []image.Image
	for _, f := range files {
		img, err := imaging.DecodeFile(f)
		if err != nil {
			return nil, err
		}
		img, err = imaging.Resize(img, info.W, info.H, imaging.CatmullRom)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	x, err := imaging.ToTensor(imgs, info.C, imaging.Unit())
	if err != nil {
		return nil, err
	}
	if invert {
		for i, v := range x.F32() {
			x.F32()[i] = 1 - v
		}
	}
	return x, nil
}

func (r *vaeRun) encodeFiles() error {
	// --encode a.png b.png ...: files after the first may come as arguments (shell globs).
	files := append(r.c.StringSlice("encode"), r.c.Args().Slice()...)
	enc, err := r.encoder("--encode")
	if err != nil {
		return err
	}
	x, err := r.readImages(files)
	if err != nil {
		return fmt.Errorf("sample vae: --encode: %w", err)
	}
	z, err := latent.EncodeMean(enc, x)
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	w := r.c.App.Writer
	for i, f := range files {
		fmt.Fprint(w, f)
		for _, v := range latent.Row(z, i) {
			fmt.Fprintf(w, " %.6g", v)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func (r *vaeRun) concept(out string) error {
	c := r.c
	strengths, err := parseFloats(c.String("strengths"), "--strengths")
	if err != nil {
		return err
	}
	if len(strengths) == 0 || len(strengths) > 1000 {
		return fmt.Errorf("sample vae: --strengths: want 1 to 1000 values, got %d", len(strengths))
	}
	specs, err := pair(c.String("concept"), "--concept")
	if err != nil {
		return err
	}
	enc, err := r.encoder("--concept")
	if err != nil {
		return err
	}
	var groups [2]*tensor.Tensor
	var firstB *tensor.Tensor
	for i, s := range specs {
		x, first, err := r.groupImages(s, "--concept")
		if err != nil {
			return err
		}
		if groups[i], err = latent.EncodeMean(enc, x); err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		firstB = first
	}
	v, err := latent.Concept(groups[0], groups[1])
	if err != nil {
		return fmt.Errorf("sample vae: %w", err)
	}
	var inputs []*tensor.Tensor
	if files := c.StringSlice("image"); len(files) > 0 {
		for _, f := range files {
			x, err := r.readImages([]string{f})
			if err != nil {
				return fmt.Errorf("sample vae: --image: %w", err)
			}
			inputs = append(inputs, x)
		}
	} else {
		inputs = []*tensor.Tensor{firstB}
	}
	var tiles []image.Image
	for _, x := range inputs {
		z, err := latent.EncodeMean(enc, x)
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		zs, err := latent.Apply(latent.Row(z, 0), v, strengths)
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		imgs, err := r.decS.Images(zs)
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		orig, err := imaging.FromTensor(x, imaging.Unit())
		if err != nil {
			return fmt.Errorf("sample vae: %w", err)
		}
		tiles = append(tiles, orig[0])
		tiles = append(tiles, imgs...)
	}
	return writePicture(c, out, tiles, len(strengths)+1,
		fmt.Sprintf("concept %s minus %s at strengths %s (first column: the input)", specs[0], specs[1], c.String("strengths")))
}

// pair splits "A,B" into two non-empty parts.
func pair(s, flag string) ([2]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
		return [2]string{}, fmt.Errorf("sample: %s %q: want two groups A,B (classes such as 3,8, image files or directories)", flag, s)
	}
	return [2]string{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])}, nil
}

func parseFloats(s, flag string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sample: %s: %q is not a finite number", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(s, flag string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("sample: %s: %q is not an integer", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkOut checks an output path before any work: a known extension (.gif only for
// animations) and an existing directory.
func checkOut(out string, animation bool) error {
	ext := strings.ToLower(filepath.Ext(out))
	switch ext {
	case ".png", ".jpg", ".jpeg":
	case ".gif":
		if !animation {
			return fmt.Errorf("--out %s: this picture is written as .png or .jpg (.gif is for morphs and walks)", out)
		}
	default:
		if animation {
			return fmt.Errorf("--out %s: want .gif (an animation), or .png/.jpg (the frames as a strip)", out)
		}
		return fmt.Errorf("--out %s: want a .png or .jpg file", out)
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--out %s: directory %s does not exist", out, dir)
		}
		return err
	}
	return nil
}

// zoomOf is --zoom, or its automatic value: 1 for pictures, enough to make animation frames at
// least 128 pixels on their short side.
func zoomOf(c *cli.Context, img image.Image, animation bool) (int, error) {
	z := c.Int("zoom")
	if z < 0 || z > 64 {
		return 0, fmt.Errorf("sample: --zoom %d: want 1 to 64 (0: automatic)", z)
	}
	if z > 0 {
		return z, nil
	}
	if !animation {
		return 1, nil
	}
	side := min(img.Bounds().Dx(), img.Bounds().Dy())
	return max(1, (128+side-1)/side), nil
}

// writePicture tiles imgs (cols 0: square) and saves the grid as PNG or JPEG.
func writePicture(c *cli.Context, out string, imgs []image.Image, cols int, what string) error {
	z, err := zoomOf(c, imgs[0], false)
	if err != nil {
		return err
	}
	if z > 1 {
		for i := range imgs {
			if imgs[i], err = imaging.Zoom(imgs[i], z); err != nil {
				return fmt.Errorf("sample: %w", err)
			}
		}
	}
	pad := c.Int("pad")
	if pad < 0 || pad > 1000 {
		return fmt.Errorf("sample: --pad %d: want 0 to 1000 pixels", pad)
	}
	if cols < 0 {
		return fmt.Errorf("sample: --cols %d: want >= 0 (0: square)", cols)
	}
	g, err := imaging.Grid(imgs, imaging.GridOptions{Cols: cols, Pad: pad})
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err := imaging.Save(out, g); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: %s, %dx%d pixels\n", out, what, g.Bounds().Dx(), g.Bounds().Dy())
	return nil
}

// writeFrames saves frames as an animated GIF, or as a strip picture for .png/.jpg.
func writeFrames(c *cli.Context, out string, frames []image.Image, what string) error {
	if strings.ToLower(filepath.Ext(out)) != ".gif" {
		cols := c.Int("cols")
		if cols == 0 {
			cols = len(frames)
		}
		return writePicture(c, out, frames, cols, what)
	}
	z, err := zoomOf(c, frames[0], true)
	if err != nil {
		return err
	}
	for i := range frames {
		if frames[i], err = imaging.Zoom(frames[i], z); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	if err := imaging.SaveGIF(out, frames, imaging.GIFOptions{Delay: c.Int("delay")}); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	b := frames[0].Bounds()
	fmt.Fprintf(c.App.Writer, "wrote %s: %s, %dx%d pixels\n", out, what, b.Dx(), b.Dy())
	return nil
}
