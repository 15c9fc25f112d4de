package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Where picks X where condition is true and Y elsewhere, with multidirectional broadcasting of
// all three inputs (opset 9, 16; X and Y of any one dtype: float32, float64, int64, int32,
// int8, uint8, bool).
type whereOp struct{}

func newWhere(n *Node) (Op, error) {
	if err := n.CheckArity(3, 3, 1, 1); err != nil {
		return nil, err
	}
	return whereOp{}, nil
}

func (whereOp) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	c, x, y := in[0], in[1], in[2]
	if c.DType != tensor.Bool {
		return fmt.Errorf("input \"condition\": want bool, got %v", c.DType)
	}
	if x.DType != y.DType {
		return fmt.Errorf("input \"X\" is %v but input \"Y\" is %v: want the same dtype", x.DType, y.DType)
	}
	shape, err := broadcastShape([]string{"condition", "X", "Y"}, c.Shape, x.Shape, y.Shape)
	if err != nil {
		return err
	}
	switch x.DType {
	case tensor.Float32:
		whereAs[float32](shape, c, x, y, out[0])
	case tensor.Float64:
		whereAs[float64](shape, c, x, y, out[0])
	case tensor.Int64:
		whereAs[int64](shape, c, x, y, out[0])
	case tensor.Int32:
		whereAs[int32](shape, c, x, y, out[0])
	case tensor.Int8:
		whereAs[int8](shape, c, x, y, out[0])
	case tensor.Uint8:
		whereAs[uint8](shape, c, x, y, out[0])
	case tensor.Bool:
		whereAs[bool](shape, c, x, y, out[0])
	default:
		return fmt.Errorf("input \"X\": dtype %v is not supported", x.DType)
	}
	return nil
}

func whereAs[T any](shape []int, c, x, y, out *tensor.Tensor) {
	out.Reset(x.DType, shape)
	p := newBcastPlan(shape, c.Shape, x.Shape, y.Shape)
	bcast3(p, dataOf[T](out), c.Bools(), dataOf[T](x), dataOf[T](y), whereRun[T])
}

// whereRun is the bcast3 kernel: cond, x and y each have len(dst) elements or one.
func whereRun[T any](dst []T, cond []bool, x, y []T) {
	ic, ix := runSteps(len(cond), len(x))
	_, iy := runSteps(1, len(y))
	for i := range dst {
		if cond[i*ic] {
			dst[i] = x[i*ix]
		} else {
			dst[i] = y[i*iy]
		}
	}
}

func (whereOp) Infer(in []Type) ([]Type, error) {
	if err := CheckDType("condition", in[0], tensor.Bool); err != nil {
		return nil, err
	}
	dt, err := sameDType([]string{"X", "Y"}, in[1], in[2])
	if err != nil {
		return nil, err
	}
	shape, ranked, err := inferBroadcast([]string{"condition", "X", "Y"}, in...)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: dt, Shape: shape, Ranked: ranked}}, nil
}
