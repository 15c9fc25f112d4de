package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Selu is gamma*(alpha*e^x - alpha) for x <= 0 and gamma*x otherwise (opset 6, 22; float32,
// float64). The defaults are the float32 roundings of the constants of Klambauer et al.,
// "Self-Normalizing Neural Networks" (2017), as the spec gives them.
type selu struct {
	k unaryKernels
}

// Spec defaults of Selu's attributes.
const (
	seluAlpha = 1.67326319217681884765625
	seluGamma = 1.05070102214813232421875
)

func newSelu(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	alpha := float64(n.Attrs.Float("alpha", seluAlpha))
	gamma := float64(n.Attrs.Float("gamma", seluGamma))
	return selu{k: unaryKernels{
		f32: func(dst, src []float32) { seluRun(dst, src, alpha, gamma) },
		f64: func(dst, src []float64) { seluRun(dst, src, alpha, gamma) },
	}}, nil
}

func (op selu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &op.k)
}

func seluRun[T floatElem](dst, src []T, alpha, gamma float64) {
	for i, v := range src {
		x := float64(v)
		if x <= 0 {
			x = alpha * math.Expm1(x)
		}
		dst[i] = T(gamma * x)
	}
}

func (op selu) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &op.k) }
