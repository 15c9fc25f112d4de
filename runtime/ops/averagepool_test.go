package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// naiveAveragePool averages the valid taps of each window; with includePads the divisor also
// counts the taps in the pads (not those past the end padding). It also returns the mean
// magnitude of the terms, for the tolerance.
func naiveAveragePool(p *poolCase, x []float64, includePads bool) (shape []int, want, mag []float64) {
	shape = p.windows(func(o, planeOff int, taps [][]int, valid, inPads []bool) {
		var sum, abs float64
		count := 0
		for j, pos := range taps {
			if valid[j] {
				v := x[planeOff+rowMajorOffset(p.in, pos)]
				sum += v
				abs += math.Abs(v)
			}
			if valid[j] || (includePads && inPads[j]) {
				count++
			}
		}
		want = append(want, sum/float64(count))
		mag = append(mag, abs/float64(count))
	})
	return shape, want, mag
}

// TestAveragePoolMatchesDirectLoops compares AveragePool with naiveAveragePool on random 1-D,
// 2-D and 3-D cases (pads, ceil_mode, auto_pad, dilations, count_include_pad) in float32 and
// float64. Both sum in float64; the float32 output is rounded once, so |got-want| <=
// 2^-24*|want| plus float64 reordering error: the test allows 1e-6 times the mean |x| under
// the window (plus 1e-12).
func TestAveragePoolMatchesDirectLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for trial := range 400 {
		p := randomPoolCase(rng, 1+trial%3)
		include := rng.IntN(2) == 0
		attrs := p.attrs()
		if include {
			attrs = append(attrs, onnx.AttrInt("count_include_pad", 1))
		}
		op := nnMustBuild(t, newAveragePool, nnNode("AveragePool", 19, 1, 1, attrs...))
		dt := []tensor.DType{tensor.Float32, tensor.Float64}[trial%2]
		x := tensor.New(dt, append([]int{p.n, p.c}, p.in...)...)
		vals := make([]float64, x.Len())
		for i := range vals {
			vals[i] = float64(float32(rng.NormFloat64()))
			nnSetFloat(x, i, vals[i])
		}
		out, err := nnRun(op, []*tensor.Tensor{x}, 1)
		if err != nil {
			t.Fatalf("trial %d %+v: %v", trial, p, err)
		}
		shape, want, mag := naiveAveragePool(&p, vals, include)
		if !tensor.SameShape(out[0].Shape, shape) || out[0].DType != dt {
			t.Fatalf("trial %d %+v: output %v, want %v%v", trial, p, out[0], dt, shape)
		}
		for i := range want {
			got := out[0].Float64At(i)
			if math.IsNaN(want[i]) && math.IsNaN(got) {
				continue // a window over padding only (count_include_pad 0)
			}
			if math.Abs(got-want[i]) > 1e-12+1e-6*mag[i] {
				t.Fatalf("trial %d %+v (include pads %v): y[%d] = %v, want %v", trial, p, include, i, got, want[i])
			}
		}
	}
}

// TestAveragePoolCeilCountIncludePad pins the divisor of a ceil_mode window that runs past the
// end: input [1 2 3 4 5], kernel 2, stride 2, ceil_mode: windows [1 2], [3 4], [5 | past end].
// The last one averages 5 over 1 tap with or without count_include_pad, because the tap past
// the end is not padding (ONNX Runtime and PyTorch agree; ONNX's
// averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True pins the same rule).
func TestAveragePoolCeilCountIncludePad(t *testing.T) {
	for _, include := range []int64{0, 1} {
		op := nnMustBuild(t, newAveragePool, nnNode("AveragePool", 22, 1, 1, onnx.AttrInts("kernel_shape", 2),
			onnx.AttrInts("strides", 2), onnx.AttrInt("ceil_mode", 1), onnx.AttrInt("count_include_pad", include)))
		out, err := nnRun(op, []*tensor.Tensor{tensor.FromFloat32([]float32{1, 2, 3, 4, 5}, 1, 1, 5)}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if y := out[0].F32(); len(y) != 3 || y[0] != 1.5 || y[1] != 3.5 || y[2] != 5 {
			t.Errorf("count_include_pad %d: y = %v, want [1.5 3.5 5]", include, y)
		}
	}
	// With pads 1 at both ends, count_include_pad 1 divides the edge windows by the full 2.
	op := nnMustBuild(t, newAveragePool, nnNode("AveragePool", 22, 1, 1, onnx.AttrInts("kernel_shape", 2),
		onnx.AttrInts("strides", 2), onnx.AttrInts("pads", 1, 1), onnx.AttrInt("count_include_pad", 1)))
	out, err := nnRun(op, []*tensor.Tensor{tensor.FromFloat32([]float32{2, 4, 6, 8}, 1, 1, 4)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if y := out[0].F32(); len(y) != 3 || y[0] != 1 || y[1] != 5 || y[2] != 4 {
		t.Errorf("pads 1+1: y = %v, want [1 5 4]", y)
	}
}

func TestAveragePoolErrors(t *testing.T) {
	k2 := onnx.AttrInts("kernel_shape", 2)
	op := nnMustBuild(t, newAveragePool, nnNode("AveragePool", 22, 1, 1, k2))
	_, err := nnRun(op, []*tensor.Tensor{tensor.New(tensor.Uint8, 1, 1, 3)}, 1)
	nnWantErr(t, "uint8", err, `input "X": unsupported dtype uint8`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 3, 3)}, 1)
	nnWantErr(t, "rank", err, `input "X": want rank 3`)
	_, err = nnBuild(newAveragePool, nnNode("AveragePool", 22, 1, 1, k2, onnx.AttrInt("count_include_pad", -1)))
	nnWantErr(t, "count_include_pad", err, `"count_include_pad": want 0 or 1`)
	_, err = nnBuild(newAveragePool, nnNode("AveragePool", 22, 1, 1))
	nnWantErr(t, "no kernel", err, `"kernel_shape": required attribute is missing`)
}
