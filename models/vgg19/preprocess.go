package vgg19

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gendl/gendl/runtime/tensor"
)

// Preprocessing is what a VGG19 network expects of its input image, relative to an RGB image
// with values in [0, 255] (how gendl loads pictures):
//
//	x_net[c] = (pixel[src(c)] * Range/255 - Mean[c]) / Std[c]
//
// where src(c) = c for RGB networks and 2-c for BGR ones. Mean and Std are given in the
// network's channel order and in units of Range.
type Preprocessing struct {
	// Name is "torch", "caffe" or "none" for the presets, "custom" otherwise.
	Name string
	// BGR is set when the network's channel 0 is blue (Caffe and Keras weights).
	BGR bool
	// Range is the pixel range Mean and Std refer to: 1 for [0, 1], 255 for [0, 255].
	Range float32
	// Mean and Std normalise each of the network's channels.
	Mean, Std [3]float32
}

// The preprocessings of the VGG19 weights people use.
var (
	// Torch is the ONNX model zoo's vgg19-7.onnx (MXNet Gluon) and torchvision's: RGB in
	// [0, 1], ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) — the zoo's
	// README for vgg19-7 states it.
	Torch = Preprocessing{Name: "torch", Range: 1, Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}
	// Caffe is the original VGG release's, Keras applications' (preprocess_input, mode
	// "caffe") and Caffe2's: BGR in [0, 255] minus the ImageNet mean pixel (103.939,
	// 116.779, 123.68) in BGR order, no scaling.
	Caffe = Preprocessing{Name: "caffe", BGR: true, Range: 255, Mean: [3]float32{103.939, 116.779, 123.68}, Std: [3]float32{1, 1, 1}}
	// None feeds the RGB [0, 255] image unchanged: the network (such as a feature extractor
	// written by Extract) preprocesses it itself.
	None = Preprocessing{Name: "none", Range: 255, Std: [3]float32{1, 1, 1}}
)

// Presets lists the named preprocessings ParsePreprocessing accepts.
func Presets() []Preprocessing { return []Preprocessing{Torch, Caffe, None} }

// IsIdentity reports whether p leaves an RGB [0, 255] image unchanged.
func (p Preprocessing) IsIdentity() bool {
	s, b := p.Affine()
	return !p.BGR && s == [3]float32{1, 1, 1} && b == [3]float32{}
}

// Affine returns p as x_net[c] = pixel[src(c)]*scale[c] + bias[c] for pixels in [0, 255].
func (p Preprocessing) Affine() (scale, bias [3]float32) {
	for c := range 3 {
		// Computed in float64 and rounded once.
		scale[c] = float32(float64(p.Range) / (255 * float64(p.Std[c])))
		bias[c] = float32(-float64(p.Mean[c]) / float64(p.Std[c]))
	}
	return scale, bias
}

// Check reports a preprocessing that cannot be applied: a range other than 1 or 255, or a
// standard deviation that is not positive and finite.
func (p Preprocessing) Check() error {
	if p.Range != 1 && p.Range != 255 {
		return fmt.Errorf("vgg19: preprocessing %q: range %g, want 1 or 255", p.Name, p.Range)
	}
	for c, s := range p.Std {
		if !(s > 0) || s > 1e30 {
			return fmt.Errorf("vgg19: preprocessing %q: std of channel %d is %g, want a positive number", p.Name, c, s)
		}
		if m := p.Mean[c]; m != m || m > 1e30 || m < -1e30 {
			return fmt.Errorf("vgg19: preprocessing %q: mean of channel %d is %g, want a finite number", p.Name, c, m)
		}
	}
	return nil
}

// String is the canonical form ParsePreprocessing reads back, such as
// "torch: rgb range=1 mean=0.485,0.456,0.406 std=0.229,0.224,0.225".
func (p Preprocessing) String() string {
	order := "rgb"
	if p.BGR {
		order = "bgr"
	}
	f := func(v [3]float32) string {
		s := make([]string, 3)
		for i, x := range v {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(s, ",")
	}
	name := p.Name
	if name == "" {
		name = "custom"
	}
	return fmt.Sprintf("%s: %s range=%s mean=%s std=%s", name, order,
		strconv.FormatFloat(float64(p.Range), 'g', -1, 32), f(p.Mean), f(p.Std))
}

// Describe says in words what the network expects, for logs and errors.
func (p Preprocessing) Describe() string {
	if p.IsIdentity() {
		return "RGB in [0,255], unchanged"
	}
	order := "RGB"
	if p.BGR {
		order = "BGR"
	}
	return fmt.Sprintf("%s in [0,%g], minus mean %v, divided by std %v", order, p.Range, p.Mean, p.Std)
}

// ParsePreprocessing reads a preset name ("torch", "caffe", "none") or the canonical form of
// String ("[name:] rgb|bgr range=1|255 mean=a,b,c std=a,b,c"; std defaults to 1,1,1 and
// mean to 0,0,0).
func ParsePreprocessing(s string) (Preprocessing, error) {
	s = strings.TrimSpace(s)
	for _, p := range Presets() {
		if s == p.Name {
			return p, nil
		}
	}
	p := Preprocessing{Name: "custom", Std: [3]float32{1, 1, 1}}
	body := s
	if name, rest, ok := strings.Cut(s, ":"); ok {
		p.Name, body = strings.TrimSpace(name), rest
	}
	fields := strings.Fields(body)
	if len(fields) == 0 {
		return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: want torch, caffe, none or \"rgb|bgr range=1|255 mean=a,b,c std=a,b,c\"", s)
	}
	switch fields[0] {
	case "rgb":
	case "bgr":
		p.BGR = true
	default:
		return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: channel order %q, want rgb or bgr (or a preset: torch, caffe, none)", s, fields[0])
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f, "=")
		if !ok || seen[key] {
			return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: field %q: want range=, mean= or std=, each once", s, f)
		}
		seen[key] = true
		switch key {
		case "range":
			r, err := strconv.ParseFloat(val, 32)
			if err != nil {
				return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: range %q is not a number", s, val)
			}
			p.Range = float32(r)
		case "mean", "std":
			parts := strings.Split(val, ",")
			if len(parts) != 3 {
				return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: %s has %d values, want 3", s, key, len(parts))
			}
			var v [3]float32
			for i, x := range parts {
				y, err := strconv.ParseFloat(x, 32)
				if err != nil {
					return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: %s value %q is not a number", s, key, x)
				}
				v[i] = float32(y)
			}
			if key == "mean" {
				p.Mean = v
			} else {
				p.Std = v
			}
		default:
			return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: unknown field %q (want range, mean, std)", s, key)
		}
	}
	if !seen["range"] {
		return Preprocessing{}, fmt.Errorf("vgg19: preprocessing %q: no range= (1 or 255)", s)
	}
	if err := p.Check(); err != nil {
		return Preprocessing{}, err
	}
	return p, nil
}

// Apply preprocesses img, float32 [N, 3, H, W] RGB in [0, 255], into a new tensor the network
// takes. A network input that is NHWC is the caller's to transpose.
func (p Preprocessing) Apply(img *tensor.Tensor) (*tensor.Tensor, error) {
	if img == nil || img.DType != tensor.Float32 || img.Rank() != 4 || img.Shape[1] != 3 {
		return nil, fmt.Errorf("vgg19: preprocessing: want a float32 [N,3,H,W] image, got %v", img)
	}
	scale, bias := p.Affine()
	out := tensor.New(tensor.Float32, img.Shape...)
	n, hw := img.Shape[0], img.Shape[2]*img.Shape[3]
	src, dst := img.F32(), out.F32()
	for i := range n {
		for c := range 3 {
			sc := c
			if p.BGR {
				sc = 2 - c
			}
			in := src[(i*3+sc)*hw : (i*3+sc+1)*hw]
			o := dst[(i*3+c)*hw : (i*3+c+1)*hw]
			for j, v := range in {
				o[j] = float32(v*scale[c]) + bias[c] // rounded as the graph's Mul then Add

			}
		}
	}
	return out, nil
}
