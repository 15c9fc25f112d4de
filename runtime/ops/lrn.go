package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// LRN is the ONNX local response normalisation across channels (opset 1, 13; float32,
// float64). For X [N, C, D1..Dk]:
//
//	square_sum[n, c, d...] = sum of X[n, i, d...]^2 for i in [c - floor((size-1)/2), c + ceil((size-1)/2)] ∩ [0, C)
//	Y = X / (bias + alpha/size * square_sum)^beta
//
// with attributes alpha (default 1e-4), beta (0.75), bias (1) and size (required, odd or
// even). Arithmetic is float64.
type lrn struct {
	alpha, beta, bias float64
	size              int
}

func newLRN(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	a := n.Attrs
	op := &lrn{
		alpha: float64(a.Float("alpha", 1e-4)),
		beta:  float64(a.Float("beta", 0.75)),
		bias:  float64(a.Float("bias", 1)),
	}
	if !a.Has("size") {
		a.Errorf("size", "required attribute is missing")
	}
	size := a.Int("size", 1)
	if size < 1 || size > 1<<20 {
		a.Errorf("size", "want a positive value, got %d", size)
	}
	op.size = int(size)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *lrn) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	if err := checkNC(x.Shape); err != nil {
		return err
	}
	y := out[0]
	switch x.DType {
	case tensor.Float32:
		y.Reset(x.DType, x.Shape)
		lrnRun(op, x.F32(), y.F32(), x.Shape)
	case tensor.Float64:
		y.Reset(x.DType, x.Shape)
		lrnRun(op, x.F64(), y.F64(), x.Shape)
	default:
		return fmt.Errorf("input \"X\": unsupported dtype %v (want float32 or float64)", x.DType)
	}
	return nil
}

// Infer checks X's dtype and rank; Y has X's type.
func (op *lrn) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if err := CheckDType("X", x, tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	if x.Ranked {
		if err := checkNC(x.Shape); err != nil {
			return nil, err
		}
	}
	return []Type{x}, nil
}

func lrnRun[T float32 | float64](op *lrn, x, y []T, shape []int) {
	n, c := shape[0], shape[1]
	spatial := 1
	for _, d := range shape[2:] {
		spatial *= d
	}
	before, after := (op.size-1)/2, op.size/2 // floor and ceil of (size-1)/2
	k := op.alpha / float64(op.size)
	for i := range n {
		img := x[i*c*spatial : (i+1)*c*spatial]
		dst := y[i*c*spatial : (i+1)*c*spatial]
		for ch := range c {
			lo, hi := max(0, ch-before), min(c-1, ch+after)
			for j := range spatial {
				var ss float64
				for q := lo; q <= hi; q++ {
					v := float64(img[q*spatial+j])
					ss += v * v
				}
				dst[ch*spatial+j] = T(float64(img[ch*spatial+j]) / math.Pow(op.bias+k*ss, op.beta))
			}
		}
	}
}
