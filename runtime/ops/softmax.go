package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// Softmax is e^x / sum(e^x) along an axis (opset 1, 11, 13; float32, float64).
//
// Before opset 13 the input is coerced to 2-D at axis (default 1): dimensions
// [d0..d(axis-1)] form the rows and [d(axis)..] the columns, and each row is normalised.
// From opset 13 the normalisation runs along the single axis (default -1). The maximum of each
// line is subtracted before exponentiating, so large inputs do not overflow; sums are in
// float64.
type softmax struct {
	axis   int64
	legacy bool // opset < 13: coerce to 2-D
	log    bool // LogSoftmax
}

func newSoftmax(n *Node) (Op, error) { return newSoftmaxOp(n, false) }

// newSoftmaxOp builds Softmax, or LogSoftmax when log is set: the two share attributes and
// opset history.
func newSoftmaxOp(n *Node, log bool) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	op := softmax{legacy: n.Opset < 13, log: log}
	def := int64(-1)
	if op.legacy {
		def = 1
	}
	op.axis = n.Attrs.Int("axis", def)
	return op, nil
}

func (op softmax) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	axis, err := resolveAxis(op.axis, x.Rank())
	if err != nil {
		return fmt.Errorf("attribute \"axis\": %w", err)
	}
	outer, n, inner := splitAtAxis(x.Shape, axis)
	if op.legacy {
		n, inner = n*inner, 1
	}
	y := out[0]
	switch x.DType {
	case tensor.Float32:
		y.Reset(x.DType, x.Shape)
		softmaxRun(y.F32(), x.F32(), outer, n, inner, op.log)
	case tensor.Float64:
		y.Reset(x.DType, x.Shape)
		softmaxRun(y.F64(), x.F64(), outer, n, inner, op.log)
	default:
		return fmt.Errorf("input \"input\": dtype %v is not supported", x.DType)
	}
	return nil
}

// softmaxRun normalises each of the outer*inner lines of n elements (stride inner) of src into
// dst: the softmax, or with log its logarithm x - max - log(sum(e^(x-max))).
func softmaxRun[T floatElem](dst, src []T, outer, n, inner int, log bool) {
	if n == 0 {
		return
	}
	for o := range outer {
		for i := range inner {
			base := o*n*inner + i
			m := src[base]
			for j := 1; j < n; j++ {
				m = max(m, src[base+j*inner])
			}
			mf := float64(m)
			var sum float64
			for j := range n {
				e := math.Exp(float64(src[base+j*inner]) - mf)
				if !log {
					dst[base+j*inner] = T(e)
				}
				sum += e
			}
			if log {
				shift := mf + math.Log(sum)
				for j := range n {
					dst[base+j*inner] = T(float64(src[base+j*inner]) - shift)
				}
				continue
			}
			inv := 1 / sum
			for j := range n {
				dst[base+j*inner] = T(float64(dst[base+j*inner]) * inv)
			}
		}
	}
}

func (op softmax) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if err := CheckDType("input", x, tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	if x.Ranked {
		if _, err := resolveAxis(op.axis, len(x.Shape)); err != nil {
			return nil, fmt.Errorf("attribute \"axis\": %w", err)
		}
	}
	return []Type{x}, nil
}
