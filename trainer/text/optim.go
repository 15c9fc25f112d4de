package text

import (
	"fmt"
	"math"
)

// Optimizer names.
const (
	RMSprop = "rmsprop"
	Adam    = "adam"
)

// Keras' constants: RMSprop rho 0.9, Adam beta1 0.9, beta2 0.999, epsilon 1e-7.
const (
	rmsRho   = 0.9
	adamB1   = 0.9
	adamB2   = 0.999
	optimEps = 1e-7
)

// optimizer updates parameters in place from their gradients. Its state (Slots, T) is
// saved in checkpoints so that a resumed run continues exactly.
type optimizer struct {
	Name string
	LR   float64
	// T counts the updates (Adam's bias correction).
	T int64
	// Slots: RMSprop one per parameter (mean square), Adam two (m then v, per parameter).
	Slots [][]float32
}

func newOptimizer(name string, lr float64, sizes []int) (*optimizer, error) {
	o := &optimizer{Name: name, LR: lr}
	var per int
	switch name {
	case RMSprop:
		per = 1
	case Adam:
		per = 2
	default:
		return nil, fmt.Errorf("text: optimizer %q, want %q or %q", name, RMSprop, Adam)
	}
	for range per {
		for _, n := range sizes {
			o.Slots = append(o.Slots, make([]float32, n))
		}
	}
	return o, nil
}

// clipScale returns the factor that brings the global L2 norm of grads to at most clip
// (1 when clip <= 0 or the norm is within it), and the norm.
func clipScale(grads [][]float32, clip float64) (scale, norm float64) {
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

// step applies one update with gradients scaled by scale.
func (o *optimizer) step(params, grads [][]float32, scale float64) {
	o.T++
	n := len(params)
	lr, s := float32(o.LR), float32(scale)
	switch o.Name {
	case RMSprop:
		for k, p := range params {
			acc, g := o.Slots[k], grads[k]
			for i := range p {
				gi := g[i] * s
				acc[i] = rmsRho*acc[i] + (1-rmsRho)*gi*gi
				p[i] -= lr * gi / (float32(math.Sqrt(float64(acc[i]))) + optimEps)
			}
		}
	case Adam:
		// lr_t = lr·sqrt(1-β2^t)/(1-β1^t), as Keras
		lrt := float32(o.LR * math.Sqrt(1-math.Pow(adamB2, float64(o.T))) / (1 - math.Pow(adamB1, float64(o.T))))
		for k, p := range params {
			m, v, g := o.Slots[k], o.Slots[n+k], grads[k]
			for i := range p {
				gi := g[i] * s
				m[i] = adamB1*m[i] + (1-adamB1)*gi
				v[i] = adamB2*v[i] + (1-adamB2)*gi*gi
				p[i] -= lrt * m[i] / (float32(math.Sqrt(float64(v[i]))) + optimEps)
			}
		}
	}
}

func (o *optimizer) clone() *optimizer {
	c := *o
	c.Slots = cloneSlices(o.Slots)
	return &c
}

func cloneSlices(s [][]float32) [][]float32 {
	out := make([][]float32, len(s))
	for i, v := range s {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

func copySlices(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}
