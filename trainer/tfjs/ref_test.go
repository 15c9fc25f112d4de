package tfjs_test

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// A straightforward float64 evaluator of Keras layers in NHWC, written from the Keras / TF
// definitions (not from the converter): the reference for the hand-made models.

type arr struct {
	shape []int // [n, h, w, c] or [n, f]
	d     []float64
}

func newArr(shape ...int) *arr { return &arr{shape: shape, d: make([]float64, numel(shape))} }

func (a *arr) at4(n, y, x, c int) float64 {
	return a.d[((n*a.shape[1]+y)*a.shape[2]+x)*a.shape[3]+c]
}

// tfOut returns TF's output size and leading pad for one spatial dim.
func tfOut(padding string, in, k, s, d int) (out, padBegin int) {
	keff := (k-1)*d + 1
	if padding == "valid" {
		return (in-keff)/s + 1, 0
	}
	out = (in + s - 1) / s
	total := max((out-1)*s+keff-in, 0)
	return out, total / 2
}

func refConv(x *arr, kern []float64, kh, kw, f int, bias []float64, s, d [2]int, groups int, padding string) *arr {
	n, h, w, cin := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	cg, fg := cin/groups, f/groups
	oh, pt := tfOut(padding, h, kh, s[0], d[0])
	ow, pl := tfOut(padding, w, kw, s[1], d[1])
	out := newArr(n, oh, ow, f)
	for b := range n {
		for oy := range oh {
			for ox := range ow {
				for o := range f {
					g := o / fg
					sum := 0.0
					if bias != nil {
						sum = bias[o]
					}
					for ky := range kh {
						iy := oy*s[0] - pt + ky*d[0]
						if iy < 0 || iy >= h {
							continue
						}
						for kx := range kw {
							ix := ox*s[1] - pl + kx*d[1]
							if ix < 0 || ix >= w {
								continue
							}
							for i := range cg {
								sum += x.at4(b, iy, ix, g*cg+i) * kern[((ky*kw+kx)*cg+i)*f+o]
							}
						}
					}
					out.d[((b*oh+oy)*ow+ox)*f+o] = sum
				}
			}
		}
	}
	return out
}

// refPool averages or maxes over the window's pixels inside the image (TF excludes "same"
// padding from both).
func refPool(x *arr, k, s [2]int, padding string, isMax bool) *arr {
	n, h, w, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, pt := tfOut(padding, h, k[0], s[0], 1)
	ow, pl := tfOut(padding, w, k[1], s[1], 1)
	out := newArr(n, oh, ow, c)
	for b := range n {
		for oy := range oh {
			for ox := range ow {
				for ch := range c {
					acc, cnt := 0.0, 0
					if isMax {
						acc = math.Inf(-1)
					}
					for ky := range k[0] {
						for kx := range k[1] {
							iy, ix := oy*s[0]-pt+ky, ox*s[1]-pl+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							v := x.at4(b, iy, ix, ch)
							if isMax {
								acc = math.Max(acc, v)
							} else {
								acc += v
							}
							cnt++
						}
					}
					if !isMax {
						acc /= float64(cnt)
					}
					out.d[((b*oh+oy)*ow+ox)*c+ch] = acc
				}
			}
		}
	}
	return out
}

// lastAxis applies f to each vector along the last axis.
func lastAxis(x *arr, f func(v []float64) []float64) *arr {
	c := x.shape[len(x.shape)-1]
	out := &arr{shape: append([]int{}, x.shape...), d: make([]float64, len(x.d))}
	for i := 0; i < len(x.d); i += c {
		copy(out.d[i:i+c], f(x.d[i:i+c]))
	}
	return out
}

func elementwise(x *arr, f func(float64) float64) *arr {
	out := &arr{shape: append([]int{}, x.shape...), d: make([]float64, len(x.d))}
	for i, v := range x.d {
		out.d[i] = f(v)
	}
	return out
}

func refActivation(x *arr, act string) *arr {
	switch act {
	case "", "linear":
		return x
	case "relu":
		return elementwise(x, func(v float64) float64 { return math.Max(v, 0) })
	case "relu6":
		return elementwise(x, func(v float64) float64 { return math.Min(math.Max(v, 0), 6) })
	case "sigmoid":
		return elementwise(x, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) })
	case "tanh":
		return elementwise(x, math.Tanh)
	case "elu":
		return elementwise(x, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return math.Exp(v) - 1
		})
	case "selu":
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		return elementwise(x, func(v float64) float64 {
			if v > 0 {
				return scale * v
			}
			return scale * alpha * (math.Exp(v) - 1)
		})
	case "exponential":
		return elementwise(x, math.Exp)
	case "swish", "silu":
		return elementwise(x, func(v float64) float64 { return v / (1 + math.Exp(-v)) })
	case "hard_sigmoid", "hardSigmoid":
		return elementwise(x, func(v float64) float64 { return math.Min(math.Max(0.2*v+0.5, 0), 1) })
	case "softmax":
		return lastAxis(x, softmax)
	}
	panic("refActivation: " + act)
}

func softmax(v []float64) []float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(x - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// refConcat concatenates along Keras axis a (of the NHWC shape).
func refConcat(xs []*arr, a int) *arr {
	shape := append([]int{}, xs[0].shape...)
	shape[a] = 0
	for _, x := range xs {
		shape[a] += x.shape[a]
	}
	out := newArr(shape...)
	outer := numel(shape[:a])
	inner := numel(shape[a+1:])
	o := 0
	for i := range outer {
		for _, x := range xs {
			n := x.shape[a] * inner
			copy(out.d[o:o+n], x.d[i*n:(i+1)*n])
			o += n
		}
	}
	return out
}

func refDense(x *arr, kern []float64, units int, bias []float64) *arr {
	in := x.shape[len(x.shape)-1]
	shape := append([]int{}, x.shape...)
	shape[len(shape)-1] = units
	out := newArr(shape...)
	for r := range len(x.d) / in {
		for u := range units {
			s := 0.0
			if bias != nil {
				s = bias[u]
			}
			for i := range in {
				s += x.d[r*in+i] * kern[i*units+u]
			}
			out.d[r*units+u] = s
		}
	}
	return out
}

func refBN(x *arr, gamma, beta, mean, variance []float64, eps float64) *arr {
	c := x.shape[len(x.shape)-1]
	out := &arr{shape: append([]int{}, x.shape...), d: make([]float64, len(x.d))}
	for i, v := range x.d {
		ch := i % c
		out.d[i] = (v-mean[ch])/math.Sqrt(variance[ch]+eps)*gamma[ch] + beta[ch]
	}
	return out
}

func refZeroPad(x *arr, t, b, l, r int) *arr {
	n, h, w, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	out := newArr(n, h+t+b, w+l+r, c)
	for bb := range n {
		for y := range h {
			for xx := range w {
				for ch := range c {
					out.d[((bb*(h+t+b)+y+t)*(w+l+r)+xx+l)*c+ch] = x.at4(bb, y, xx, ch)
				}
			}
		}
	}
	return out
}

func refGlobal(x *arr, isMax bool) *arr {
	n, h, w, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	out := newArr(n, c)
	for b := range n {
		for ch := range c {
			acc := 0.0
			if isMax {
				acc = math.Inf(-1)
			}
			for y := range h {
				for xx := range w {
					if isMax {
						acc = math.Max(acc, x.at4(b, y, xx, ch))
					} else {
						acc += x.at4(b, y, xx, ch)
					}
				}
			}
			if !isMax {
				acc /= float64(h * w)
			}
			out.d[b*c+ch] = acc
		}
	}
	return out
}

// refEval evaluates a test model on input x (NHWC) and returns every layer's output.
func refEval(tm *tfjsref.TestModel, w map[string][]float64, x *arr) map[string]*arr {
	vals := map[string]*arr{}
	prev := ""
	num := func(cfg map[string]any, k string, def float64) float64 {
		if v, ok := cfg[k]; ok && v != nil {
			return toF(v)
		}
		return def
	}
	pair := func(cfg map[string]any, k string, def [2]int) [2]int {
		v, ok := cfg[k]
		if !ok || v == nil {
			return def
		}
		switch t := v.(type) {
		case int:
			return [2]int{t, t}
		case []int:
			return [2]int{t[0], t[1]}
		}
		panic(fmt.Sprintf("pair %v", v))
	}
	str := func(cfg map[string]any, k, def string) string {
		if v, ok := cfg[k].(string); ok {
			return v
		}
		return def
	}
	flag := func(cfg map[string]any, k string, def bool) bool {
		if v, ok := cfg[k].(bool); ok {
			return v
		}
		return def
	}
	for _, l := range tm.Layers {
		var ins []*arr
		if tm.Seq {
			ins = []*arr{x} // a Sequential without InputLayer starts from the input
			if prev != "" {
				ins = []*arr{vals[prev]}
			}
		} else {
			for _, n := range l.In {
				ins = append(ins, vals[n])
			}
		}
		cfg := l.Cfg
		var out *arr
		switch l.Class {
		case "InputLayer":
			out = x
		case "Conv2D":
			k := pair(cfg, "kernel_size", [2]int{})
			f := int(num(cfg, "filters", 0))
			var bias []float64
			if flag(cfg, "use_bias", true) {
				bias = w[l.Name+"/bias"]
			}
			out = refConv(ins[0], w[l.Name+"/kernel"], k[0], k[1], f, bias, pair(cfg, "strides", [2]int{1, 1}),
				pair(cfg, "dilation_rate", [2]int{1, 1}), int(num(cfg, "groups", 1)), str(cfg, "padding", "valid"))
			out = refActivation(out, str(cfg, "activation", "linear"))
		case "Dense":
			units := int(num(cfg, "units", 0))
			var bias []float64
			if flag(cfg, "use_bias", true) {
				bias = w[l.Name+"/bias"]
			}
			out = refActivation(refDense(ins[0], w[l.Name+"/kernel"], units, bias), str(cfg, "activation", "linear"))
		case "BatchNormalization":
			c := ins[0].shape[len(ins[0].shape)-1]
			gamma, beta := ones(c), make([]float64, c)
			if flag(cfg, "scale", true) {
				gamma = w[l.Name+"/gamma"]
			}
			if flag(cfg, "center", true) {
				beta = w[l.Name+"/beta"]
			}
			out = refBN(ins[0], gamma, beta, w[l.Name+"/moving_mean"], w[l.Name+"/moving_variance"], num(cfg, "epsilon", 1e-3))
		case "Activation":
			out = refActivation(ins[0], str(cfg, "activation", ""))
		case "ReLU":
			maxV := num(cfg, "max_value", math.Inf(1))
			slope := num(cfg, "negative_slope", 0)
			out = elementwise(ins[0], func(v float64) float64 {
				if v < 0 {
					v *= slope
				}
				return math.Min(v, maxV)
			})
		case "LeakyReLU":
			alpha := num(cfg, "alpha", 0.3)
			out = elementwise(ins[0], func(v float64) float64 {
				if v < 0 {
					return alpha * v
				}
				return v
			})
		case "Softmax":
			out = lastAxis(ins[0], softmax)
		case "MaxPooling2D", "AveragePooling2D":
			k := pair(cfg, "pool_size", [2]int{2, 2})
			out = refPool(ins[0], k, pair(cfg, "strides", k), str(cfg, "padding", "valid"), l.Class == "MaxPooling2D")
		case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
			out = refGlobal(ins[0], l.Class == "GlobalMaxPooling2D")
		case "Concatenate":
			a := int(num(cfg, "axis", -1))
			if a < 0 {
				a += len(ins[0].shape)
			}
			out = refConcat(ins, a)
		case "Add", "Subtract", "Multiply", "Maximum", "Average":
			out = &arr{shape: append([]int{}, ins[0].shape...), d: append([]float64{}, ins[0].d...)}
			for _, in := range ins[1:] {
				for i, v := range in.d {
					switch l.Class {
					case "Add", "Average":
						out.d[i] += v
					case "Subtract":
						out.d[i] -= v
					case "Multiply":
						out.d[i] *= v
					case "Maximum":
						out.d[i] = math.Max(out.d[i], v)
					}
				}
			}
			if l.Class == "Average" {
				for i := range out.d {
					out.d[i] /= float64(len(ins))
				}
			}
		case "ZeroPadding2D":
			p := cfg["padding"].([][]int)
			out = refZeroPad(ins[0], p[0][0], p[0][1], p[1][0], p[1][1])
		case "Flatten":
			x := ins[0]
			out = &arr{shape: []int{x.shape[0], len(x.d) / x.shape[0]}, d: x.d} // NHWC order
		case "Dropout", "GaussianNoise":
			out = ins[0]
		default:
			panic("refEval: " + l.Class)
		}
		vals[l.Name] = out
		prev = l.Name
	}
	return vals
}

func toF(v any) float64 {
	switch t := v.(type) {
	case int:
		return float64(t)
	case float64:
		return t
	}
	panic(fmt.Sprintf("toF %T", v))
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
