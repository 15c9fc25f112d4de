package grad

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/onnx"
)

// Window geometry of Conv, ConvTranspose, MaxPool and AveragePool, read from the node's
// attributes with the formulas of the ONNX operator docs, exactly as runtime/ops resolves it
// (pool_geometry.go there; the planner has already validated the attributes). Each backward
// checks the output shape it derives against the forward output, so a disagreement with the
// forward op is an error, not a wrong gradient.

type windowAttrs struct {
	autoPad   string
	kernel    []int // kernel_shape; nil when absent
	strides   []int // nil: all 1
	dilations []int // nil: all 1
	pads      []int // begin pads then end pads; nil: all 0 (only read with auto_pad NOTSET)
	ceilMode  bool
}

func readWindow(a *onnx.Attrs, withCeil bool) windowAttrs {
	w := windowAttrs{autoPad: a.String("auto_pad", "NOTSET")}
	if w.autoPad == "" {
		w.autoPad = "NOTSET"
	}
	if withCeil {
		w.ceilMode = a.Flag("ceil_mode", false)
	}
	w.kernel = toInts(a.Ints("kernel_shape", nil))
	w.strides = toInts(a.Ints("strides", nil))
	w.dilations = toInts(a.Ints("dilations", nil))
	w.pads = toInts(a.Ints("pads", nil))
	return w
}

func toInts(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func intAt(v []int, i, def int) int {
	if v == nil || i >= len(v) {
		return def
	}
	return v[i]
}

// window is a resolved geometry (Channels set by the caller) plus the end pads.
type window struct {
	kernels.ConvGeometry
	padEnd [kernels.MaxSpatial]int
	nd     int
}

func slot(nd, i int) int { return kernels.MaxSpatial - nd + i }

// forward resolves the window of a convolution or pool over spatial sizes in with kernel
// sizes kernel (runtime/ops windowAttrs.forward and outDim).
func (w *windowAttrs) forward(in, kernel []int) (window, error) {
	nd := len(in)
	win := window{nd: nd}
	if nd < 1 || nd > kernels.MaxSpatial || len(kernel) != nd {
		return win, fmt.Errorf("want 1 to %d spatial dimensions and a kernel size for each, got %d and %d", kernels.MaxSpatial, nd, len(kernel))
	}
	for i := range nd {
		s, d, k := intAt(w.strides, i, 1), intAt(w.dilations, i, 1), kernel[i]
		var out, pb, pe int
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out = (in[i] + s - 1) / s
			total := max(0, (out-1)*s+(k-1)*d+1-in[i])
			pb = total / 2
			if w.autoPad == "SAME_LOWER" {
				pb = total - total/2
			}
			pe = total - pb
		default:
			if w.autoPad == "NOTSET" && w.pads != nil {
				pb, pe = w.pads[i], w.pads[nd+i]
			}
			span := in[i] + pb + pe - ((k-1)*d + 1)
			if span < 0 {
				return win, fmt.Errorf("spatial dimension %d: input size %d with pads %d+%d is smaller than the kernel", i, in[i], pb, pe)
			}
			out = span/s + 1
			if w.ceilMode && w.autoPad == "NOTSET" && span%s != 0 {
				out++
				if (out-1)*s >= in[i]+pb {
					out--
				}
			}
		}
		win.Set(nd, i, in[i], k, out, s, d, pb)
		win.padEnd[slot(nd, i)] = pe
	}
	return win, nil
}

// outShape returns [n, c, out...].
func (win *window) outShape(n, c int) []int {
	s := []int{n, c}
	for i := range win.nd {
		s = append(s, win.Out[slot(win.nd, i)])
	}
	return s
}

// isOut reports whether shape is [n, c, out...], without allocating.
func (win *window) isOut(shape []int, n, c int) bool {
	if len(shape) != win.nd+2 || shape[0] != n || shape[1] != c {
		return false
	}
	for i := range win.nd {
		if shape[2+i] != win.Out[slot(win.nd, i)] {
			return false
		}
	}
	return true
}

// isIn reports whether shape is [n, c, in...], without allocating.
func (win *window) isIn(shape []int, n, c int) bool {
	if len(shape) != win.nd+2 || shape[0] != n || shape[1] != c {
		return false
	}
	for i := range win.nd {
		if shape[2+i] != win.In[slot(win.nd, i)] {
			return false
		}
	}
	return true
}

// inShape returns [n, c, in...].
func (win *window) inShape(n, c int) []int {
	s := []int{n, c}
	for i := range win.nd {
		s = append(s, win.In[slot(win.nd, i)])
	}
	return s
}

// floorHalf is Python's total//2.
func floorHalf(total int) int {
	if total < 0 {
		return -((-total + 1) / 2)
	}
	return total / 2
}

// convTransposeAttrs are ConvTranspose's attributes beyond the window's.
type convTransposeAttrs struct {
	outputPadding []int
	outputShape   []int
}

// transposeWindow resolves the window of a ConvTranspose with input spatial sizes in: the
// window of the matching Conv, whose image is the ConvTranspose output and whose positions
// are the input's elements (runtime/ops convTranspose.window).
func (w *windowAttrs) transposeWindow(ct *convTransposeAttrs, in, kernel []int) (window, error) {
	nd := len(in)
	win := window{nd: nd}
	outShape := ct.outputShape
	if len(outShape) == nd+2 {
		outShape = outShape[2:]
	}
	if outShape != nil && len(outShape) != nd {
		return win, fmt.Errorf("attribute output_shape %v: want %d spatial sizes", ct.outputShape, nd)
	}
	for i := range nd {
		k, s, d := kernel[i], intAt(w.strides, i, 1), intAt(w.dilations, i, 1)
		full := s*(in[i]-1) + intAt(ct.outputPadding, i, 0) + (k-1)*d + 1
		var size, pb, pe int
		switch {
		case outShape != nil || w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER":
			size = in[i] * s
			if outShape != nil {
				size = outShape[i]
			}
			total := full - size
			if w.autoPad == "SAME_UPPER" {
				pb = floorHalf(total)
			} else {
				pb = total - floorHalf(total)
			}
			pe = total - pb
		case w.autoPad == "NOTSET" && w.pads != nil:
			pb, pe = w.pads[i], w.pads[nd+i]
			size = full - pb - pe
		default:
			size = full
		}
		if size < 0 {
			return win, fmt.Errorf("spatial dimension %d: pads %d+%d exceed the full output size %d", i, pb, pe, full)
		}
		win.Set(nd, i, size, k, in[i], s, d, pb)
		win.padEnd[slot(nd, i)] = pe
	}
	return win, nil
}
