package style

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// tinyVGG is a VGG19 in the zoo's layout with random weights and block 1 of `channels`
// channels (64 in the real network), with its classifier head.
func tinyVGG(t testing.TB, channels int) *onnx.ModelProto {
	t.Helper()
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(11, 19)), vgg19.ZooOptions{Channels: channels})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tinyNetwork(t testing.TB, channels int, opt NetworkOptions) *Network {
	t.Helper()
	net, err := NewNetwork(tinyVGG(t, channels), opt)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func TestVGGNetwork(t *testing.T) {
	net := tinyNetwork(t, 4, NetworkOptions{})
	if net.Kind != VGG19 || net.Content != "block5_conv2" || strings.Join(net.Style, ",") != strings.Join(VGGStyle, ",") {
		t.Fatalf("network %s: kind %s, content %s, style %v; want the book's VGG19 layers", net.Summary, net.Kind, net.Content, net.Style)
	}
	if net.Input != vgg19.InputName || net.Scale != [3]float32{1, 1, 1} || net.Shift != [3]float32{} {
		t.Errorf("input %q scale %v shift %v: want the extractor's RGB [0,255] input", net.Input, net.Scale, net.Shift)
	}
	if len(net.Available) != 21 {
		t.Errorf("available layers %v: want VGG19's 21", net.Available)
	}
}

// TestGradient checks the gradient of the whole loss with respect to the image against
// central finite differences of the loss, on a tiny VGG19 (block 1 of 4 channels) at 32x48
// pixels, for each term alone and for the book's weighting, on 40 random pixels:
// |grad - fd| <= 2e-2 * max|fd| + 5e-2 * |fd|. The network runs in float32 and is piecewise
// linear (Relu, MaxPool), so the step (0.1, pixel units in [0, 255]) is small enough to
// cross few kinks and large enough for float32 rounding (loss ~5e3 * 6e-8 / 0.2 ~ 2e-3,
// under the tolerance). A pixel whose differences at steps 0.1 and 0.03 disagree beyond the
// tolerance sits at a kink, where neither is the derivative: it is skipped, and at most 4
// of the 40 may be.
func TestGradient(t *testing.T) {
	net := tinyNetwork(t, 4, NetworkOptions{})
	const h, w = 32, 48
	content, style := randomImage(h, w, 1), randomImage(h, w, 2)
	x0 := randomImage(h, w, 3).F32()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"content", Config{ContentWeight: 1}},
		{"style", Config{StyleWeight: 1e6}},
		{"style-layer-norm", Config{StyleWeight: 1, StyleNorm: NormLayer}},
		{"tv", Config{TVWeight: 1}},
		{"book", DefaultConfig()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Threads = 2
			tr, err := NewTransfer(net, content, style, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			x := append([]float32(nil), x0...)
			dx := make([]float32, len(x))
			l0, err := tr.Evaluate(x, dx)
			if err != nil {
				t.Fatal(err)
			}
			if !(l0.Total > 0) {
				t.Fatalf("loss %v: want > 0 at a random image", l0)
			}
			scratch := make([]float32, len(x))
			loss := func(i int, v float32) float64 {
				old := x[i]
				x[i] = v
				l, err := tr.Evaluate(x, scratch)
				x[i] = old
				if err != nil {
					t.Fatal(err)
				}
				return l.Total
			}
			fdAt := func(i int, step float32) float64 {
				return (loss(i, x[i]+step) - loss(i, x[i]-step)) / float64(2*step)
			}
			rng := rand.New(rand.NewPCG(5, 5))
			idx := make([]int, 40)
			fd := make([]float64, len(idx))
			maxFD := 0.0
			for k := range idx {
				idx[k] = rng.IntN(len(x))
				fd[k] = fdAt(idx[k], 0.1)
				maxFD = max(maxFD, math.Abs(fd[k]))
			}
			if maxFD == 0 {
				t.Fatal("all finite differences are 0")
			}
			tol := func(want float64) float64 { return 2e-2*maxFD + 5e-2*math.Abs(want) }
			kinks := 0
			for k, i := range idx {
				if math.Abs(float64(dx[i])-fd[k]) <= tol(fd[k]) {
					continue
				}
				if fine := fdAt(i, 0.03); math.Abs(fine-fd[k]) > tol(fine) {
					kinks++
					t.Logf("pixel %d: at a kink (differences %.6g at step 0.1, %.6g at 0.03; gradient %.6g)", i, fd[k], fine, dx[i])
					continue
				}
				t.Errorf("pixel %d: gradient %.6g, finite difference %.6g (max |fd| %.3g)", i, dx[i], fd[k], maxFD)
			}
			if kinks > 4 {
				t.Errorf("%d of %d pixels at kinks: the check is too weak", kinks, len(idx))
			}
		})
	}
}

// TestTermsAndTargets checks the loss terms against their definitions: at the content image
// the content loss is 0, at the style image (the same size) the style loss is 0, and the
// book's style normalisation is (3·H·W)² for every layer.
func TestTermsAndTargets(t *testing.T) {
	net := tinyNetwork(t, 4, NetworkOptions{})
	const h, w = 32, 40
	content, style := randomImage(h, w, 1), randomImage(h, w, 2)
	tr, err := NewTransfer(net, content, style, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	dx := make([]float32, tr.Len())
	l, err := tr.Evaluate(content.F32(), dx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Content != 0 || !(l.Style > 0) || !(l.TV > 0) {
		t.Errorf("at the content image: %v; want content 0, style and TV > 0", l)
	}
	l, err = tr.Evaluate(style.F32(), dx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Style != 0 || !(l.Content > 0) {
		t.Errorf("at the style image: %v; want style 0, content > 0", l)
	}
	for i, n := range tr.norm {
		if n != 3*h*w {
			t.Errorf("style layer %d: normalisation %v, want 3*H*W = %d", i, n, 3*h*w)
		}
	}
	var sum float64
	for _, s := range l.StyleLayers {
		sum += s
	}
	if math.Abs(sum-l.Style) > 1e-9*math.Abs(l.Style) || math.Abs(l.Total-(l.Content+l.Style+l.TV)) > 1e-9*l.Total {
		t.Errorf("terms do not add up: %v, layers %v", l, l.StyleLayers)
	}
}

func TestRunDecreases(t *testing.T) {
	net := tinyNetwork(t, 4, NetworkOptions{})
	const h, w = 32, 40
	content, style := randomImage(h, w, 1), randomImage(h, w, 2)
	for _, opt := range []Options{
		{Optimizer: LBFGS, Rounds: 3, Iterations: 8},
		{Optimizer: Adam, Rounds: 3, Iterations: 8, LR: 2},
	} {
		t.Run(opt.Optimizer, func(t *testing.T) {
			tr, err := NewTransfer(net, content, style, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			x, err := InitImage(InitContent, content, 1)
			if err != nil {
				t.Fatal(err)
			}
			l0, err := tr.Evaluate(x, make([]float32, len(x)))
			if err != nil {
				t.Fatal(err)
			}
			var rounds []float64
			evals := 0
			opt.Round = func(r Round) error {
				rounds = append(rounds, r.Loss.Total)
				evals += r.Evals
				if r.Evals > opt.Iterations {
					t.Errorf("round %d: %d evaluations, want at most %d", r.Index, r.Evals, opt.Iterations)
				}
				return nil
			}
			last, err := tr.Run(x, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(rounds) != opt.Rounds {
				t.Fatalf("%d rounds reported, want %d", len(rounds), opt.Rounds)
			}
			t.Logf("%s: loss %.4g -> %v, %d evaluations", opt.Optimizer, l0.Total, rounds, evals)
			if !(last.Total < 0.5*l0.Total) {
				t.Errorf("loss %.4g -> %.4g: want at least halved", l0.Total, last.Total)
			}
			if opt.Optimizer == LBFGS {
				for i := 1; i < len(rounds); i++ {
					if rounds[i] > rounds[i-1] {
						t.Errorf("L-BFGS round %d: loss rose %.6g -> %.6g", i+1, rounds[i-1], rounds[i])
					}
				}
			}
			// The returned loss is the loss at the returned image.
			l, err := tr.Evaluate(x, make([]float32, len(x)))
			if err != nil {
				t.Fatal(err)
			}
			if opt.Optimizer == LBFGS && math.Abs(l.Total-last.Total) > 1e-6*l.Total {
				t.Errorf("Run returned loss %.8g, the image's loss is %.8g", last.Total, l.Total)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	net := tinyNetwork(t, 2, NetworkOptions{})
	c := randomImage(32, 32, 1)
	tr, err := NewTransfer(net, c, c, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	x := c.F32()
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Rounds: 0, Iterations: 5}, "at least one"},
		{Options{Rounds: 1, Iterations: 1}, "at least 2"},
		{Options{Optimizer: "sgd", Rounds: 1, Iterations: 5}, `optimizer "sgd"`},
		{Options{Optimizer: Adam, Rounds: 1, Iterations: 5}, "learning rate"},
		{Options{Optimizer: Adam, Rounds: 1, Iterations: 5, LR: math.Inf(1)}, "learning rate"},
	} {
		_, err := tr.Run(x, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "style: ") {
			t.Errorf("%+v: error %v, want one containing %q", tc.opt, err, tc.want)
		}
	}
	if _, err := tr.Run(x[:10], Options{Rounds: 1, Iterations: 5}); err == nil {
		t.Error("an image of the wrong size was accepted")
	}
	// A NaN pixel makes the loss NaN: an error, not a silent result.
	bad := append([]float32(nil), x...)
	bad[5] = float32(math.NaN())
	if _, err := tr.Evaluate(bad, make([]float32, len(bad))); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("NaN pixel: error %v", err)
	}
}

func TestTransferErrors(t *testing.T) {
	net := tinyNetwork(t, 2, NetworkOptions{})
	c := randomImage(32, 40, 1)
	for _, tc := range []struct {
		name           string
		content, style *tensor.Tensor
		cfg            Config
		want           string
	}{
		{"sizes differ", c, randomImage(40, 32, 1), DefaultConfig(), "resize the style image"},
		{"gray", tensor.New(tensor.Float32, 1, 1, 32, 32), c, DefaultConfig(), "content image: want float32 [1, 3, H, W]"},
		{"negative weight", c, c, Config{ContentWeight: -1, StyleWeight: 1}, "content weight -1"},
		{"NaN weight", c, c, Config{StyleWeight: math.NaN()}, "style weight NaN"},
		{"all zero", c, c, Config{}, "every loss weight is 0"},
		{"norm", c, c, Config{StyleWeight: 1, StyleNorm: "gatys"}, `normalisation "gatys"`},
		// 16x16: block5 (1/16) is 1x1 but block5_pool would be fine; 8x8 leaves block5 at 0.
		{"too small", randomImage(8, 8, 1), randomImage(8, 8, 2), DefaultConfig(), "8x8 image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTransfer(net, tc.content, tc.style, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "style: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
