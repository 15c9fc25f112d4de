package dream

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/grad"
	"github.com/gendl/gendl/runtime/tensor"
)

// Model is a network to dream with: a plan with one float32 image input [N, 3, H, W] (H and W
// free, or fixed) and the value range that input expects.
type Model struct {
	Plan  *engine.Plan
	Input string
	// Range maps 8-bit RGB to what Input expects; LoadModel reads it from the model's
	// "preprocessing" metadata ([-1, 1] when there is none, InceptionV3's).
	Range imaging.Range
	// Preprocessing is the model's "preprocessing" metadata, if any. RangeErr is set (and
	// Range empty) when it names a preprocessing this package does not recognise: the caller
	// must then set Range itself.
	Preprocessing string
	RangeErr      error
	// BaseDir is where the model's external data lives (LoadModel: the file's directory).
	BaseDir string
}

// LoadModel loads and plans an ONNX file and checks it as NewModel does.
func LoadModel(path string) (*Model, error) {
	p, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	m, err := NewModel(p)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	m.BaseDir = filepath.Dir(path)
	return m, nil
}

// NewModel checks that p has exactly one input, a float32 image [N, 3, H, W], and reads the
// input range from its "preprocessing" metadata: text naming [-1, 1] (the converted
// InceptionV3's "scaled to [-1, 1]") or [0, 1]; no such metadata means [-1, 1]. For other
// preprocessing it sets RangeErr: set Model.Range by hand for such a model (the CLI's
// --input-range).
func NewModel(p *engine.Plan) (*Model, error) {
	if len(p.Inputs) != 1 {
		names := make([]string, len(p.Inputs))
		for i, in := range p.Inputs {
			names[i] = in.String()
		}
		return nil, fmt.Errorf("dream: want a model with one image input [N, 3, H, W], it has %d inputs: %s", len(p.Inputs), strings.Join(names, ", "))
	}
	in := p.Inputs[0]
	if in.DType != tensor.Float32 || (in.HasShape && (len(in.Shape) != 4 || (in.Shape[1] != 3 && in.Shape[1] >= 0))) {
		return nil, fmt.Errorf("dream: input %s: want a float32 RGB image [N, 3, H, W]", in)
	}
	m := &Model{Plan: p, Input: in.Name, Range: imaging.Signed()}
	for _, kv := range p.Model.GetMetadataProps() {
		if kv.GetKey() == "preprocessing" {
			m.Preprocessing = kv.GetValue()
		}
	}
	if m.Preprocessing != "" {
		m.Range, m.RangeErr = rangeFromText(m.Preprocessing)
	}
	return m, nil
}

// rangeFromText reads a model's preprocessing metadata.
func rangeFromText(s string) (imaging.Range, error) {
	c := strings.ReplaceAll(s, " ", "")
	switch {
	case strings.Contains(c, "[-1,1]"):
		return imaging.Signed(), nil
	case strings.Contains(c, "[0,1]") && !strings.Contains(strings.ToLower(c), "mean"):
		return imaging.Unit(), nil
	}
	return imaging.Range{}, fmt.Errorf("dream: the model's preprocessing metadata says %q; gendl dream only knows inputs scaled to [-1, 1] or [0, 1]: give the range explicitly (--input-range)", s)
}

// ParseRange reads an input range: "-1,1", "0,1" or "0,255".
func ParseRange(s string) (imaging.Range, error) {
	switch strings.ReplaceAll(s, " ", "") {
	case "-1,1", "[-1,1]":
		return imaging.Signed(), nil
	case "0,1", "[0,1]":
		return imaging.Unit(), nil
	case "0,255", "[0,255]":
		return imaging.Range{Name: "[0,255]", Scale: []float32{255}, Shift: []float32{0}}, nil
	}
	return imaging.Range{}, fmt.Errorf("dream: input range %q: want -1,1 or 0,1 or 0,255", s)
}

// Layers returns the names of the values the model computes (node outputs), the names a
// Layer may use.
func (m *Model) Layers() []string {
	var out []string
	p := m.Plan
	for v := range p.NumValues() {
		if p.Producer(v) >= 0 {
			out = append(out, p.ValueName(v))
		}
	}
	return out
}

// Options are DeepDream's settings. Defaults returns the book's.
type Options struct {
	// Layers and their weights in the loss.
	Layers []Layer
	// Step is the gradient-ascent step on the normalised gradient (grad / mean|grad|).
	Step float64
	// Iterations is the number of ascent steps per octave.
	Iterations int
	// MaxLoss stops an octave as soon as the loss exceeds it (before that step is taken, as
	// the book does); 0 means no limit.
	MaxLoss float64
	// Octaves is the number of scales; OctaveScale the size ratio between successive ones.
	Octaves     int
	OctaveScale float64
	// Border is the number of activation pixels on each side left out of the loss (the book
	// and keras-io: 2).
	Border int
	// TileSize: images with a side longer than this are processed in tiles of at most
	// TileSize x TileSize pixels, with a random circular shift of the image at every step so
	// that the seams move (the TensorFlow DeepDream tutorial's method). 0 processes every
	// octave whole.
	TileSize int
	// Seed seeds the random shifts of the tiles.
	Seed uint64
	// Threads is the number of goroutines the network uses; 0 means runtime.NumCPU().
	Threads int
	// MaxMemory caps the estimated memory of a run in bytes (EstimateMemory); 0 means
	// DefaultMaxMemory.
	MaxMemory int64
	// Progress, if set, is called after every loss evaluation.
	Progress func(Progress)
}

// DefaultMaxMemory is the memory cap of a run unless Options.MaxMemory says otherwise.
const DefaultMaxMemory = 4 << 30

// DefaultTileSize is the tile size of the TensorFlow DeepDream tutorial, and the CLI's default.
const DefaultTileSize = 512

// Defaults returns the book's settings (Deep Learning with Python, 8.2): layers mixed2..mixed5
// weighted 0.2, 3, 2, 1.5; step 0.01; 20 iterations per octave; max loss 10; 3 octaves at
// scale 1.4; a 2-pixel border; tiles of 512 pixels (images up to 512 on each side are
// processed whole, as the book does).
func Defaults() Options {
	return Options{Layers: DefaultLayers(), Step: 0.01, Iterations: 20, MaxLoss: 10, Octaves: 3,
		OctaveScale: 1.4, Border: 2, TileSize: DefaultTileSize, Seed: 1}
}

// Progress is what Options.Progress sees after each loss evaluation.
type Progress struct {
	Octave, Octaves int  // from 1
	Size            Size // this octave's image size
	Tiles           int  // tiles per step
	// Iteration (from 1) of Iterations; Loss is the loss before this iteration's step.
	Iteration, Iterations int
	Loss                  float64
	// Stopped is set when Loss exceeded MaxLoss: the octave ends without this step.
	Stopped bool
	// Done counts the loss evaluations of the run so far; Total is their maximum.
	Done, Total int
	Elapsed     time.Duration
}

// OctaveReport says what happened at one octave.
type OctaveReport struct {
	Size  Size
	Tiles int  // tiles per step (1: the whole image)
	Tile  Size // the tile size fed to the network
	// Losses holds the loss before each step, and the loss that stopped the octave if it
	// exceeded MaxLoss (then Stopped is set and that step was not taken).
	Losses   []float64
	Stopped  bool
	Duration time.Duration
	// CPU is the CPU time the whole process used during the octave (user + system; 0 where
	// the system does not say).
	CPU time.Duration
}

// Report describes a run.
type Report struct {
	Octaves []OctaveReport
	// Memory is the run's estimated peak memory in bytes (EstimateMemory).
	Memory int64
}

// Dreamer runs DeepDream with a model and options. It is safe for one goroutine at a time.
type Dreamer struct {
	m   *Model
	opt Options
	g   *grad.Grad
	mem map[Size]netMemory // per tile size, see memory.go
	// hook, if set, sees every tensor fed to the network (tests).
	hook func(x *tensor.Tensor)
}

// New checks the options and that the model has every layer, and plans the gradients.
func New(m *Model, opt Options) (*Dreamer, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	var missing []string
	names := make([]string, len(opt.Layers))
	for i, l := range opt.Layers {
		names[i] = l.Name
		v, ok := m.Plan.ValueID(l.Name)
		if !ok || m.Plan.Producer(v) < 0 {
			missing = append(missing, fmt.Sprintf("%q", l.Name))
		}
	}
	if len(missing) > 0 {
		what := "layer " + missing[0]
		if len(missing) > 1 {
			what = "layers " + strings.Join(missing, ", ")
		}
		return nil, fmt.Errorf("dream: the model has no %s; the layers it computes are: %s", what, layerNames(m.Layers()))
	}
	g, err := grad.New(m.Plan, names, []string{m.Input})
	if err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	if opt.Threads == 0 {
		opt.Threads = runtime.NumCPU()
	}
	if opt.MaxMemory == 0 {
		opt.MaxMemory = DefaultMaxMemory
	}
	return &Dreamer{m: m, opt: opt, g: g, mem: map[Size]netMemory{}}, nil
}

func (o *Options) check() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case len(o.Layers) == 0:
		return errors.New("dream: no layers")
	case !(o.Step > 0) || !finite(o.Step):
		return fmt.Errorf("dream: step %v: want a finite number > 0", o.Step)
	case o.Iterations < 0:
		return fmt.Errorf("dream: %d iterations: want >= 0", o.Iterations)
	case o.MaxLoss < 0 || !finite(o.MaxLoss):
		return fmt.Errorf("dream: max loss %v: want a finite number >= 0 (0: no limit)", o.MaxLoss)
	case o.Octaves < 1:
		return fmt.Errorf("dream: %d octaves: want at least 1", o.Octaves)
	case !(o.OctaveScale >= 1) || !finite(o.OctaveScale):
		return fmt.Errorf("dream: octave scale %v: want a finite number >= 1", o.OctaveScale)
	case o.Border < 0:
		return fmt.Errorf("dream: border %d: want >= 0", o.Border)
	case o.TileSize < 0:
		return fmt.Errorf("dream: tile size %d: want >= 0 (0: no tiles)", o.TileSize)
	case o.Threads < 0:
		return fmt.Errorf("dream: %d threads", o.Threads)
	case o.MaxMemory < 0:
		return fmt.Errorf("dream: max memory %d bytes", o.MaxMemory)
	}
	for _, l := range o.Layers {
		if !finite(l.Weight) {
			return fmt.Errorf("dream: layer %q: weight %v", l.Name, l.Weight)
		}
	}
	return nil
}

// Options returns the options in use (defaults filled in).
func (d *Dreamer) Options() Options { return d.opt }

// octavePlan is the geometry of one octave: its size and its tiles.
type octavePlan struct {
	size   Size
	ys, xs []span
}

func (d *Dreamer) octavePlans(orig Size) ([]octavePlan, error) {
	sizes, err := OctaveShapes(orig, d.opt.Octaves, d.opt.OctaveScale)
	if err != nil {
		return nil, err
	}
	out := make([]octavePlan, len(sizes))
	for i, s := range sizes {
		out[i] = octavePlan{size: s, ys: tileSpans(s.H, d.opt.TileSize), xs: tileSpans(s.W, d.opt.TileSize)}
	}
	return out, nil
}

func (o octavePlan) tile() Size  { return Size{o.ys[0].Len, o.xs[0].Len} }
func (o octavePlan) ntiles() int { return len(o.ys) * len(o.xs) }
func (o octavePlan) String() string {
	if o.ntiles() == 1 {
		return o.size.String()
	}
	return fmt.Sprintf("%s in %d tiles of %s", o.size, o.ntiles(), o.tile())
}

// Run dreams on img, a float32 [1, 3, H, W] image in the model's input range (Model.Range),
// and returns the result in the same range (not clipped) with a report. img is not modified.
func (d *Dreamer) Run(img *tensor.Tensor) (*tensor.Tensor, *Report, error) {
	if img == nil || img.DType != tensor.Float32 || img.Rank() != 4 || img.Shape[0] != 1 || img.Shape[1] != 3 {
		return nil, nil, fmt.Errorf("dream: want a float32 image [1, 3, H, W], got %v", img)
	}
	orig := Size{img.Shape[2], img.Shape[3]}
	plans, err := d.octavePlans(orig)
	if err != nil {
		return nil, nil, err
	}
	need, err := d.EstimateMemory(orig)
	if err != nil {
		return nil, nil, err
	}
	if need > d.opt.MaxMemory {
		return nil, nil, d.memoryError(orig, plans, need)
	}
	rep := &Report{Memory: need}
	rng := rand.New(rand.NewPCG(d.opt.Seed, 0x6465657064726561)) // "deepdrea"
	start := time.Now()
	total := d.opt.Iterations * len(plans)
	done := 0

	// The book's loop (8.2): shrink the original to the smallest octave; at each octave,
	// resize the dream to it, ascend, then re-inject the detail the shrinking lost.
	original := img
	shrunk, err := Resize(original, plans[0].size)
	if err != nil {
		return nil, nil, err
	}
	cur := original
	for k, op := range plans {
		t0, c0 := time.Now(), processCPU()
		if cur, err = Resize(cur, op.size); err != nil {
			return nil, nil, err
		}
		or := OctaveReport{Size: op.size, Tiles: op.ntiles(), Tile: op.tile()}
		st := d.newOctave(op, cur, rng)
		for it := range d.opt.Iterations {
			loss, err := st.lossAndGrad()
			if err != nil {
				return nil, nil, fmt.Errorf("dream: octave %d/%d (%s), iteration %d: %w", k+1, len(plans), op, it+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, nil, fmt.Errorf("dream: octave %d/%d (%s), iteration %d: the loss is %v", k+1, len(plans), op, it+1, loss)
			}
			or.Losses = append(or.Losses, loss)
			done++
			stop := d.opt.MaxLoss > 0 && loss > d.opt.MaxLoss
			if d.opt.Progress != nil {
				d.opt.Progress(Progress{Octave: k + 1, Octaves: len(plans), Size: op.size, Tiles: op.ntiles(),
					Iteration: it + 1, Iterations: d.opt.Iterations, Loss: loss, Stopped: stop,
					Done: done, Total: total, Elapsed: time.Since(start)})
			}
			if stop {
				or.Stopped = true
				done += d.opt.Iterations - it - 1
				break
			}
			ascend(cur, st.grad, d.opt.Step)
		}
		detail, err := LostDetail(original, shrunk, op.size)
		if err != nil {
			return nil, nil, err
		}
		addInto(cur, detail)
		if shrunk, err = Resize(original, op.size); err != nil {
			return nil, nil, err
		}
		or.Duration, or.CPU = time.Since(t0), processCPU()-c0
		rep.Octaves = append(rep.Octaves, or)
	}
	return cur, rep, nil
}

// ascend takes one step of gradient ascent on the normalised gradient, as the book:
// x += step * g / max(mean|g|, 1e-7).
func ascend(x, g *tensor.Tensor, step float64) {
	gs := g.F32()
	var sum float64
	for _, v := range gs {
		sum += math.Abs(float64(v))
	}
	k := float32(step / max(sum/float64(len(gs)), 1e-7))
	xs := x.F32()
	for i, v := range gs {
		xs[i] += k * v
	}
}

// octave is the state of one octave's ascent: a gradient session sized for its tiles and the
// buffers of its steps.
type octave struct {
	d      *Dreamer
	op     octavePlan
	sess   *grad.Session
	img    *tensor.Tensor // the image being dreamed, [1, 3, H, W]
	grad   *tensor.Tensor // dLoss/dimg of the last lossAndGrad
	rolled *tensor.Tensor // tiles: the shifted image and its gradient
	racc   *tensor.Tensor
	tile   *tensor.Tensor
	feeds  map[string]*tensor.Tensor
	rng    *rand.Rand
	scale  float64 // the current tile's weight in the loss
	lossFn func(vals, seeds map[string]*tensor.Tensor) (float64, error)
}

func (d *Dreamer) newOctave(op octavePlan, img *tensor.Tensor, rng *rand.Rand) *octave {
	st := &octave{d: d, op: op, img: img, rng: rng,
		sess:  d.g.NewSession(engine.SessionOptions{Threads: d.opt.Threads}),
		grad:  tensor.New(tensor.Float32, img.Shape...),
		feeds: map[string]*tensor.Tensor{}}
	if op.ntiles() > 1 {
		st.rolled = tensor.New(tensor.Float32, img.Shape...)
		st.racc = tensor.New(tensor.Float32, img.Shape...)
		st.tile = &tensor.Tensor{}
	}
	st.lossFn = func(vals, seeds map[string]*tensor.Tensor) (float64, error) {
		return d.loss(vals, seeds, st.scale)
	}
	return st
}

// loss is the DeepDream loss of one forward pass, scale times the weighted sum of the
// layers' LayerLoss, with its gradient added into seeds.
func (d *Dreamer) loss(vals, seeds map[string]*tensor.Tensor, scale float64) (float64, error) {
	var total float64
	for _, l := range d.opt.Layers {
		v, ok := vals[l.Name]
		if !ok {
			return 0, fmt.Errorf("layer %q was not computed", l.Name)
		}
		li, err := LayerLoss(v, seeds[l.Name], scale*l.Weight, d.opt.Border)
		if err != nil {
			return 0, err
		}
		total += l.Weight * li
	}
	return scale * total, nil
}

// step runs the network forward and backward on x with the loss scaled by scale and returns
// the loss and dLoss/dx (borrowed until the next step).
func (st *octave) step(x *tensor.Tensor, scale float64) (float64, *tensor.Tensor, error) {
	if st.d.hook != nil {
		st.d.hook(x)
	}
	st.scale = scale
	st.feeds[st.d.m.Input] = x
	loss, grads, err := st.sess.Step(st.feeds, st.lossFn)
	if err != nil {
		return 0, nil, err
	}
	return loss, grads[st.d.m.Input], nil
}

// lossAndGrad computes the loss of the current image and its gradient into st.grad: whole,
// or tile by tile on the image shifted by a random offset, each tile's loss weighted by its
// share of the tiles' area (so that the total is the area-weighted mean of the tiles' book
// losses, the whole image's loss when every activation pixel sees only its own tile).
func (st *octave) lossAndGrad() (float64, error) {
	if st.op.ntiles() == 1 {
		loss, g, err := st.step(st.img, 1)
		if err != nil {
			return 0, err
		}
		copy(st.grad.F32(), g.F32())
		return loss, nil
	}
	H, W := st.img.Shape[2], st.img.Shape[3]
	dy, dx := st.rng.IntN(H), st.rng.IntN(W)
	roll(st.rolled, st.img, dy, dx)
	st.racc.Zero()
	t := st.op.tile()
	scale := 1 / float64(st.op.ntiles())
	var loss float64
	for _, ys := range st.op.ys {
		for _, xs := range st.op.xs {
			crop(st.tile, st.rolled, ys, xs)
			l, g, err := st.step(st.tile, scale)
			if err != nil {
				return 0, fmt.Errorf("tile %s at (%d, %d): %w", t, xs.Start, ys.Start, err)
			}
			loss += l
			addCrop(st.racc, g, ys, xs, 1)
		}
	}
	roll(st.grad, st.racc, -dy, -dx)
	return loss, nil
}
