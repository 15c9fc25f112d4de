package ops

import "github.com/gendl/gendl/runtime/tensor"

// LeakyRelu is x for x >= 0 and alpha*x otherwise (opset 6, 16; float32, float64). alpha
// defaults to 0.01.
type leakyRelu struct {
	k unaryKernels
}

func newLeakyRelu(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	alpha := n.Attrs.Float("alpha", 0.01)
	return leakyRelu{k: unaryKernels{
		f32: func(dst, src []float32) { leakyReluRun(dst, src, alpha) },
		f64: func(dst, src []float64) { leakyReluRun(dst, src, float64(alpha)) },
	}}, nil
}

func (op leakyRelu) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	return runUnary("X", in[0], out[0], &op.k)
}

func leakyReluRun[T floatElem](dst, src []T, alpha T) {
	for i, v := range src {
		if v < 0 {
			v *= alpha
		}
		dst[i] = v
	}
}

func (op leakyRelu) Infer(in []Type) ([]Type, error) { return inferUnary("X", in[0], &op.k) }
