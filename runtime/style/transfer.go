package style

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/grad"
	"github.com/gendl/gendl/runtime/tensor"
)

// Style-loss normalisations (Config.StyleNorm).
const (
	// NormBook is the book's: each layer's sum((G - S)²) is divided by 4·(3·H·W)² — the
	// image's channels and pixel count, the same for every layer.
	NormBook = "book"
	// NormLayer divides by 4·(c·n)², the layer's channels c and positions n (Gatys et al.
	// 2016, up to their 1/N² vs the book's form), which weighs the layers more evenly.
	NormLayer = "layer"
)

// Config holds the loss weights of neural style transfer.
type Config struct {
	// ContentWeight, StyleWeight and TVWeight weigh the content loss, the style loss (split
	// evenly over the style layers, as the book does) and the total-variation loss.
	ContentWeight, StyleWeight, TVWeight float64
	// StyleNorm is NormBook ("" too) or NormLayer.
	StyleNorm string
	// Threads is the number of goroutines of the forward and backward passes (0: 1).
	Threads int
}

// DefaultConfig is the book's: content 0.025, style 1, total variation 1e-4.
func DefaultConfig() Config {
	return Config{ContentWeight: 0.025, StyleWeight: 1, TVWeight: 1e-4, StyleNorm: NormBook, Threads: 1}
}

// InceptionConfig is for InceptionV3's default layers (InceptionStyle): its activations are
// batch-normalised and its input is in [-1, 1], so its Gram matrices are about 1e-6 of
// VGG19's on the same image and the book's style weight would leave only the
// total-variation term. The style weight is raised to match; content and total variation
// keep the book's weights (chosen by eye on Grace Hopper and The Starry Night; see the README).
func InceptionConfig() Config {
	c := DefaultConfig()
	c.StyleWeight = 1e6
	return c
}

// Check reports weights that are negative or not finite, and an unknown normalisation.
func (c Config) Check() error {
	for _, w := range []struct {
		name string
		v    float64
	}{{"content weight", c.ContentWeight}, {"style weight", c.StyleWeight}, {"total-variation weight", c.TVWeight}} {
		if !(w.v >= 0) || math.IsInf(w.v, 0) {
			return fmt.Errorf("style: %s %v: want a finite number >= 0", w.name, w.v)
		}
	}
	if c.ContentWeight == 0 && c.StyleWeight == 0 && c.TVWeight == 0 {
		return errors.New("style: every loss weight is 0")
	}
	if c.StyleNorm != "" && c.StyleNorm != NormBook && c.StyleNorm != NormLayer {
		return fmt.Errorf("style: style normalisation %q: want %s or %s", c.StyleNorm, NormBook, NormLayer)
	}
	return nil
}

// Loss is the value of the loss at one image, by term; each term is weighted, and Total is
// their sum.
type Loss struct {
	Total, Content, Style, TV float64
	// StyleLayers holds each style layer's weighted term, in the order of Network.Style.
	StyleLayers []float64
}

func (l Loss) String() string {
	return fmt.Sprintf("loss %.4g (content %.4g, style %.4g, total variation %.4g)", l.Total, l.Content, l.Style, l.TV)
}

// Transfer evaluates the style-transfer loss and its gradient with respect to the generated
// image, for one content image, one style image and one image size. The targets — the
// content layer's features of the content image and the Gram matrices of the style image's
// style layers — are computed once by NewTransfer. A Transfer is not safe for concurrent use.
type Transfer struct {
	net  *Network
	cfg  Config
	H, W int

	sess    *grad.Session
	feed    *tensor.Tensor // the network input [1, 3, H, W]
	feeds   map[string]*tensor.Tensor
	content []float32   // content target [c, h, w]
	targets [][]float32 // per style layer: the style image's Gram matrix [c, c]
	gram    [][]float32 // per style layer: scratch [c, c]
	norm    []float64   // per style layer: the normalisation
	dims    [][2]int    // per style layer: c, n
	evals   int
}

// NewTransfer prepares the loss for images of content's size: content and style are float32
// [1, 3, H, W] RGB in [0, 255] of one size (resize the style image to the content's, as the
// book does). It runs the network on both to compute the targets.
func NewTransfer(net *Network, content, style *tensor.Tensor, cfg Config) (*Transfer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.StyleNorm == "" {
		cfg.StyleNorm = NormBook
	}
	if err := checkImage("content image", content); err != nil {
		return nil, err
	}
	if err := checkImage("style image", style); err != nil {
		return nil, err
	}
	if !tensor.SameShape(content.Shape, style.Shape) {
		return nil, fmt.Errorf("style: the style image is %s and the content image %s; resize the style image to the content's size",
			tensor.ShapeString(style.Shape), tensor.ShapeString(content.Shape))
	}
	of := append([]string{net.Content}, net.Style...)
	of = dedup(of)
	g, err := grad.New(net.Plan, of, []string{net.Input})
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	t := &Transfer{net: net, cfg: cfg, H: content.Shape[2], W: content.Shape[3],
		sess: g.NewSession(engine.SessionOptions{Threads: max(cfg.Threads, 1)}),
		feed: tensor.New(tensor.Float32, 1, 3, content.Shape[2], content.Shape[3])}
	t.feeds = map[string]*tensor.Tensor{net.Input: t.feed}

	// The content target.
	t.setFeed(content.F32())
	vals, err := t.sess.Forward(t.feeds)
	if err != nil {
		return nil, t.forwardError(err)
	}
	cv := vals[net.Content]
	if err := checkFeatures(net.Content, cv); err != nil {
		return nil, err
	}
	t.content = append([]float32(nil), cv.F32()...)
	if err := checkFinite("the content layer "+net.Content+" of the content image", t.content); err != nil {
		return nil, err
	}

	// The style targets.
	t.setFeed(style.F32())
	if vals, err = t.sess.Forward(t.feeds); err != nil {
		return nil, t.forwardError(err)
	}
	for _, name := range net.Style {
		v := vals[name]
		if err := checkFeatures(name, v); err != nil {
			return nil, err
		}
		c, n := v.Shape[1], v.Shape[2]*v.Shape[3]
		s := make([]float32, c*c)
		Gram(t.cfg.Threads, c, n, v.F32(), s)
		if err := checkFinite("the Gram matrix of style layer "+name+" of the style image", s); err != nil {
			return nil, err
		}
		norm := float64(3 * t.H * t.W)
		if cfg.StyleNorm == NormLayer {
			norm = float64(c) * float64(n)
		}
		t.targets = append(t.targets, s)
		t.gram = append(t.gram, make([]float32, c*c))
		t.norm = append(t.norm, norm)
		t.dims = append(t.dims, [2]int{c, n})
	}
	return t, nil
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func checkImage(what string, t *tensor.Tensor) error {
	if t == nil || t.DType != tensor.Float32 || t.Rank() != 4 || t.Shape[0] != 1 || t.Shape[1] != 3 {
		return fmt.Errorf("style: %s: want float32 [1, 3, H, W] (RGB), got %v", what, t)
	}
	if t.Shape[2] < 1 || t.Shape[3] < 1 {
		return fmt.Errorf("style: %s is empty (%s)", what, tensor.ShapeString(t.Shape))
	}
	return nil
}

func checkFeatures(name string, v *tensor.Tensor) error {
	if v == nil || v.Rank() != 4 || v.Shape[0] != 1 {
		return fmt.Errorf("style: layer %q: want features [1, C, h, w], got %v", name, v)
	}
	if v.Len() == 0 {
		return fmt.Errorf("style: layer %q is empty at this image size (%s): the image is too small for the network", name, tensor.ShapeString(v.Shape))
	}
	return nil
}

func (t *Transfer) forwardError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "grad: ")
	return fmt.Errorf("style: running the network on a %dx%d image: %s", t.W, t.H, msg)
}

// setFeed maps RGB pixels x [3, H, W] to the network input.
func (t *Transfer) setFeed(x []float32) {
	hw := t.H * t.W
	dst := t.feed.F32()
	for c := range 3 {
		a, b := t.net.Scale[c], t.net.Shift[c]
		src, d := x[c*hw:(c+1)*hw], dst[c*hw:(c+1)*hw]
		for i, v := range src {
			d[i] = v*a + b
		}
	}
}

// Size returns the image height and width.
func (t *Transfer) Size() (h, w int) { return t.H, t.W }

// Len is the number of values of an image: 3·H·W.
func (t *Transfer) Len() int { return 3 * t.H * t.W }

// Evaluations counts the calls of Evaluate.
func (t *Transfer) Evaluations() int { return t.evals }

// Network returns the network.
func (t *Transfer) Network() *Network { return t.net }

// Evaluate returns the loss at the image x (float32 [3, H, W] RGB in [0, 255], flattened)
// and writes its gradient with respect to x into dx (of x's length).
func (t *Transfer) Evaluate(x, dx []float32) (Loss, error) {
	if len(x) != t.Len() || len(dx) != t.Len() {
		return Loss{}, fmt.Errorf("style: Evaluate: image of %d values and gradient of %d, want %d (3x%dx%d)", len(x), len(dx), t.Len(), t.H, t.W)
	}
	t.evals++
	t.setFeed(x)
	var loss Loss
	loss.StyleLayers = make([]float64, len(t.net.Style))
	threads := max(t.cfg.Threads, 1)
	perLayer := t.cfg.StyleWeight / float64(len(t.net.Style))
	_, grads, err := t.sess.Step(t.feeds, func(vals, seeds map[string]*tensor.Tensor) (float64, error) {
		if w := t.cfg.ContentWeight; w > 0 {
			f := vals[t.net.Content]
			if f.Len() != len(t.content) {
				return 0, fmt.Errorf("style: content layer %q: %s, want %d values", t.net.Content, tensor.ShapeString(f.Shape), len(t.content))
			}
			loss.Content = w * ContentTerm(f.F32(), t.content, w, seeds[t.net.Content].F32())
		}
		if perLayer > 0 {
			for i, name := range t.net.Style {
				f := vals[name]
				c, n := t.dims[i][0], t.dims[i][1]
				if f.Len() != c*n {
					return 0, fmt.Errorf("style: style layer %q: %s, want %d values", name, tensor.ShapeString(f.Shape), c*n)
				}
				l := perLayer * StyleTerm(threads, c, n, f.F32(), t.targets[i], t.gram[i], t.norm[i], perLayer, seeds[name].F32())
				loss.StyleLayers[i] = l
				loss.Style += l
			}
		}
		return loss.Content + loss.Style, nil
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "style: ") {
			return Loss{}, err
		}
		return Loss{}, t.forwardError(err)
	}
	g := grads[t.net.Input].F32()
	hw := t.H * t.W
	for c := range 3 {
		a := t.net.Scale[c]
		src, d := g[c*hw:(c+1)*hw], dx[c*hw:(c+1)*hw]
		for i, v := range src {
			d[i] = v * a
		}
	}
	if w := t.cfg.TVWeight; w > 0 {
		loss.TV = w * TotalVariation(3, t.H, t.W, x, w, dx)
	}
	loss.Total = loss.Content + loss.Style + loss.TV
	if math.IsNaN(loss.Total) || math.IsInf(loss.Total, 0) {
		return loss, fmt.Errorf("style: the loss is not finite (%s)", loss)
	}
	return loss, nil
}
