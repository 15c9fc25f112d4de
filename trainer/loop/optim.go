package loop

import (
	"fmt"
	"math"
)

// Optimizer names.
const (
	RMSprop = "rmsprop"
	Adam    = "adam"
)

// Keras' constants: RMSprop rho 0.9, Adam beta1 0.9 (the default; WithBeta1 changes it),
// beta2 0.999, epsilon 1e-7.
const (
	rmsRho       = 0.9
	DefaultBeta1 = 0.9
	adamB2       = 0.999
	optimEps     = 1e-7
)

// Optimizer updates parameters in place from their gradients. Its state (Slots, T) goes into
// checkpoints so that a resumed run continues exactly.
type Optimizer struct {
	Name string
	LR   float64
	// Beta1 is Adam's first-moment decay (DefaultBeta1 unless WithBeta1 set it).
	Beta1 float64
	// ClipValue, when > 0, clips each gradient element to [-ClipValue, ClipValue] after the
	// scale Step is given (Keras' clipvalue); 0 turns it off.
	ClipValue float64
	// T counts the updates (Adam's bias correction).
	T int64
	// Slots: RMSprop one per parameter (mean square), Adam two (m, then v, per parameter).
	Slots [][]float32
}

// An Option sets an optimizer setting beyond its name and learning rate.
type Option func(*Optimizer) error

// WithBeta1 sets Adam's first-moment decay, 0 <= b < 1 (the DCGAN paper uses 0.5). RMSprop
// ignores it.
func WithBeta1(b float64) Option {
	return func(o *Optimizer) error {
		if !(b >= 0 && b < 1) {
			return fmt.Errorf("loop: Adam beta1 %v, want 0 <= beta1 < 1", b)
		}
		o.Beta1 = b
		return nil
	}
}

// WithClipValue clips every gradient element to [-c, c] (Keras' clipvalue; the book's DCGAN
// uses 1); c = 0 turns it off.
func WithClipValue(c float64) Option {
	return func(o *Optimizer) error {
		if !(c >= 0) || math.IsInf(c, 0) {
			return fmt.Errorf("loop: clip value %v, want a finite number >= 0", c)
		}
		o.ClipValue = c
		return nil
	}
}

// NewOptimizer returns an optimizer for parameters of the given sizes.
func NewOptimizer(name string, lr float64, sizes []int, opts ...Option) (*Optimizer, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("loop: learning rate %v, want a finite number > 0", lr)
	}
	o := &Optimizer{Name: name, LR: lr, Beta1: DefaultBeta1}
	var per int
	switch name {
	case RMSprop:
		per = 1
	case Adam:
		per = 2
	default:
		return nil, fmt.Errorf("loop: optimizer %q, want %q or %q", name, RMSprop, Adam)
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	for range per {
		for _, n := range sizes {
			o.Slots = append(o.Slots, make([]float32, n))
		}
	}
	return o, nil
}

// ClipScale returns the factor that brings the global L2 norm of grads to at most clip (1
// when clip <= 0 or the norm is within it), and the norm.
func ClipScale(grads [][]float32, clip float64) (scale, norm float64) {
	var ss float64
	for _, g := range grads {
		for _, v := range g {
			ss += float64(v) * float64(v)
		}
	}
	norm = math.Sqrt(ss)
	if clip > 0 && norm > clip {
		return clip / norm, norm
	}
	return 1, norm
}

// Step applies one update with the gradients scaled by scale (ClipScale's factor; 1 for
// none), then clipped to ClipValue when it is set.
func (o *Optimizer) Step(params, grads [][]float32, scale float64) {
	o.T++
	n := len(params)
	lr, s, c := float32(o.LR), float32(scale), float32(o.ClipValue)
	grad := func(g float32) float32 {
		g *= s // exact when s = 1
		if c > 0 {
			return min(max(g, -c), c)
		}
		return g
	}
	switch o.Name {
	case RMSprop:
		for k, p := range params {
			acc, g := o.Slots[k], grads[k]
			for i := range p {
				gi := grad(g[i])
				acc[i] = rmsRho*acc[i] + (1-rmsRho)*gi*gi
				p[i] -= lr * gi / (float32(math.Sqrt(float64(acc[i]))) + optimEps)
			}
		}
	case Adam:
		// b1 and 1-b1 rounded from float64, as the constants 0.9 and 0.1 were.
		b1, c1 := float32(o.Beta1), float32(1-o.Beta1)
		// lr_t = lr·sqrt(1-β2^t)/(1-β1^t), as Keras
		lrt := float32(o.LR * math.Sqrt(1-math.Pow(adamB2, float64(o.T))) / (1 - math.Pow(o.Beta1, float64(o.T))))
		for k, p := range params {
			m, v, g := o.Slots[k], o.Slots[n+k], grads[k]
			for i := range p {
				gi := grad(g[i])
				m[i] = b1*m[i] + c1*gi
				v[i] = adamB2*v[i] + (1-adamB2)*gi*gi
				p[i] -= lrt * m[i] / (float32(math.Sqrt(float64(v[i]))) + optimEps)
			}
		}
	}
}

// Restore sets the state from checkpointed slots and update count.
func (o *Optimizer) Restore(slots [][]float32, t int64) error {
	if len(slots) != len(o.Slots) {
		return fmt.Errorf("loop: %s state has %d arrays, want %d", o.Name, len(slots), len(o.Slots))
	}
	for i, s := range slots {
		if len(s) != len(o.Slots[i]) {
			return fmt.Errorf("loop: %s state array %d has %d values, want %d", o.Name, i, len(s), len(o.Slots[i]))
		}
		copy(o.Slots[i], s)
	}
	o.T = t
	return nil
}

// Clone returns a deep copy.
func (o *Optimizer) Clone() *Optimizer {
	c := *o
	c.Slots = CloneSlices(o.Slots)
	return &c
}

// CloneSlices returns a deep copy of s.
func CloneSlices(s [][]float32) [][]float32 {
	out := make([][]float32, len(s))
	for i, v := range s {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// CopySlices copies src into dst element-wise (equal lengths).
func CopySlices(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}
