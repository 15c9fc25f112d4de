package charlstm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gendl/gendl/runtime/tensor"
)

// Layer holds one LSTM layer's weights in ONNX LSTM layout (one direction, gate blocks
// stacked i, o, f, c).
type Layer struct {
	W *tensor.Tensor // [1, 4H, in]: input weights; in = V for layer 0, H above
	R *tensor.Tensor // [1, 4H, H]: recurrent weights
	B *tensor.Tensor // [1, 8H]: input bias Wb [4H], then recurrent bias Rb [4H]
}

// Params are a char-LSTM's weights, float32.
type Params struct {
	Layers []Layer
	HeadW  *tensor.Tensor // [V, H]: logits = h · HeadWᵀ + HeadB
	HeadB  *tensor.Tensor // [V]
}

// Gate block offsets (in units of H) within the 4H rows of W, R and each half of B.
const (
	GateI = 0
	GateO = 1
	GateF = 2
	GateC = 3
)

// layerIn returns the input width of layer l.
func (c Config) layerIn(l int) int {
	if l == 0 {
		return c.VocabSize()
	}
	return c.Hidden
}

// NewParams returns freshly initialised parameters for cfg, drawn from rng, as Keras
// initialises an LSTM and a Dense layer: input weights and the head Glorot-uniform
// (limit sqrt(6/(fan_in+fan_out))), recurrent weights orthogonal (R [4H, H] has orthonormal
// columns), biases zero except the forget gate's input bias, 1 (unit_forget_bias).
func NewParams(cfg Config, rng *rand.Rand) (*Params, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	V, H := cfg.VocabSize(), cfg.Hidden
	p := &Params{}
	for l := range cfg.Layers {
		in := cfg.layerIn(l)
		w := tensor.New(tensor.Float32, 1, 4*H, in)
		glorot(w.F32(), in, 4*H, rng)
		r := tensor.New(tensor.Float32, 1, 4*H, H)
		orthogonal(r.F32(), 4*H, H, rng)
		b := tensor.New(tensor.Float32, 1, 8*H)
		bd := b.F32()
		for j := GateF * H; j < (GateF+1)*H; j++ {
			bd[j] = 1
		}
		p.Layers = append(p.Layers, Layer{W: w, R: r, B: b})
	}
	p.HeadW = tensor.New(tensor.Float32, V, H)
	glorot(p.HeadW.F32(), H, V, rng)
	p.HeadB = tensor.New(tensor.Float32, V)
	return p, nil
}

// glorot fills w uniformly in ±sqrt(6/(fanIn+fanOut)).
func glorot(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// orthogonal fills the row-major [rows, cols] matrix w (rows >= cols) with orthonormal
// columns: a standard normal matrix orthonormalised by modified Gram-Schmidt, column signs
// as a QR's with a positive diagonal of R (Keras' orthogonal initializer, gain 1).
func orthogonal(w []float32, rows, cols int, rng *rand.Rand) {
	a := make([]float64, rows*cols) // column-major: column j is a[j*rows:(j+1)*rows]
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for j := range cols {
		cj := a[j*rows : (j+1)*rows]
		for k := range j {
			ck := a[k*rows : (k+1)*rows]
			var dot float64
			for i := range rows {
				dot += ck[i] * cj[i]
			}
			for i := range rows {
				cj[i] -= dot * ck[i]
			}
		}
		var norm float64
		for _, v := range cj {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		if norm == 0 { // measure zero; keep the matrix finite
			cj[j%rows] = 1
			norm = 1
		}
		for i := range cj {
			cj[i] /= norm
		}
	}
	for i := range rows {
		for j := range cols {
			w[i*cols+j] = float32(a[j*rows+i])
		}
	}
}

// Validate checks that every tensor is present, float32, of the shape cfg implies, with
// data of the right length.
func (p *Params) Validate(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("charlstm: nil params")
	}
	if len(p.Layers) != cfg.Layers {
		return fmt.Errorf("charlstm: params have %d layers, config %d", len(p.Layers), cfg.Layers)
	}
	V, H := cfg.VocabSize(), cfg.Hidden
	for l, ly := range p.Layers {
		in := cfg.layerIn(l)
		for _, c := range []struct {
			name  string
			t     *tensor.Tensor
			shape []int
		}{
			{"W", ly.W, []int{1, 4 * H, in}},
			{"R", ly.R, []int{1, 4 * H, H}},
			{"B", ly.B, []int{1, 8 * H}},
		} {
			if err := checkParam(fmt.Sprintf("layer %d %s", l, c.name), c.t, c.shape); err != nil {
				return err
			}
		}
	}
	if err := checkParam("head W", p.HeadW, []int{V, H}); err != nil {
		return err
	}
	return checkParam("head b", p.HeadB, []int{V})
}

func checkParam(name string, t *tensor.Tensor, shape []int) error {
	if t == nil {
		return fmt.Errorf("charlstm: params: %s is missing", name)
	}
	if t.DType != tensor.Float32 {
		return fmt.Errorf("charlstm: params: %s is %v, want float32", name, t.DType)
	}
	if !tensor.SameShape(t.Shape, shape) {
		return fmt.Errorf("charlstm: params: %s has shape %s, want %s", name, tensor.ShapeString(t.Shape), tensor.ShapeString(shape))
	}
	if d, ok := t.Data.([]float32); !ok || len(d) != tensor.Numel(shape) {
		return fmt.Errorf("charlstm: params: %s: data does not hold %d float32 values", name, tensor.Numel(shape))
	}
	return nil
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	c := &Params{HeadW: p.HeadW.Clone(), HeadB: p.HeadB.Clone()}
	for _, l := range p.Layers {
		c.Layers = append(c.Layers, Layer{W: l.W.Clone(), R: l.R.Clone(), B: l.B.Clone()})
	}
	return c
}
