package vae

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/trainer/layers"
)

// GraphShapes returns the shapes the graph gives c's parameters, in vae.Config.ParamShapes
// order: ONNX's, except that a dense bias [out] is held as [1, out] (the same bytes).
func GraphShapes(c vae.Config) [][]int {
	var out [][]int
	ps := c.ParamShapes()
	for i, s := range ps {
		if s.Kind == vae.KindBias && ps[i-1].Kind == vae.KindDense {
			out = append(out, layers.BiasRow(s.Shape[0]))
			continue
		}
		out = append(out, s.Shape)
	}
	return out
}

// DenseParams returns p's parameters as Gorgonia tensors in GraphShapes, aliasing p's data:
// training them in place trains p.
func DenseParams(c vae.Config, p *vae.Params) []*tensor.Dense {
	shapes := GraphShapes(c)
	var out []*tensor.Dense
	for i, t := range p.List() {
		out = append(out, tensor.New(tensor.WithShape(shapes[i]...), tensor.WithBacking(t.F32())))
	}
	return out
}

// Options select what a Net computes.
type Options struct {
	// Batch is the number of images per run.
	Batch int
	// Gradients adds the gradients of Loss with respect to every parameter.
	Gradients bool
}

// Net is the VAE's training graph for one batch size, built once; each run re-binds the
// images and the noise and resets the machine.
//
//	x [B, C, H, W] -> encoder -> z_mean, z_log_var [B, L]
//	z = z_mean + exp(z_log_var/2) ⊙ eps                eps [B, L] ~ N(0, I), an input
//	z -> decoder -> logits [B, C, H, W]
//	BCE = Σ sigmoid-BCE(logits, x)                      nats, summed over pixels and images
//	KL  = ½ Σ (exp(z_log_var) + z_mean² - 1 - z_log_var)  summed over latent dims and images
//	Loss = (BCE + KL) / B                               the negative ELBO per image
type Net struct {
	Cfg vae.Config
	Opt Options

	g  *G.ExprGraph
	vm G.VM

	// X holds the images (and the BCE targets), Eps the noise.
	X, Eps *G.Node
	// Params are the parameter nodes in GraphShapes order; Grads their gradients of Loss.
	Params, Grads          []*G.Node
	ZMean, ZLogVar, Logits *G.Node
	BCE, KL, Loss          *G.Node

	xbuf, epsbuf *tensor.Dense
	// values read during the run (Gorgonia may reuse an intermediate's memory later in the
	// run; G.Read copies it while it is valid)
	zMeanV, zLogVarV, logitsV G.Value
}

// NewNet builds the graph of c over params (GraphShapes order, all float32 or all float64;
// the graph aliases them).
func NewNet(c vae.Config, params []*tensor.Dense, opt Options) (*Net, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	shapes := GraphShapes(c)
	if len(params) != len(shapes) {
		return nil, fmt.Errorf("vae: %d parameters, want %d", len(params), len(shapes))
	}
	if opt.Batch < 1 {
		return nil, fmt.Errorf("vae: batch %d, want >= 1", opt.Batch)
	}
	dt := params[0].Dtype()
	names := c.ParamShapes()
	n := &Net{Cfg: c, Opt: opt, g: G.NewGraph()}
	for i, p := range params {
		if !p.Shape().Eq(tensor.Shape(shapes[i])) || p.Dtype() != dt {
			return nil, fmt.Errorf("vae: parameter %s: %v %v, want %v %v", names[i].Name, p.Dtype(), p.Shape(), dt, shapes[i])
		}
		n.Params = append(n.Params, G.NewTensor(n.g, dt, len(shapes[i]), G.WithShape(shapes[i]...), G.WithName(names[i].Name), G.WithValue(p)))
	}
	if err := n.build(dt); err != nil {
		return nil, fmt.Errorf("vae: building the graph: %w", err)
	}
	if opt.Gradients {
		grads, err := G.Grad(n.Loss, n.Params...)
		if err != nil {
			return nil, fmt.Errorf("vae: gradients: %w", err)
		}
		n.Grads = grads
	}
	n.vm = G.NewTapeMachine(n.g)
	return n, nil
}

func (n *Net) build(dt tensor.Dtype) error {
	c, B := n.Cfg, n.Opt.Batch
	C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
	L, k := c.LatentDim, c.Kernel
	n.xbuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, C, H, W))
	n.epsbuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, L))
	n.X = G.NewTensor(n.g, dt, 4, G.WithShape(B, C, H, W), G.WithName("x"), G.WithValue(n.xbuf))
	n.Eps = G.NewMatrix(n.g, dt, G.WithShape(B, L), G.WithName("eps"), G.WithValue(n.epsbuf))
	p := n.Params
	next := func() (*G.Node, *G.Node) {
		w, b := p[0], p[1]
		p = p[2:]
		return w, b
	}
	kk := [2]int{k, k}

	// encoder: x [B, C, H, W] -> conv/relu (stride 2, "same") ... -> [B, F, h, w]
	h, hh, hw := n.X, H, W
	for range c.Filters {
		w, b := next()
		sp := layers.ConvSpec{Stride: [2]int{2, 2}, Pads: layers.SamePads([2]int{hh, hw}, kk, [2]int{2, 2})}
		y, err := layers.Conv2d(h, w, b, sp)
		if err != nil {
			return err
		}
		if h, err = layers.ReLU(y); err != nil {
			return err
		}
		hh, hw = hh/2, hw/2
	}
	flat, err := layers.Flatten(h) // [B, F·h·w]
	if err != nil {
		return err
	}
	w, b := next()
	hid, err := layers.Dense(flat, w, b)
	if err != nil {
		return err
	}
	if hid, err = layers.ReLU(hid); err != nil { // [B, Hidden]
		return err
	}
	w, b = next()
	if n.ZMean, err = layers.Dense(hid, w, b); err != nil { // [B, L]
		return err
	}
	w, b = next()
	if n.ZLogVar, err = layers.Dense(hid, w, b); err != nil { // [B, L]
		return err
	}
	G.Read(n.ZMean, &n.zMeanV)
	G.Read(n.ZLogVar, &n.zLogVarV)

	// reparameterisation: z = mean + exp(log_var/2) ⊙ eps   [B, L]
	half := constant(dt, 0.5)
	s, err := G.HadamardProd(n.ZLogVar, half)
	if err != nil {
		return err
	}
	if s, err = G.Exp(s); err != nil {
		return err
	}
	if s, err = G.HadamardProd(s, n.Eps); err != nil {
		return err
	}
	z, err := G.Add(n.ZMean, s)
	if err != nil {
		return err
	}

	// decoder: z -> dense/relu [B, F·h·w] -> [B, F, h, w] -> convT/relu ... -> logits
	F, bh, bw := c.Bottleneck()
	w, b = next()
	d, err := layers.Dense(z, w, b)
	if err != nil {
		return err
	}
	if d, err = layers.ReLU(d); err != nil {
		return err
	}
	if d, err = layers.Reshape(d, B, F, bh, bw); err != nil {
		return err
	}
	up := layers.SameTransposeSpec(kk, [2]int{2, 2})
	for range c.Filters {
		w, b := next()
		y, err := layers.ConvTranspose2d(d, w, b, up)
		if err != nil {
			return err
		}
		if d, err = layers.ReLU(y); err != nil {
			return err
		}
	}
	w, b = next()
	if n.Logits, err = layers.ConvTranspose2d(d, w, b, layers.SameTransposeSpec(kk, [2]int{1, 1})); err != nil {
		return err
	}
	if !n.Logits.Shape().Eq(tensor.Shape{B, C, H, W}) {
		return fmt.Errorf("decoder output %v, want %v", n.Logits.Shape(), []int{B, C, H, W})
	}
	G.Read(n.Logits, &n.logitsV)

	// loss
	if n.BCE, err = layers.SigmoidBCESum(n.Logits, n.X); err != nil {
		return err
	}
	ev, err := G.Exp(n.ZLogVar)
	if err != nil {
		return err
	}
	m2, err := G.Square(n.ZMean)
	if err != nil {
		return err
	}
	t, err := G.Add(ev, m2)
	if err != nil {
		return err
	}
	if t, err = G.Sub(t, n.ZLogVar); err != nil {
		return err
	}
	ts, err := G.Sum(t)
	if err != nil {
		return err
	}
	// KL = ½·Σ(exp(lv) + m² - lv) - ½·B·L
	if ts, err = G.HadamardProd(ts, half); err != nil {
		return err
	}
	if n.KL, err = G.Sub(ts, constant(dt, 0.5*float64(B*L))); err != nil {
		return err
	}
	sum, err := G.Add(n.BCE, n.KL)
	if err != nil {
		return err
	}
	n.Loss, err = G.HadamardProd(sum, constant(dt, 1/float64(B)))
	return err
}

func constant(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float64 {
		return G.NewConstant(v)
	}
	return G.NewConstant(float32(v))
}

// Result is one run's loss: BCE and KL summed over the batch's images (nats), and Loss,
// their sum per image.
type Result struct {
	BCE, KL, Loss float64
}

// Run binds a batch and runs the graph once (forward, and backward when the net has
// gradients). x holds Batch images [B, C, H, W] and eps Batch noise vectors [B, L], both
// []float32 or []float64 as the parameters.
func (n *Net) Run(x, eps any) (Result, error) {
	if err := layers.Fill(n.xbuf, x); err != nil {
		return Result{}, fmt.Errorf("vae: images: %w", err)
	}
	if err := layers.Fill(n.epsbuf, eps); err != nil {
		return Result{}, fmt.Errorf("vae: noise: %w", err)
	}
	defer n.vm.Reset() // stale values otherwise (DESIGN.md, Gorgonia traps)
	if err := n.vm.RunAll(); err != nil {
		return Result{}, fmt.Errorf("vae: run: %w", err)
	}
	var r Result
	for _, o := range []struct {
		name string
		node *G.Node
		dst  *float64
	}{{"BCE", n.BCE, &r.BCE}, {"KL", n.KL, &r.KL}, {"loss", n.Loss, &r.Loss}} {
		v, err := layers.Scalar(o.node.Value())
		if err != nil {
			return r, fmt.Errorf("vae: %s: %w", o.name, err)
		}
		*o.dst = v
	}
	return r, nil
}

// GradData returns the data of gradient k after a Run ([]float32 or []float64, in the
// parameter's layout), valid until the next Run.
func (n *Net) GradData(k int) (any, error) {
	d, err := layers.NodeData(n.Grads[k])
	if err != nil {
		return nil, fmt.Errorf("vae: gradient of %s: %w", n.Params[k].Name(), err)
	}
	return d, nil
}

// Outputs returns copies of the last run's z_mean, z_log_var [B, L] and logits [B, C, H, W]
// data ([]float32 or []float64).
func (n *Net) Outputs() (zMean, zLogVar, logits any, err error) {
	for _, v := range []G.Value{n.zMeanV, n.zLogVarV, n.logitsV} {
		if v == nil {
			return nil, nil, nil, fmt.Errorf("vae: no run yet")
		}
	}
	return n.zMeanV.Data(), n.zLogVarV.Data(), n.logitsV.Data(), nil
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
