package gan

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/trainer/layers"
)

// graphShapes returns the shapes a graph gives parameters: ONNX's, except that a dense bias
// [out] is held as [1, out] (the same bytes).
func graphShapes(ps []dcgan.ParamShape) [][]int {
	var out [][]int
	for i, s := range ps {
		if s.Kind == dcgan.KindBias && ps[i-1].Kind == dcgan.KindDense {
			out = append(out, layers.BiasRow(s.Shape[0]))
			continue
		}
		out = append(out, s.Shape)
	}
	return out
}

// DenseParams returns p's tensors as Gorgonia tensors in graph shapes, aliasing p's data:
// training them in place trains p, and every graph built over them sees the update.
func DenseParams(shapes []dcgan.ParamShape, p dcgan.Params) []*tensor.Dense {
	gs := graphShapes(shapes)
	out := make([]*tensor.Dense, len(p))
	for i, t := range p {
		out[i] = tensor.New(tensor.WithShape(gs[i]...), tensor.WithBacking(t.F32()))
	}
	return out
}

// paramNodes adds params (graph shapes of ps, one dtype) to g as named leaves.
func paramNodes(g *G.ExprGraph, ps []dcgan.ParamShape, params []*tensor.Dense, dt tensor.Dtype) ([]*G.Node, error) {
	gs := graphShapes(ps)
	if len(params) != len(gs) {
		return nil, fmt.Errorf("gan: %d parameters, want %d", len(params), len(gs))
	}
	out := make([]*G.Node, len(params))
	for i, p := range params {
		if !p.Shape().Eq(tensor.Shape(gs[i])) || p.Dtype() != dt {
			return nil, fmt.Errorf("gan: parameter %s: %v %v, want %v %v", ps[i].Name, p.Dtype(), p.Shape(), dt, gs[i])
		}
		out[i] = G.NewTensor(g, dt, len(gs[i]), G.WithShape(gs[i]...), G.WithName(ps[i].Name), G.WithValue(p))
	}
	return out, nil
}

// generator adds the generator to z's graph: z [B, L] -> image [B, C, H, W] in [-1, 1] (p in
// GenShapes order, then, with batch normalisation, BNShapes order). Without batch
// normalisation: dense -> LeakyReLU -> reshape -> (transposed conv -> LeakyReLU)... -> conv ->
// tanh, the book's; with it, batch normalisation (batch statistics, recorded in stats) precedes
// every LeakyReLU, after the reshape: dense -> reshape -> BN -> LeakyReLU -> (transposed conv
// -> BN -> LeakyReLU)... -> conv -> tanh (the DCGAN paper's generator).
func generator(c dcgan.Config, p []*G.Node, z *G.Node, stats []*layers.BNStats) (*G.Node, error) {
	B := z.Shape()[0]
	F, h, w := c.Base()
	ng := len(c.GenShapes())
	bn := stats != nil
	if want := ng + len(BNShapes(c)); bn && len(p) != want {
		return nil, fmt.Errorf("%d generator parameters with batch normalisation, want %d", len(p), want)
	}
	act := func(y *G.Node, l int) (*G.Node, error) { // [BN ->] LeakyReLU
		if bn {
			var err error
			if y, err = layers.BatchNorm(y, p[ng+2*l], p[ng+2*l+1], BNEps, stats[l]); err != nil {
				return nil, err
			}
		}
		return layers.LeakyReLU(y, c.Alpha)
	}
	y, err := layers.Dense(z, p[0], p[1]) // [B, F·h·w]
	if err != nil {
		return nil, err
	}
	if bn {
		if y, err = layers.Reshape(y, B, F, h, w); err != nil { // [B, F, h, w]
			return nil, err
		}
		if y, err = act(y, 0); err != nil {
			return nil, err
		}
	} else {
		if y, err = act(y, 0); err != nil {
			return nil, err
		}
		if y, err = layers.Reshape(y, B, F, h, w); err != nil { // [B, F, h, w]
			return nil, err
		}
	}
	k := [2]int{c.Kernel, c.Kernel}
	up := layers.SameTransposeSpec(k, [2]int{dcgan.Stride, dcgan.Stride})
	for i := range c.GenFilters {
		if y, err = layers.ConvTranspose2d(y, p[2+2*i], p[3+2*i], up); err != nil { // [B, f, 2h, 2w]
			return nil, err
		}
		if y, err = act(y, i+1); err != nil {
			return nil, err
		}
	}
	H, W, ok := c.ImageShape[1], c.ImageShape[2], [2]int{c.OutKernel, c.OutKernel}
	out := layers.ConvSpec{Pads: layers.SamePads([2]int{H, W}, ok, [2]int{1, 1})}
	if y, err = layers.Conv2d(y, p[ng-2], p[ng-1], out); err != nil { // [B, C, H, W]
		return nil, err
	}
	if y, err = G.Tanh(y); err != nil {
		return nil, err
	}
	if want := (tensor.Shape{B, c.ImageShape[0], H, W}); !y.Shape().Eq(want) {
		return nil, fmt.Errorf("generator output %v, want %v", y.Shape(), want)
	}
	return y, nil
}

// discriminator adds the discriminator to x's graph: x [B, C, H, W] in [-1, 1] -> logits
// [B, 1] (p in DiscShapes order). With train, dropout (a mask input) precedes the dense
// layer; it is returned so that the caller redraws its mask before every run.
func discriminator(c dcgan.Config, p []*G.Node, x *G.Node, train bool, name string) (*G.Node, *layers.Dropout, error) {
	k, s := [2]int{c.Kernel, c.Kernel}, [2]int{dcgan.Stride, dcgan.Stride}
	y := x
	h, w := c.ImageShape[1], c.ImageShape[2]
	var err error
	for i := range c.DiscFilters {
		sp := layers.ConvSpec{Stride: s, Pads: layers.SamePads([2]int{h, w}, k, s)}
		if y, err = layers.Conv2d(y, p[2*i], p[2*i+1], sp); err != nil { // [B, f, ceil(h/2), ceil(w/2)]
			return nil, nil, err
		}
		if y, err = layers.LeakyReLU(y, c.Alpha); err != nil {
			return nil, nil, err
		}
		h, w = (h+1)/2, (w+1)/2
	}
	// dropout on the last feature map [B, f, h, w], element-wise: the same as on its flattened
	// copy. (Not after the Flatten: Gorgonia v0.9.18 differentiates Reshape followed by
	// HadamardProd wrongly — Tanh -> Reshape -> HadamardProd -> Mul gives a wrong input
	// gradient — and TestDiscriminatorGradients catches it.)
	var drop *layers.Dropout
	if train && c.Dropout > 0 {
		if drop, err = layers.NewDropout(y, c.Dropout, name+".dropout_mask"); err != nil {
			return nil, nil, err
		}
		if y, err = drop.Apply(y); err != nil {
			return nil, nil, err
		}
	}
	if y, err = layers.Flatten(y); err != nil { // [B, flat]
		return nil, nil, err
	}
	n := len(p)
	if y, err = layers.Dense(y, p[n-2], p[n-1]); err != nil { // [B, 1]
		return nil, nil, err
	}
	return y, drop, nil
}

// Kind of a Net.
type Kind int

const (
	// GenOnly runs the generator: z [B, L] -> images.
	GenOnly Kind = iota
	// DiscStep is the discriminator's training graph: images [B, C, H, W] and targets [B, 1]
	// -> the mean binary cross-entropy of sigmoid(D(images)), and its gradients with respect
	// to D's parameters.
	DiscStep
	// GANStep is the generator's training graph through the discriminator: z [B, L] and
	// targets [B, 1] -> the mean binary cross-entropy of sigmoid(D(G(z))), and its gradients
	// with respect to G's parameters only: D's parameters are leaves of this graph too (the
	// same memory as DiscStep's), but nothing updates them in this step (the book's frozen D).
	GANStep
)

// Net is one of the GAN's graphs for one batch size, built once; each run re-binds its inputs
// and resets the machine.
type Net struct {
	Kind  Kind
	Cfg   dcgan.Config
	Batch int

	g  *G.ExprGraph
	vm G.VM

	// In is z (GenOnly, GANStep) or the images (DiscStep); Targets the BCE targets.
	In, Targets *G.Node
	// GenParams and DiscParams are the parameter leaves the graph uses; Grads the gradients
	// of Loss with respect to the trained ones (DiscParams for DiscStep, GenParams for
	// GANStep), in order.
	GenParams, DiscParams, Grads []*G.Node
	Images, Logits, Loss         *G.Node
	drop                         *layers.Dropout

	// BN receives the batch statistics of the generator's batch normalisations at every run
	// (nil without them).
	BN []*layers.BNStats

	inBuf, tBuf      *tensor.Dense
	imagesV, logitsV G.Value
}

// NetOptions are a Net's architecture options beyond dcgan.Config (which describes the
// exported generator; batch normalisation is folded into its weights on export).
type NetOptions struct {
	// GenBatchNorm adds batch normalisation (gamma and beta after the generator's parameters,
	// BNShapes order) before each of the generator's LeakyReLUs.
	GenBatchNorm bool
}

// NewNet builds a graph of kind k over the generator's and the discriminator's parameters
// (graph shapes of GenShapes and DiscShapes, all float32 or all float64; the graph aliases
// them). DiscStep needs only disc, GenOnly only gen.
func NewNet(c dcgan.Config, k Kind, batch int, gen, disc []*tensor.Dense) (*Net, error) {
	return NewNetWith(c, k, batch, gen, disc, NetOptions{})
}

// NewNetWith is NewNet with options; with GenBatchNorm, gen holds GenShapes then BNShapes.
func NewNetWith(c dcgan.Config, k Kind, batch int, gen, disc []*tensor.Dense, opt NetOptions) (*Net, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("gan: batch %d, want >= 1", batch)
	}
	n := &Net{Kind: k, Cfg: c, Batch: batch, g: G.NewGraph()}
	var dt tensor.Dtype
	switch {
	case k != DiscStep && len(gen) > 0:
		dt = gen[0].Dtype()
	case k != GenOnly && len(disc) > 0:
		dt = disc[0].Dtype()
	default:
		return nil, fmt.Errorf("gan: no parameters")
	}
	var err error
	if k != DiscStep {
		shapes := c.GenShapes()
		if opt.GenBatchNorm {
			shapes = append(shapes, BNShapes(c)...)
			for range len(BNShapes(c)) / 2 {
				n.BN = append(n.BN, &layers.BNStats{})
			}
		}
		if n.GenParams, err = paramNodes(n.g, shapes, gen, dt); err != nil {
			return nil, err
		}
	}
	if k != GenOnly {
		if n.DiscParams, err = paramNodes(n.g, c.DiscShapes(), disc, dt); err != nil {
			return nil, err
		}
	}
	if err := n.build(dt); err != nil {
		return nil, fmt.Errorf("gan: building the graph: %w", err)
	}
	switch k {
	case DiscStep:
		n.Grads, err = G.Grad(n.Loss, n.DiscParams...)
	case GANStep:
		n.Grads, err = G.Grad(n.Loss, n.GenParams...)
	}
	if err != nil {
		return nil, fmt.Errorf("gan: gradients: %w", err)
	}
	n.vm = G.NewTapeMachine(n.g)
	return n, nil
}

func (n *Net) build(dt tensor.Dtype) error {
	c, B := n.Cfg, n.Batch
	C, H, W, L := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2], c.LatentDim
	var err error
	if n.Kind == DiscStep {
		n.inBuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, C, H, W))
		n.In = G.NewTensor(n.g, dt, 4, G.WithShape(B, C, H, W), G.WithName("images"), G.WithValue(n.inBuf))
		n.Images = n.In
	} else {
		n.inBuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, L))
		n.In = G.NewMatrix(n.g, dt, G.WithShape(B, L), G.WithName("z"), G.WithValue(n.inBuf))
		if n.Images, err = generator(c, n.GenParams, n.In, n.BN); err != nil {
			return err
		}
		G.Read(n.Images, &n.imagesV)
	}
	if n.Kind == GenOnly {
		return nil
	}
	if n.Logits, n.drop, err = discriminator(c, n.DiscParams, n.Images, true, "disc"); err != nil {
		return err
	}
	G.Read(n.Logits, &n.logitsV)
	n.tBuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, 1))
	n.Targets = G.NewMatrix(n.g, dt, G.WithShape(B, 1), G.WithName("targets"), G.WithValue(n.tBuf))
	sum, err := layers.SigmoidBCESum(n.Logits, n.Targets)
	if err != nil {
		return err
	}
	var inv *G.Node
	if dt == tensor.Float64 {
		inv = G.NewConstant(1 / float64(B))
	} else {
		inv = G.NewConstant(float32(1 / float64(B)))
	}
	n.Loss, err = G.HadamardProd(sum, inv) // mean over the batch, as Keras
	return err
}

// Dropout returns the discriminator's dropout layer (nil for GenOnly or rate 0): its mask is
// an input, redrawn by the caller before each run.
func (n *Net) Dropout() *layers.Dropout { return n.drop }

// Run binds the input (z [B, L] or images [B, C, H, W]) and, except for GenOnly, the targets
// [B] (each in [0, 1]; 1 means real), runs the graph once, and returns the loss (0 for
// GenOnly). in and targets are []float32 or []float64 as the parameters.
func (n *Net) Run(in, targets any) (float64, error) {
	if err := layers.Fill(n.inBuf, in); err != nil {
		return 0, fmt.Errorf("gan: input: %w", err)
	}
	if n.Kind != GenOnly {
		if err := layers.Fill(n.tBuf, targets); err != nil {
			return 0, fmt.Errorf("gan: targets: %w", err)
		}
	}
	defer n.vm.Reset() // stale values otherwise (DESIGN.md, Gorgonia traps)
	if err := n.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("gan: run: %w", err)
	}
	if n.Kind == GenOnly {
		return 0, nil
	}
	loss, err := layers.Scalar(n.Loss.Value())
	if err != nil {
		return 0, fmt.Errorf("gan: loss: %w", err)
	}
	return loss, nil
}

// GradData returns the data of gradient k after a Run ([]float32 or []float64, in the
// parameter's layout), valid until the next Run.
func (n *Net) GradData(k int) (any, error) {
	d, err := layers.NodeData(n.Grads[k])
	if err != nil {
		return nil, fmt.Errorf("gan: gradient %d: %w", k, err)
	}
	return d, nil
}

// ImagesData returns the last run's generated images [B, C, H, W] (GenOnly, GANStep).
func (n *Net) ImagesData() (any, error) {
	if n.imagesV == nil {
		return nil, fmt.Errorf("gan: no generated images (kind %d, or no run yet)", n.Kind)
	}
	return n.imagesV.Data(), nil
}

// LogitsData returns the last run's discriminator logits [B, 1] (DiscStep, GANStep).
func (n *Net) LogitsData() (any, error) {
	if n.logitsV == nil {
		return nil, fmt.Errorf("gan: no logits (kind %d, or no run yet)", n.Kind)
	}
	return n.logitsV.Data(), nil
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
