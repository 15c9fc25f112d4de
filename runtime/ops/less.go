package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Less is A < B element-wise with multidirectional broadcasting, giving a bool tensor (opset
// 7, 9, 13; float32, float64, int64, int32, int8, uint8). Comparisons with NaN are false.
type lessOp struct{}

func newLess(n *Node) (Op, error) {
	if err := n.CheckArity(2, 2, 1, 1); err != nil {
		return nil, err
	}
	return lessOp{}, nil
}

func (lessOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return fmt.Errorf("input \"A\" is %v but input \"B\" is %v: want the same dtype", a.DType, b.DType)
	}
	shape, err := broadcastShape([]string{"A", "B"}, a.Shape, b.Shape)
	if err != nil {
		return err
	}
	switch a.DType {
	case tensor.Float32:
		lessAs[float32](shape, a, b, out[0])
	case tensor.Float64:
		lessAs[float64](shape, a, b, out[0])
	case tensor.Int64:
		lessAs[int64](shape, a, b, out[0])
	case tensor.Int32:
		lessAs[int32](shape, a, b, out[0])
	case tensor.Int8:
		lessAs[int8](shape, a, b, out[0])
	case tensor.Uint8:
		lessAs[uint8](shape, a, b, out[0])
	default:
		return fmt.Errorf("input \"A\": dtype %v is not supported", a.DType)
	}
	return nil
}

func lessAs[T numericElem](shape []int, a, b, out *tensor.Tensor) {
	out.Reset(tensor.Bool, shape)
	p := newBcastPlan(shape, a.Shape, b.Shape)
	bcast2(p, out.Bools(), dataOf[T](a), dataOf[T](b), lessRun[T])
}

// lessRun is the bcast2 kernel: a and b each have len(dst) elements or one.
func lessRun[T numericElem](dst []bool, a, b []T) {
	ia, ib := runSteps(len(a), len(b))
	for i := range dst {
		dst[i] = a[i*ia] < b[i*ib]
	}
}

func (lessOp) Infer(in []Type) ([]Type, error) {
	names := []string{"A", "B"}
	dt, err := sameDType(names, in[0], in[1])
	if err != nil {
		return nil, err
	}
	if err := CheckDType("A", Type{DType: dt}, numericDTypes...); err != nil {
		return nil, err
	}
	shape, ranked, err := inferBroadcast(names, in[0], in[1])
	if err != nil {
		return nil, err
	}
	return []Type{{DType: tensor.Bool, Shape: shape, Ranked: ranked}}, nil
}
