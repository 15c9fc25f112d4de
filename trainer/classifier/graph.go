package classifier

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/classifier"
	"github.com/gendl/gendl/trainer/layers"
)

// graphShapes returns the shapes the graph gives c's parameters: ONNX's, except that a dense
// bias [out] is held as [1, out] (the same bytes).
func graphShapes(c classifier.Config) [][]int {
	var out [][]int
	ps := c.ParamShapes()
	for i, s := range ps {
		if s.Kind == classifier.KindBias && ps[i-1].Kind == classifier.KindDense {
			out = append(out, layers.BiasRow(s.Shape[0]))
			continue
		}
		out = append(out, s.Shape)
	}
	return out
}

// DenseParams returns p as Gorgonia tensors in graph shapes, aliasing p's data.
func DenseParams(c classifier.Config, p classifier.Params) []*tensor.Dense {
	gs := graphShapes(c)
	out := make([]*tensor.Dense, len(p))
	for i, t := range p {
		out[i] = tensor.New(tensor.WithShape(gs[i]...), tensor.WithBacking(t.F32()))
	}
	return out
}

// Net is the classifier's graph for one batch size, built once:
//
//	x [B, C, H, W] -> conv/ReLU (stride 2) ... -> flatten -> dense/ReLU: features [B, F]
//	-> dropout (training) -> dense: logits [B, K]
//	Loss = Σ softmax cross-entropy(logits, targets) / B          nats per image
type Net struct {
	Cfg   classifier.Config
	Batch int
	Train bool

	g  *G.ExprGraph
	vm G.VM

	X, Targets             *G.Node
	Params, Grads          []*G.Node
	Features, Logits, Loss *G.Node
	drop                   *layers.Dropout
	xBuf, tBuf             *tensor.Dense
	logitsV, featuresV     G.Value
}

// NewNet builds the graph over params (graph shapes, all float32 or all float64; aliased).
// With train it has dropout (a mask input, redrawn with Dropout().Resample) and the gradients
// of Loss.
func NewNet(c classifier.Config, params []*tensor.Dense, batch int, train bool) (*Net, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("classifier: batch %d, want >= 1", batch)
	}
	gs := graphShapes(c)
	if len(params) != len(gs) {
		return nil, fmt.Errorf("classifier: %d parameters, want %d", len(params), len(gs))
	}
	n := &Net{Cfg: c, Batch: batch, Train: train, g: G.NewGraph()}
	dt := params[0].Dtype()
	names := c.ParamShapes()
	for i, p := range params {
		if !p.Shape().Eq(tensor.Shape(gs[i])) || p.Dtype() != dt {
			return nil, fmt.Errorf("classifier: parameter %s: %v %v, want %v %v", names[i].Name, p.Dtype(), p.Shape(), dt, gs[i])
		}
		n.Params = append(n.Params, G.NewTensor(n.g, dt, len(gs[i]), G.WithShape(gs[i]...), G.WithName(names[i].Name), G.WithValue(p)))
	}
	if err := n.build(dt); err != nil {
		return nil, fmt.Errorf("classifier: building the graph: %w", err)
	}
	if train {
		grads, err := G.Grad(n.Loss, n.Params...)
		if err != nil {
			return nil, fmt.Errorf("classifier: gradients: %w", err)
		}
		n.Grads = grads
	}
	n.vm = G.NewTapeMachine(n.g)
	return n, nil
}

func (n *Net) build(dt tensor.Dtype) error {
	c, B := n.Cfg, n.Batch
	C, H, W, K := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2], len(c.Classes)
	n.xBuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, C, H, W))
	n.tBuf = tensor.New(tensor.Of(dt), tensor.WithShape(B, K))
	n.X = G.NewTensor(n.g, dt, 4, G.WithShape(B, C, H, W), G.WithName("image"), G.WithValue(n.xBuf))
	n.Targets = G.NewMatrix(n.g, dt, G.WithShape(B, K), G.WithName("targets"), G.WithValue(n.tBuf))
	p := n.Params
	k, s := [2]int{c.Kernel, c.Kernel}, [2]int{classifier.Stride, classifier.Stride}
	y, h, w := n.X, H, W
	var err error
	for i := range c.Filters {
		sp := layers.ConvSpec{Stride: s, Pads: layers.SamePads([2]int{h, w}, k, s)}
		if y, err = layers.Conv2d(y, p[2*i], p[2*i+1], sp); err != nil {
			return err
		}
		if y, err = layers.ReLU(y); err != nil {
			return err
		}
		h, w = (h+1)/2, (w+1)/2
	}
	if y, err = layers.Flatten(y); err != nil { // [B, flat]
		return err
	}
	m := 2 * len(c.Filters)
	if y, err = layers.Dense(y, p[m], p[m+1]); err != nil {
		return err
	}
	if n.Features, err = layers.ReLU(y); err != nil { // [B, hidden]
		return err
	}
	G.Read(n.Features, &n.featuresV)
	y = n.Features
	if n.Train && c.Dropout > 0 {
		if n.drop, err = layers.NewDropout(y, c.Dropout, "dropout_mask"); err != nil {
			return err
		}
		if y, err = n.drop.Apply(y); err != nil {
			return err
		}
	}
	if n.Logits, err = layers.Dense(y, p[m+2], p[m+3]); err != nil { // [B, K]
		return err
	}
	G.Read(n.Logits, &n.logitsV)
	sum, err := SoftmaxXentSum(n.Logits, n.Targets)
	if err != nil {
		return err
	}
	var inv *G.Node
	if dt == tensor.Float64 {
		inv = G.NewConstant(1 / float64(B))
	} else {
		inv = G.NewConstant(float32(1 / float64(B)))
	}
	n.Loss, err = G.HadamardProd(sum, inv)
	return err
}

// Dropout returns the dropout layer (nil without training or at rate 0).
func (n *Net) Dropout() *layers.Dropout { return n.drop }

// Run binds images x [B, C, H, W] and targets t [B, K] ([]float32 or []float64 as the
// parameters), runs the graph and returns the mean loss.
func (n *Net) Run(x, t any) (float64, error) {
	if err := layers.Fill(n.xBuf, x); err != nil {
		return 0, fmt.Errorf("classifier: images: %w", err)
	}
	if err := layers.Fill(n.tBuf, t); err != nil {
		return 0, fmt.Errorf("classifier: targets: %w", err)
	}
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("classifier: run: %w", err)
	}
	loss, err := layers.Scalar(n.Loss.Value())
	if err != nil {
		return 0, fmt.Errorf("classifier: loss: %w", err)
	}
	return loss, nil
}

// GradData returns gradient k's data after a Run.
func (n *Net) GradData(k int) (any, error) {
	d, err := layers.NodeData(n.Grads[k])
	if err != nil {
		return nil, fmt.Errorf("classifier: gradient %d: %w", k, err)
	}
	return d, nil
}

// Outputs returns the last run's logits [B, K] and features [B, F] data.
func (n *Net) Outputs() (logits, features any, err error) {
	if n.logitsV == nil || n.featuresV == nil {
		return nil, nil, fmt.Errorf("classifier: no run yet")
	}
	return n.logitsV.Data(), n.featuresV.Data(), nil
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
