package dream

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gendl/gendl/runtime/tensor"
)

// Layer is one term of the DeepDream loss: the named value of the network (a Keras layer
// name such as "mixed4" in a converted InceptionV3) and its weight.
type Layer struct {
	Name   string
	Weight float64
}

// DefaultLayers are the book's choice (Deep Learning with Python, 1st edition, listing 8.10):
// InceptionV3's mixed2, mixed3, mixed4 and mixed5 with weights 0.2, 3, 2 and 1.5.
func DefaultLayers() []Layer {
	return []Layer{{"mixed2", 0.2}, {"mixed3", 3}, {"mixed4", 2}, {"mixed5", 1.5}}
}

// FormatLayers is the inverse of ParseLayers: "mixed2=0.2,mixed3=3".
func FormatLayers(ls []Layer) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name + "=" + strconv.FormatFloat(l.Weight, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// ParseLayers reads "name=weight,name=weight,..."; a name without "=weight" has weight 1.
// Names must be distinct and weights finite.
func ParseLayers(s string) ([]Layer, error) {
	var out []Layer
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		weight := 1.0
		if hasW {
			v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("dream: layer %q: weight %q is not a finite number", name, w)
			}
			weight = v
		}
		if name == "" {
			return nil, fmt.Errorf("dream: %q: want name=weight", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("dream: layer %q is listed twice", name)
		}
		seen[name] = true
		out = append(out, Layer{name, weight})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dream: no layers in %q: want name=weight,name=weight,...", s)
	}
	return out, nil
}

// LayerLoss is one layer's DeepDream term as the book computes it:
//
//	sum(v[:, :, b:H-b, b:W-b]²) / numel(v)
//
// for an activation v [N, C, H, W] and border b (the book and keras-io use b = 2 to avoid
// border artefacts; the sum excludes the border but the divisor is the whole activation's
// size). Values of another rank are not cropped. It returns the term (accumulated in float64)
// and ADDS scale times its gradient, scale*2v/numel(v) inside the crop, into seed (v's shape),
// so that several layers' terms can share one seed buffer. An activation no larger than the
// border gives 0.
func LayerLoss(v, seed *tensor.Tensor, scale float64, border int) (float64, error) {
	if v.DType != tensor.Float32 || seed.DType != tensor.Float32 || !tensor.SameShape(v.Shape, seed.Shape) {
		return 0, fmt.Errorf("dream: layer loss: want float32 value and seed of one shape, got %v and %v", v, seed)
	}
	if border < 0 {
		return 0, fmt.Errorf("dream: layer loss: border %d < 0", border)
	}
	n := v.Len()
	if n == 0 {
		return 0, nil
	}
	x, s := v.F32(), seed.F32()
	k := float32(2 * scale / float64(n))
	var sum float64
	if v.Rank() != 4 {
		for i, a := range x {
			sum += float64(a) * float64(a)
			s[i] += k * a
		}
		return sum / float64(n), nil
	}
	N, C, H, W := v.Shape[0], v.Shape[1], v.Shape[2], v.Shape[3]
	if H <= 2*border || W <= 2*border {
		return 0, nil
	}
	for p := range N * C {
		plane := p * H * W
		for y := border; y < H-border; y++ {
			row := plane + y*W
			xr, sr := x[row+border:row+W-border], s[row+border:row+W-border]
			for i, a := range xr {
				sum += float64(a) * float64(a)
				sr[i] += k * a
			}
		}
	}
	return sum / float64(n), nil
}

// layerNames lists the values a model computes for an error message, in natural order, with
// runs of three or more names that differ only by a consecutive trailing number shortened to
// "conv2d_1..conv2d_50".
func layerNames(names []string) string {
	names = append([]string{}, names...)
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	var out []string
	for i := 0; i < len(names); {
		prefix, n, ok := splitNumber(names[i])
		j := i + 1
		for ok && j < len(names) {
			p, m, ok2 := splitNumber(names[j])
			if !ok2 || p != prefix || m != n+(j-i) {
				break
			}
			j++
		}
		if j-i >= 3 {
			out = append(out, names[i]+".."+names[j-1])
		} else {
			out = append(out, names[i:j]...)
		}
		i = j
	}
	return strings.Join(out, ", ")
}

// splitNumber splits "conv2d_12" into "conv2d_" and 12.
func splitNumber(s string) (string, int, bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 9 || (s[i] == '0' && i < len(s)-1) {
		return s, 0, false
	}
	n, err := strconv.Atoi(s[i:])
	return s[:i], n, err == nil
}

// naturalLess orders "mixed2" before "mixed10": digit runs compare as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
