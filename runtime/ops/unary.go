package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Helpers for the element-wise maps (Exp, Log, Sqrt, Neg, Sigmoid, Tanh, Relu, LeakyRelu, Elu,
// Selu, Clip): an op supplies one kernel per dtype it supports, and runUnary checks the dtype,
// shapes the output like the input and calls the kernel once over the whole tensor.

// unaryKernels holds one instantiation of an element-wise map per dtype; a nil entry means the
// op does not support that dtype. A kernel computes dst[i] = f(src[i]) for every i.
type unaryKernels struct {
	f32 func(dst, src []float32)
	f64 func(dst, src []float64)
	i64 func(dst, src []int64)
	i32 func(dst, src []int32)
	i8  func(dst, src []int8)
	u8  func(dst, src []uint8)
}

// runUnary computes y = k(x); name is the spec's name of the input ("X").
func runUnary(name string, x, y *tensor.Tensor, k *unaryKernels) error {
	ok := false
	switch x.DType {
	case tensor.Float32:
		ok = unaryAs(k.f32, x, y)
	case tensor.Float64:
		ok = unaryAs(k.f64, x, y)
	case tensor.Int64:
		ok = unaryAs(k.i64, x, y)
	case tensor.Int32:
		ok = unaryAs(k.i32, x, y)
	case tensor.Int8:
		ok = unaryAs(k.i8, x, y)
	case tensor.Uint8:
		ok = unaryAs(k.u8, x, y)
	}
	if !ok {
		return fmt.Errorf("input %q: dtype %v is not supported", name, x.DType)
	}
	return nil
}

func unaryAs[T any](k func(dst, src []T), x, y *tensor.Tensor) bool {
	if k == nil {
		return false
	}
	y.Reset(x.DType, x.Shape)
	k(dataOf[T](y), dataOf[T](x))
	return true
}

// checkInputsPresent returns an error if one of the first required input slots of n is empty
// (""), which the spec allows only for optional inputs. Node.CheckArity does this for its
// minIn; variadic ops whose every input is required (Max, Concat) call it with
// n.NumInputs(). The shape family's constructors use it too.
func checkInputsPresent(n *Node, required int) error {
	for i, name := range n.Proto.GetInput() {
		if i < required && name == "" {
			return n.Errorf("input %d is required but the node leaves it empty", i)
		}
	}
	return nil
}

// dtypes lists the dtypes that have a kernel.
func (k *unaryKernels) dtypes() []tensor.DType {
	return kernelDTypes(k.f32 != nil, k.f64 != nil, k.i64 != nil, k.i32 != nil, k.i8 != nil, k.u8 != nil)
}

// inferUnary is the plan-time counterpart of runUnary: the output has the input's type.
func inferUnary(name string, x Type, k *unaryKernels) ([]Type, error) {
	if err := CheckDType(name, x, k.dtypes()...); err != nil {
		return nil, err
	}
	return []Type{x}, nil
}
