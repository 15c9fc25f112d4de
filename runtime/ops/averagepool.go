package ops

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// AveragePool is the ONNX average pooling (opset 1, 7, 10, 11, 19, 22; float32, float64; 1 to
// 3 spatial dimensions): each output element is the mean of the input elements under its
// window. The attributes are auto_pad, ceil_mode (opset 10), count_include_pad (opset 7),
// dilations (opset 19), kernel_shape (required), pads and strides; see pool_geometry.go for
// the output size.
//
// With count_include_pad 0 (the default) the divisor is the number of input elements under
// the window. With count_include_pad 1 it also counts the taps in the pads, but not the taps
// past the end padding that ceil_mode can add (as ONNX Runtime and PyTorch do). A window with
// no input element under it averages to NaN with count_include_pad 0.
//
// Sums are accumulated in float64. float32 takes kernels.AveragePool (the planes split over
// ctx.Threads), which gives bitwise the results of averagePoolPlanes.
type averagePool struct {
	win         windowAttrs
	includePads bool
}

func newAveragePool(n *Node) (Op, error) {
	if err := n.CheckArity(1, 1, 1, 1); err != nil {
		return nil, err
	}
	op := &averagePool{win: readWindowAttrs(n, true, true)}
	op.includePads = n.Attrs.Flag("count_include_pad", false)
	if err := n.Attrs.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *averagePool) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	win, err := poolWindow(&op.win, x.Shape)
	if err != nil {
		return err
	}
	var shp [kernels.MaxSpatial + 2]int
	shape := win.outShape(shp[:0], x.Shape[0], x.Shape[1])
	y := out[0]
	planes := x.Shape[0] * x.Shape[1]
	switch x.DType {
	case tensor.Float32:
		y.Reset(x.DType, shape)
		kernels.AveragePool(ctx.Threads, &win.ConvGeometry, win.PadEnd, op.includePads, planes, x.F32(), y.F32())
	case tensor.Float64:
		y.Reset(x.DType, shape)
		averagePoolPlanes(&win, x.F64(), y.F64(), planes, op.includePads)
	default:
		return fmt.Errorf("input \"X\": unsupported dtype %v (want float32 or float64)", x.DType)
	}
	return nil
}

// Infer gives Y the dtype of X and the shape of poolWindow.
func (op *averagePool) Infer(in []Type) ([]Type, error) {
	if err := CheckDType("X", in[0], tensor.Float32, tensor.Float64); err != nil {
		return nil, err
	}
	y, err := inferPool(&op.win, in[0])
	if err != nil {
		return nil, err
	}
	return []Type{y}, nil
}

// averagePoolPlanes pools planes images [D, H, W] of x into y.
func averagePoolPlanes[T float32 | float64](win *window, x, y []T, planes int, includePads bool) {
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
					var sum float64
					for td := d0; td < d1; td++ {
						id := startD + td*win.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := startH + th*win.Dilation[1]
							row := src[(id*inH+ih)*inW : (id*inH+ih+1)*inW]
							for tw := w0; tw < w1; tw++ {
								sum += float64(row[startW+tw*win.Dilation[2]])
							}
						}
					}
					count := (d1 - d0) * (h1 - h0) * (w1 - w0)
					if includePads {
						count = win.paddedTaps(0, od) * win.paddedTaps(1, oh) * win.paddedTaps(2, ow)
					}
					y[o] = T(sum / float64(count))
					o++
				}
			}
		}
	}
}
