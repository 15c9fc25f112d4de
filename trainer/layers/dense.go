package layers

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dense is ONNX's Gemm with transB 0: x [N, in] · w [in, out] + b -> [N, out]. The bias node
// is [1, out] (the bytes of ONNX's [out]; see BiasRow).
func Dense(x, w, b *G.Node) (*G.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[0] {
		return nil, fmt.Errorf("layers: Dense: input %v and weights %v: want [N, in] and [in, out]", xs, ws)
	}
	if len(bs) != 2 || bs[0] != 1 || bs[1] != ws[1] {
		return nil, fmt.Errorf("layers: Dense: bias shape %v, want [1 %d]", bs, ws[1])
	}
	y, err := G.Mul(x, w)
	if err != nil {
		return nil, fmt.Errorf("layers: Dense: %w", err)
	}
	if y, err = G.BroadcastAdd(y, b, nil, []byte{0}); err != nil {
		return nil, fmt.Errorf("layers: Dense: %w", err)
	}
	return y, nil
}

// BiasRow returns the graph shape of a Dense bias of out units, [1, out].
func BiasRow(out int) []int { return []int{1, out} }

// Flatten reshapes x [N, d1, d2, ...] to [N, d1·d2·...] (ONNX Flatten, axis 1; NCHW order).
func Flatten(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("layers: Flatten: input shape %v, want at least 2-D", s)
	}
	return Reshape(x, s[0], s.TotalSize()/s[0])
}

// Reshape gives x the shape dims (same element count, row-major order kept).
func Reshape(x *G.Node, dims ...int) (*G.Node, error) {
	if x.Shape().TotalSize() != tensor.Shape(dims).TotalSize() {
		return nil, fmt.Errorf("layers: Reshape: %v to %v changes the element count", x.Shape(), dims)
	}
	y, err := G.Reshape(x, tensor.Shape(dims).Clone())
	if err != nil {
		return nil, fmt.Errorf("layers: Reshape: %w", err)
	}
	return y, nil
}

// Dropout multiplies x by a mask redrawn by Resample before every training run: each element
// is dropped (0) with probability Rate or kept and scaled by 1/(1-Rate) (inverted dropout, as
// Keras), so inference needs no rescaling and builds the graph without it. The mask is a graph
// input, so runs are reproducible from the RNG that draws it.
type Dropout struct {
	Rate float64
	// Mask is the mask node, shaped like x.
	Mask *G.Node
	buf  *tensor.Dense
}

// NewDropout adds the mask input of a dropout of x to x's graph and returns the layer.
func NewDropout(x *G.Node, rate float64, name string) (*Dropout, error) {
	if !(rate >= 0 && rate < 1) {
		return nil, fmt.Errorf("layers: dropout rate %v, want 0 <= rate < 1", rate)
	}
	buf := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
	d := &Dropout{Rate: rate, buf: buf}
	d.Mask = G.NewTensor(x.Graph(), x.Dtype(), x.Shape().Dims(), G.WithShape(x.Shape().Clone()...), G.WithName(name), G.WithValue(buf))
	d.fill(func() bool { return true })
	return d, nil
}

// Apply returns x ⊙ mask.
func (d *Dropout) Apply(x *G.Node) (*G.Node, error) {
	y, err := G.HadamardProd(x, d.Mask)
	if err != nil {
		return nil, fmt.Errorf("layers: Dropout: %w", err)
	}
	return y, nil
}

// Resample draws a new mask from rng (one Float64 per element, in order).
func (d *Dropout) Resample(rng *rand.Rand) {
	d.fill(func() bool { return rng.Float64() >= d.Rate })
}

func (d *Dropout) fill(keep func() bool) {
	scale := 1 / (1 - d.Rate)
	switch m := d.buf.Data().(type) {
	case []float32:
		for i := range m {
			m[i] = 0
			if keep() {
				m[i] = float32(scale)
			}
		}
	case []float64:
		for i := range m {
			m[i] = 0
			if keep() {
				m[i] = scale
			}
		}
	}
}
