package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Pad pads (or, with negative pads, crops) its input (opset 2, 11, 13, 18, 19, 21; every
// dtype). Opset 2 reads pads and the constant value from attributes; from 11 they are inputs
// (pads int64 [2*naxes] as all begins then all ends, constant_value a scalar of the input's
// type); from 18 an optional axes input says which axes pads covers. Modes: constant, reflect
// (mirror without repeating the edge, like numpy.pad), edge (repeat the edge) and, from opset
// 19, wrap (periodic). Padding happens before cropping, as in the ONNX reference.
type pad struct {
	mode  string
	attrs bool    // opset < 11: pads and value are attributes
	pads  []int64 // opset < 11
	value float64 // opset < 11

	padsC, axesC constInput // plan-time knowledge of the pads and axes inputs
}

// Pad modes.
const (
	padConstant = "constant"
	padReflect  = "reflect"
	padEdge     = "edge"
	padWrap     = "wrap"
)

func newPad(n *Node) (Op, error) {
	op := pad{attrs: n.Opset < 11}
	maxIn := 3
	switch {
	case op.attrs:
		maxIn = 1
	case n.Opset >= 18:
		maxIn = 4
	}
	if err := n.CheckArity(1, maxIn, 1, 1); err != nil {
		return nil, err
	}
	required := 1
	if !op.attrs {
		required = 2
	}
	if n.NumInputs() < required {
		return nil, n.Errorf("input \"pads\" is required")
	}
	if err := checkInputsPresent(n, required); err != nil {
		return nil, err
	}
	op.mode = n.Attrs.String("mode", padConstant)
	switch op.mode {
	case padConstant, padReflect, padEdge:
	case padWrap:
		if n.Opset < 19 {
			n.Attrs.Errorf("mode", "\"wrap\" needs opset 19 or later, the model imports opset %d", n.Opset)
		}
	default:
		n.Attrs.Errorf("mode", "want constant, reflect, edge or wrap, got %q", op.mode)
	}
	if op.attrs {
		if !n.Attrs.Has("pads") {
			return nil, n.Errorf("attribute \"pads\" is required")
		}
		op.pads = n.Attrs.Ints("pads", nil)
		op.value = float64(n.Attrs.Float("value", 0))
		op.padsC = constInput{known: true, vals: op.pads}
		op.axesC = constInput{known: true, absent: true}
	} else {
		op.padsC, op.axesC = constInputOf(n, 1), constInputOf(n, 3)
	}
	return op, nil
}

func (op pad) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	pads := op.pads
	var fill any
	if op.attrs {
		v, err := scalarFromFloat(x.DType, op.value)
		if err != nil {
			return fmt.Errorf("input \"data\": %w", err)
		}
		fill = v
	} else {
		if in[1].Rank() != 1 {
			return fmt.Errorf("input \"pads\": want rank 1, got rank %d", in[1].Rank())
		}
		p, err := in[1].Int64s()
		if err != nil {
			return fmt.Errorf("input \"pads\": %w", err)
		}
		pads = p
		if len(in) > 2 && in[2] != nil && in[2].Len() > 0 {
			cv := in[2]
			if cv.DType != x.DType || cv.Len() != 1 {
				return fmt.Errorf("input \"constant_value\": want a %v scalar, got %v", x.DType, cv)
			}
			fill = scalarAt(cv, 0)
		}
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if len(in) > 3 && in[3] != nil {
		a, err := in[3].Int64s()
		if err != nil {
			return fmt.Errorf("input \"axes\": %w", err)
		}
		if axes, err = resolveAxes(a, r); err != nil {
			return fmt.Errorf("input \"axes\": %w", err)
		}
	}
	if len(pads) != 2*len(axes) {
		return fmt.Errorf("pads: want %d values (2 per padded axis), got %d", 2*len(axes), len(pads))
	}
	begin := make([]int, r)
	end := make([]int, r)
	shape := append([]int{}, x.Shape...)
	for i, ax := range axes {
		b, e := pads[i], pads[i+len(axes)]
		n := int64(x.Shape[ax])
		if b < -n || e < -n || n+b+e < 0 || b > int64(tensor.MaxElements) || e > int64(tensor.MaxElements) {
			return fmt.Errorf("pads: %d before and %d after axis %d of size %d do not give a valid size", b, e, ax, n)
		}
		if op.mode != padConstant && n == 0 && (b > 0 || e > 0) {
			return fmt.Errorf("pads: cannot pad the empty axis %d in %s mode", ax, op.mode)
		}
		begin[ax], end[ax] = int(b), int(e)
		shape[ax] = int(n + b + e)
	}
	y := out[0]
	y.Reset(x.DType, shape)
	if y.Len() == 0 {
		return nil
	}
	tab := make([][]int, r)
	strides := tensor.Strides(x.Shape)
	for ax := range r {
		tab[ax] = padTable(op.mode, x.Shape[ax], begin[ax], shape[ax], strides[ax])
	}
	return copyTables(y.Data, x.Data, shape, tab, fill)
}

// padTable maps each of the out positions of a padded axis to a source offset (index times
// stride), or -1 for the constant. The input axis has n elements, begin of padding before it.
func padTable(mode string, n, begin, out, stride int) []int {
	tab := make([]int, out)
	for o := range tab {
		i := o - begin
		if i < 0 || i >= n {
			switch mode {
			case padConstant:
				tab[o] = -1
				continue
			case padEdge:
				i = min(max(i, 0), n-1)
			case padWrap:
				i = wrapIndex(i, n)
			case padReflect:
				if n == 1 {
					i = 0
				} else {
					// The reflection of a reflection is periodic with period 2(n-1).
					p := 2 * (n - 1)
					i = wrapIndex(i, p)
					if i >= n {
						i = p - i
					}
				}
			}
		}
		tab[o] = i * stride
	}
	return tab
}

// wrapIndex returns a mod m in [0, m) for m > 0.
func wrapIndex(a, m int) int {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// Infer gives the padded shape when the pads (and axes) are known at plan time.
func (op pad) Infer(in []Type) ([]Type, error) {
	x := in[0]
	if !x.Ranked {
		return []Type{unrankedType(x.DType)}, nil
	}
	r := len(x.Shape)
	shape := unknownDims(r)
	if !op.padsC.known || !op.axesC.known {
		return []Type{rankedType(x.DType, shape)}, nil
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if !op.axesC.absent {
		var err error
		if axes, err = resolveAxes(op.axesC.vals, r); err != nil {
			return nil, fmt.Errorf("input \"axes\": %w", err)
		}
	}
	pads := op.padsC.vals
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("pads: want %d values (2 per padded axis), got %d", 2*len(axes), len(pads))
	}
	copy(shape, x.Shape)
	for i, ax := range axes {
		if d := x.Shape[ax]; d >= 0 {
			n := int64(d) + pads[i] + pads[i+len(axes)]
			if n < 0 || n > int64(tensor.MaxElements) {
				return nil, fmt.Errorf("pads: %d before and %d after axis %d of size %d do not give a valid size", pads[i], pads[i+len(axes)], ax, d)
			}
			shape[ax] = int(n)
		}
	}
	return []Type{rankedType(x.DType, shape)}, nil
}
