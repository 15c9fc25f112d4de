package layers

import (
	"fmt"

	"github.com/gendl/gendl/kernels"
)

// ConvSpec is the geometry of a 2-D convolution or transposed convolution, as ONNX's Conv and
// ConvTranspose attributes give it (dilation 1, group 1).
type ConvSpec struct {
	// Stride is (strideH, strideW); a zero entry means 1.
	Stride [2]int
	// Pads are ONNX's pads: (top, left, bottom, right).
	Pads [4]int
	// OutputPadding is ConvTranspose's output_padding (h, w): extra rows and columns at the
	// end of the output. Conv2d ignores it.
	OutputPadding [2]int
}

func (s ConvSpec) strides() (int, int) { return max(s.Stride[0], 1), max(s.Stride[1], 1) }

// SamePads returns the pads of Keras' padding="same" for a convolution of an in[0]×in[1]
// image with a kernel of size k and stride (TensorFlow's rule): the output is ceil(in/stride)
// and the padding needed, (out-1)·stride + k - in, is split with the odd pixel at the end.
func SamePads(in, k, stride [2]int) [4]int {
	var p [4]int
	for i := range 2 {
		s := max(stride[i], 1)
		out := (in[i] + s - 1) / s
		total := max((out-1)*s+k[i]-in[i], 0)
		p[i], p[i+2] = total/2, total-total/2
	}
	return p
}

// SameTransposeSpec returns the spec of Keras' Conv2DTranspose(padding="same"): the output is
// the input times the stride. The pads are those of the convolution it transposes
// (k - stride, split with the odd pixel at the end); when the kernel is smaller than the
// stride, the missing rows and columns come from output_padding.
func SameTransposeSpec(k, stride [2]int) ConvSpec {
	sp := ConvSpec{Stride: stride}
	for i := range 2 {
		s := max(stride[i], 1)
		total := k[i] - s
		if total < 0 {
			sp.OutputPadding[i] = -total
			total = 0
		}
		sp.Pads[i], sp.Pads[i+2] = total/2, total-total/2
	}
	return sp
}

// ConvOutput returns the output size of Conv over an h×w input with a kh×kw kernel.
func ConvOutput(h, w, kh, kw int, s ConvSpec) (int, int, error) {
	sh, sw := s.strides()
	oh := (h+s.Pads[0]+s.Pads[2]-kh)/sh + 1
	ow := (w+s.Pads[1]+s.Pads[3]-kw)/sw + 1
	if h+s.Pads[0]+s.Pads[2] < kh || w+s.Pads[1]+s.Pads[3] < kw || oh < 1 || ow < 1 {
		return 0, 0, fmt.Errorf("layers: conv of a %dx%d input with a %dx%d kernel and %+v has no output", h, w, kh, kw, s)
	}
	return oh, ow, nil
}

// ConvTransposeOutput returns the output size of ConvTranspose over an h×w input with a
// kh×kw kernel.
func ConvTransposeOutput(h, w, kh, kw int, s ConvSpec) (int, int, error) {
	sh, sw := s.strides()
	oh := sh*(h-1) + kh - s.Pads[0] - s.Pads[2] + s.OutputPadding[0]
	ow := sw*(w-1) + kw - s.Pads[1] - s.Pads[3] + s.OutputPadding[1]
	if oh < 1 || ow < 1 {
		return 0, 0, fmt.Errorf("layers: conv-transpose of a %dx%d input with a %dx%d kernel and %+v has no output", h, w, kh, kw, s)
	}
	if s.OutputPadding[0] >= sh || s.OutputPadding[1] >= sw || s.OutputPadding[0] < 0 || s.OutputPadding[1] < 0 {
		return 0, 0, fmt.Errorf("layers: output padding %v must be in [0, stride %v)", s.OutputPadding, s.Stride)
	}
	return oh, ow, nil
}

func (s ConvSpec) validate() error {
	for _, p := range s.Pads {
		if p < 0 {
			return fmt.Errorf("layers: negative pad in %+v", s)
		}
	}
	if s.Stride[0] < 0 || s.Stride[1] < 0 {
		return fmt.Errorf("layers: negative stride in %+v", s)
	}
	return nil
}

// convGeom is one convolution seen from im2col's side: the "image" [N, C, H, W] that
// im2col reads and the "columns" [N, M, OH, OW] that the product W·col gives, with weights
// W [M, C, KH, KW]. A Conv2d reads x as the image and writes y as the columns; a
// ConvTranspose2d the other way round (ONNX defines it as the adjoint of the convolution
// from its output to its input).
type convGeom struct {
	N          int
	C, H, W    int // image
	M, OH, OW  int // columns
	KH, KW     int
	SH, SW     int
	PadT, PadL int // pads before; the pads after are implied by OH, OW
}

func (g convGeom) String() string {
	return fmt.Sprintf("N%d image %dx%dx%d cols %dx%dx%d k%dx%d s%dx%d p%d,%d", g.N, g.C, g.H, g.W, g.M, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.PadT, g.PadL)
}

func (g convGeom) imageLen() int { return g.C * g.H * g.W } // one image
func (g convGeom) colsLen() int  { return g.M * g.OH * g.OW }
func (g convGeom) p() int        { return g.OH * g.OW }
func (g convGeom) ckk() int      { return g.C * g.KH * g.KW }
func (g convGeom) imageShape() []int {
	return []int{g.N, g.C, g.H, g.W}
}
func (g convGeom) colsShape() []int   { return []int{g.N, g.M, g.OH, g.OW} }
func (g convGeom) weightShape() []int { return []int{g.M, g.C, g.KH, g.KW} }

// kernel returns the geometry of one image for package kernels.
func (g convGeom) kernel() kernels.ConvGeometry {
	var k kernels.ConvGeometry
	k.Channels = g.C
	k.Set(2, 0, g.H, g.KH, g.OH, g.SH, 1, g.PadT)
	k.Set(2, 1, g.W, g.KW, g.OW, g.SW, 1, g.PadL)
	return k
}
