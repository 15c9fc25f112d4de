package ops

import (
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Elu is alpha*(e^x - 1) for x < 0 and x otherwise (opset 6, 22; float32, float64). alpha
// defaults to 1.
type elu struct {
	k unaryKernels
}

func newElu(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	alpha := float64(n.Attrs.Float("alpha", 1))
	return elu{k: unaryKernels{
		f32: func(dst, src []float32) { eluRun(dst, src, alpha) },
		f64: func(dst, src []float64) { eluRun(dst, src, alpha) },
	}}, nil
}

func (op elu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &op.k)
}

func eluRun[T floatElem](dst, src []T, alpha float64) {
	for i, v := range src {
		if v < 0 {
			v = T(alpha * math.Expm1(float64(v)))
		}
		dst[i] = v
	}
}

func (op elu) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &op.k) }
