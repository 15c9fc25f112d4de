package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// MaxPool is the ONNX max pooling (opset 1, 8, 10, 11, 12, 22; float32, float64, int8, uint8;
// 1 to 3 spatial dimensions): each output element is the largest input element under its
// window, padding excluded. The attributes are auto_pad, ceil_mode (opset 10), dilations
// (opset 10), kernel_shape (required), pads, storage_order (opset 8) and strides; see
// pool_geometry.go for the output size.
//
// The optional second output Indices (opset 8, int64) holds, for each output element, the
// position of the maximum in X flattened: (n*C + c)*D1*...*Dk plus the spatial offset, which is
// row-major (storage_order 0) or column-major (storage_order 1, first spatial dimension
// fastest), as in ONNX Runtime. Ties keep the first position in row-major tap order; a NaN
// wins over numbers. float32 without Indices takes kernels.MaxPool (the planes split over
// ctx.Threads), whose value is Go's max: the same, except that +0 wins over an earlier -0. A window with no input element under it (possible only with dilations
// larger than the input) yields the type's lowest value and index -1.
type maxPool struct {
	win      windowAttrs
	colMajor bool
	outputs  int // output slots of the node: Y, and Indices when 2
}

func newMaxPool(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 2); err != nil {
		return nil, err
	}
	op := &maxPool{win: readWindowAttrs(n, true, true), outputs: n.NumOutputs()}
	switch so := n.Attrs.Int("storage_order", 0); so {
	case 0, 1:
		op.colMajor = so == 1
	default:
		n.Attrs.Errorf("storage_order", "want 0 (row major) or 1 (column major), got %d", so)
	}
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *maxPool) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	win, err := poolWindow(&op.win, x.Shape)
	if err != nil {
		return err
	}
	var shp [kernels.MaxSpatial + 2]int
	shape := win.outShape(shp[:0], x.Shape[0], x.Shape[1])
	y := out[0]
	var idx []int64
	if len(out) > 1 && out[1] != nil {
		out[1].Reset(tensor.Int64, shape)
		idx = out[1].I64()
	}
	planes := x.Shape[0] * x.Shape[1]
	switch x.DType {
	case tensor.Float32:
		y.Reset(x.DType, shape)
		if idx == nil {
			kernels.MaxPool(ctx.Threads, &win.ConvGeometry, planes, x.F32(), y.F32())
			break
		}
		maxPoolPlanes(&win, x.F32(), y.F32(), idx, planes, op.colMajor, float32(math.Inf(-1)))
	case tensor.Float64:
		y.Reset(x.DType, shape)
		maxPoolPlanes(&win, x.F64(), y.F64(), idx, planes, op.colMajor, math.Inf(-1))
	case tensor.Int8:
		y.Reset(x.DType, shape)
		maxPoolPlanes(&win, x.Data.([]int8), y.Data.([]int8), idx, planes, op.colMajor, math.MinInt8)
	case tensor.Uint8:
		y.Reset(x.DType, shape)
		maxPoolPlanes(&win, x.Data.([]uint8), y.Data.([]uint8), idx, planes, op.colMajor, 0)
	default:
		return fmt.Errorf("input \"X\": unsupported dtype %v (want float32, float64, int8 or uint8)", x.DType)
	}
	return nil
}

// maxPoolDTypes are the dtypes MaxPool supports.
var maxPoolDTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int8, tensor.Uint8}

// Infer gives Y the dtype of X and the shape of poolWindow, and Indices the same shape in
// int64.
func (op *maxPool) Infer(in []Type) ([]Type, error) {
	if err := CheckDType("X", in[0], maxPoolDTypes...); err != nil {
		return nil, err
	}
	y, err := inferPool(&op.win, in[0])
	if err != nil {
		return nil, err
	}
	out := []Type{y}
	if op.outputs > 1 {
		out = append(out, Type{Ranked: true, DType: tensor.Int64, Shape: y.Shape})
	}
	return out, nil
}

// poolWindow checks the shape x of a pool's input against its attributes and resolves the
// geometry. Dimensions of -1 are unknown (plan time; see pool_geometry.go).
func poolWindow(w *windowAttrs, x []int) (window, error) {
	if len(x) != len(w.kernel)+2 {
		return window{}, fmt.Errorf("input \"X\": want rank %d ([N, C] and %d spatial dimensions, from kernel_shape), got rank %d",
			len(w.kernel)+2, len(w.kernel), len(x))
	}
	win, err := w.forward(x[2:], w.kernel)
	if err != nil {
		return win, fmt.Errorf("input \"X\": %w", err)
	}
	win.Channels = 1
	return win, nil
}

// inferPool is the plan-time poolWindow: the type of a pool's output for input type x (whose
// dtype the caller has checked). kernel_shape fixes the rank.
func inferPool(w *windowAttrs, x Type) (Type, error) {
	xs := shapeOr(x, len(w.kernel)+2)
	win, err := poolWindow(w, xs)
	if err != nil {
		return Type{}, err
	}
	return Type{Ranked: true, DType: x.DType, Shape: win.outShape(make([]int, 0, len(xs)), xs[0], xs[1])}, nil
}

// maxPoolPlanes pools planes images [D, H, W] of x into y, and records the arg-max positions
// into idx when it is not nil. lowest is the value of a window that reads no input element.
func maxPoolPlanes[T float32 | float64 | int8 | uint8](win *window, x, y []T, idx []int64, planes int, colMajor bool, lowest T) {
	inD, inH, inW := win.In[0], win.In[1], win.In[2]
	inVol := inD * inH * inW
	o := 0
	for p := range planes {
		src := x[p*inVol : (p+1)*inVol]
		for od := range win.Out[0] {
			d0, d1 := win.taps(0, od)
			startD := od*win.Stride[0] - win.Pad[0]
			for oh := range win.Out[1] {
				h0, h1 := win.taps(1, oh)
				startH := oh*win.Stride[1] - win.Pad[1]
				for ow := range win.Out[2] {
					w0, w1 := win.taps(2, ow)
					startW := ow*win.Stride[2] - win.Pad[2]
					best, bd, bh, bw := lowest, -1, 0, 0
					for td := d0; td < d1; td++ {
						id := startD + td*win.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := startH + th*win.Dilation[1]
							row := src[(id*inH+ih)*inW : (id*inH+ih+1)*inW]
							for tw := w0; tw < w1; tw++ {
								iw := startW + tw*win.Dilation[2]
								v := row[iw]
								// v != v is true only for a NaN, which then wins once.
								if bd < 0 || v > best || (v != v && best == best) {
									best, bd, bh, bw = v, id, ih, iw
								}
							}
						}
					}
					y[o] = best
					if idx != nil {
						switch {
						case bd < 0:
							idx[o] = -1
						case colMajor:
							idx[o] = int64(p*inVol + bd + inD*(bh+inH*bw))
						default:
							idx[o] = int64(p*inVol + (bd*inH+bh)*inW + bw)
						}
					}
					o++
				}
			}
		}
	}
}
