package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gendl/gendl/onnx"
)

// maxWeightElements caps one weight's element count (checked before anything is allocated).
const maxWeightElements = 1 << 30

// newWeight checks a manifest entry and returns the weight with the number of bytes it
// occupies in the weight files.
func newWeight(s manifestSpec) (*Weight, int64, error) {
	if s.Name == "" {
		return nil, 0, fmt.Errorf("tfjs: a weight in the manifest has no name")
	}
	lim := onnx.Limits{MaxElements: maxWeightElements}
	shape, err := lim.CheckShape(s.Shape, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("tfjs: weight %q: %v", s.Name, err)
	}
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	w := &Weight{Name: s.Name, Shape: shape, DType: s.DType, Quant: s.Quantization}
	if w.DType != "float32" && w.DType != "int32" {
		return nil, 0, fmt.Errorf("tfjs: weight %q: dtype %q: want float32 or int32", s.Name, s.DType)
	}
	if q := w.Quant; q != nil {
		switch q.DType {
		case "uint8", "uint16":
			if q.Min == nil || q.Scale == nil {
				return nil, 0, fmt.Errorf("tfjs: weight %q: %s quantization without min and scale", s.Name, q.DType)
			}
			if math.IsNaN(*q.Min) || math.IsInf(*q.Min, 0) || math.IsNaN(*q.Scale) || math.IsInf(*q.Scale, 0) {
				return nil, 0, fmt.Errorf("tfjs: weight %q: quantization min %v / scale %v is not finite", s.Name, *q.Min, *q.Scale)
			}
		case "float16":
			if w.DType != "float32" {
				return nil, 0, fmt.Errorf("tfjs: weight %q: float16 quantization of a %s weight", s.Name, w.DType)
			}
		default:
			return nil, 0, fmt.Errorf("tfjs: weight %q: quantization dtype %q: want uint8, uint16 or float16", s.Name, q.DType)
		}
	}
	return w, n * int64(w.bytesPerElement()), nil
}

func (w *Weight) bytesPerElement() int {
	if w.Quant != nil {
		switch w.Quant.DType {
		case "uint8":
			return 1
		case "uint16", "float16":
			return 2
		}
	}
	return 4
}

// storage describes how the weight is stored, for messages: "float32", "uint8-quantised", ...
func (w *Weight) storage() string {
	if w.Quant == nil {
		return w.DType
	}
	return w.Quant.DType + "-quantised " + w.DType
}

// Len is the weight's element count.
func (w *Weight) Len() int {
	n := 1
	for _, d := range w.Shape {
		n *= d
	}
	return n
}

// Float32 returns the weight's values, dequantised as TF.js does (tfjs-core io.decodeWeights):
// a uint8 or uint16 code q stands for q*scale + min, computed in float64 and rounded once to
// float32; float16 values are widened; int32 values are converted.
func (w *Weight) Float32() []float32 {
	n := w.Len()
	out := make([]float32, n)
	le := binary.LittleEndian
	switch {
	case w.Quant == nil && w.DType == "float32":
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(w.raw[4*i:]))
		}
	case w.Quant == nil: // int32
		for i := range out {
			out[i] = float32(int32(le.Uint32(w.raw[4*i:])))
		}
	case w.Quant.DType == "uint8":
		mn, sc := *w.Quant.Min, *w.Quant.Scale
		for i := range out {
			out[i] = float32(float64(float64(w.raw[i])*sc) + mn) // no fused multiply-add: JS rounds twice
		}
	case w.Quant.DType == "uint16":
		mn, sc := *w.Quant.Min, *w.Quant.Scale
		for i := range out {
			out[i] = float32(float64(float64(le.Uint16(w.raw[2*i:]))*sc) + mn)
		}
	case w.Quant.DType == "float16":
		for i := range out {
			out[i] = onnx.Float16ToFloat32(le.Uint16(w.raw[2*i:]))
		}
	}
	return out
}
