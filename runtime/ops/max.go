package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Max is the element-wise maximum of one or more inputs with multidirectional broadcasting
// (opset 6, 8, 12, 13; float32, float64, and from opset 12 int64, int32, int8, uint8; opset 6
// requires equal shapes, which broadcasting accepts too). A NaN in any input gives NaN, as
// numpy.maximum does in the spec's reference.
type maxOp struct{}

func newMax(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1<<31-1, 1, 1); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, n.NumInputs()); err != nil {
		return nil, err
	}
	return maxOp{}, nil
}

func (maxOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	names := make([]string, len(in))
	shapes := make([][]int, len(in))
	for i, t := range in {
		names[i] = fmt.Sprintf("data_%d", i)
		shapes[i] = t.Shape
		if t.DType != in[0].DType {
			return fmt.Errorf("input %q is %v but input \"data_0\" is %v: want the same dtype", names[i], t.DType, in[0].DType)
		}
	}
	shape, err := broadcastShape(names, shapes...)
	if err != nil {
		return err
	}
	switch in[0].DType {
	case tensor.Float32:
		maxAs[float32](shape, in, out[0])
	case tensor.Float64:
		maxAs[float64](shape, in, out[0])
	case tensor.Int64:
		maxAs[int64](shape, in, out[0])
	case tensor.Int32:
		maxAs[int32](shape, in, out[0])
	case tensor.Int8:
		maxAs[int8](shape, in, out[0])
	case tensor.Uint8:
		maxAs[uint8](shape, in, out[0])
	default:
		return fmt.Errorf("input \"data_0\": dtype %v is not supported", in[0].DType)
	}
	return nil
}

// maxAs broadcasts the first input into out, then folds the others into it in place.
func maxAs[T numericElem](shape []int, in []*tensor.Tensor, out *tensor.Tensor) {
	out.Reset(in[0].DType, shape)
	dst := dataOf[T](out)
	bcast1(newBcastPlan(shape, in[0].Shape), dst, dataOf[T](in[0]), copyRun[T])
	for _, t := range in[1:] {
		// dst as the first operand has the full shape, so each run reads dst[i] before
		// writing it.
		bcast2(newBcastPlan(shape, shape, t.Shape), dst, dst, dataOf[T](t), maxRun[T])
	}
}

// maxRun is the bcast2 kernel: a and b each have len(dst) elements or one.
func maxRun[T numericElem](dst, a, b []T) {
	ia, ib := runSteps(len(a), len(b))
	for i := range dst {
		dst[i] = max(a[i*ia], b[i*ib])
	}
}

func (maxOp) Infer(in []Type) ([]Type, error) {
	names := make([]string, len(in))
	for i := range names {
		names[i] = fmt.Sprintf("data_%d", i)
	}
	dt, err := sameDType(names, in...)
	if err != nil {
		return nil, err
	}
	if err := CheckDType("data_0", Type{DType: dt}, numericDTypes...); err != nil {
		return nil, err
	}
	shape, ranked, err := inferBroadcast(names, in...)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: dt, Shape: shape, Ranked: ranked}}, nil
}
