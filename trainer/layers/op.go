package layers

import (
	"fmt"
	"hash/fnv"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// valueData returns the data of an op input ([]float32 or []float64, contiguous, row-major)
// after checking its shape (nil shape: any).
func valueData(op fmt.Stringer, v G.Value, shape []int) (any, tensor.Dtype, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, tensor.Dtype{}, fmt.Errorf("layers: %v: input is %T, want a dense tensor", op, v)
	}
	if shape != nil && !slices.Equal([]int(d.Shape()), shape) {
		return nil, tensor.Dtype{}, fmt.Errorf("layers: %v: input shape %v, want %v", op, d.Shape(), shape)
	}
	if d.RequiresIterator() { // a strided view: copy it
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, tensor.Dtype{}, fmt.Errorf("layers: %v: cannot materialise a %T view", op, d.Materialize())
		}
		d = m
	}
	switch d.Data().(type) {
	case []float32, []float64:
		return d.Data(), d.Dtype(), nil
	}
	return nil, tensor.Dtype{}, fmt.Errorf("layers: %v: dtype %v, want float32 or float64", op, d.Dtype())
}

// scalarValue returns the value of a scalar op input as float64.
func scalarValue(op fmt.Stringer, v G.Value) (float64, error) {
	x, err := Scalar(v)
	if err != nil {
		return 0, fmt.Errorf("layers: %v: input is %T, want a scalar", op, v)
	}
	return x, nil
}

// dense wraps data ([]float32 or []float64) as a tensor of the given shape.
func dense(data any, shape []int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func hashString(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// inShape returns the i-th DimSizer as a shape.
func inShape(op fmt.Stringer, in []G.DimSizer, i int) (tensor.Shape, error) {
	if i >= len(in) {
		return nil, fmt.Errorf("layers: %v: %d inputs, want at least %d", op, len(in), i+1)
	}
	s, ok := in[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("layers: %v: input %d has no shape (%T)", op, i, in[i])
	}
	return s, nil
}

func checkShape(op fmt.Stringer, in []G.DimSizer, i int, want []int) error {
	s, err := inShape(op, in, i)
	if err != nil {
		return err
	}
	if !slices.Equal([]int(s), want) {
		return fmt.Errorf("layers: %v: input %d has shape %v, want %v", op, i, s, want)
	}
	return nil
}
