package gan

import (
	"fmt"
	"math"
)

// Optimizer names.
const (
	RMSprop = "rmsprop"
	Adam    = "adam"
)

// Keras' constants: RMSprop rho 0.9; Adam beta2 0.999; epsilon 1e-7. Adam's beta1 is a
// setting (the DCGAN paper: 0.5; Keras' default 0.9).
const (
	rmsRho   = 0.9
	adamB2   = 0.999
	optimEps = 1e-7
)

// optimizer updates parameters in place, element-wise clipping each gradient to
// [-ClipValue, ClipValue] first (Keras' clipvalue, the book's clipvalue=1.0; 0: off). Its
// state (Slots, T) goes into checkpoints so that a resumed run continues exactly.
//
// (trainer/loop's Optimizer has Adam with beta1 fixed at Keras' 0.9 and global-norm
// clipping; the DCGAN recipe needs beta1 0.5 and the book clips values.)
type optimizer struct {
	Name      string
	LR        float64
	Beta1     float64
	ClipValue float64
	// T counts the updates (Adam's bias correction).
	T int64
	// Slots: RMSprop one per parameter (mean square), Adam two (m, then v, per parameter).
	Slots [][]float32
}

func newOptimizer(name string, lr, beta1, clip float64, sizes []int) (*optimizer, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("gan: learning rate %v, want a finite number > 0", lr)
	}
	if !(clip >= 0) || math.IsInf(clip, 0) {
		return nil, fmt.Errorf("gan: clip value %v, want >= 0", clip)
	}
	o := &optimizer{Name: name, LR: lr, Beta1: beta1, ClipValue: clip}
	per := 1
	switch name {
	case RMSprop:
	case Adam:
		if !(beta1 >= 0 && beta1 < 1) {
			return nil, fmt.Errorf("gan: Adam beta1 %v, want 0 <= beta1 < 1", beta1)
		}
		per = 2
	default:
		return nil, fmt.Errorf("gan: optimizer %q, want %q or %q", name, RMSprop, Adam)
	}
	for range per {
		for _, n := range sizes {
			o.Slots = append(o.Slots, make([]float32, n))
		}
	}
	return o, nil
}

// step applies one update.
func (o *optimizer) step(params, grads [][]float32) {
	o.T++
	n := len(params)
	lr, c := float32(o.LR), float32(o.ClipValue)
	clip := func(g float32) float32 {
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
				gi := clip(g[i])
				acc[i] = rmsRho*acc[i] + (1-rmsRho)*gi*gi
				p[i] -= lr * gi / (float32(math.Sqrt(float64(acc[i]))) + optimEps)
			}
		}
	case Adam:
		b1 := float32(o.Beta1)
		// lr_t = lr·sqrt(1-β2^t)/(1-β1^t), as Keras
		lrt := float32(o.LR * math.Sqrt(1-math.Pow(adamB2, float64(o.T))) / (1 - math.Pow(o.Beta1, float64(o.T))))
		for k, p := range params {
			m, v, g := o.Slots[k], o.Slots[n+k], grads[k]
			for i := range p {
				gi := clip(g[i])
				m[i] = b1*m[i] + (1-b1)*gi
				v[i] = adamB2*v[i] + (1-adamB2)*gi*gi
				p[i] -= lrt * m[i] / (float32(math.Sqrt(float64(v[i]))) + optimEps)
			}
		}
	}
}

// restore sets the state from checkpointed slots and update count.
func (o *optimizer) restore(slots [][]float32, t int64) error {
	if len(slots) != len(o.Slots) {
		return fmt.Errorf("gan: %s state has %d arrays, want %d", o.Name, len(slots), len(o.Slots))
	}
	for i, s := range slots {
		if len(s) != len(o.Slots[i]) {
			return fmt.Errorf("gan: %s state array %d has %d values, want %d", o.Name, i, len(s), len(o.Slots[i]))
		}
		copy(o.Slots[i], s)
	}
	o.T = t
	return nil
}
