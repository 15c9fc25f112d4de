package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// poolCase is one random pooling: shapes and attributes in spec form (shared by the MaxPool
// and AveragePool tests).
type poolCase struct {
	n, c         int
	in, kernel   []int
	strides, dil []int
	autoPad      string
	pads         []int // explicit pads (NOTSET); nil otherwise
	ceil         bool
}

func randomPoolCase(rng *rand.Rand, nd int) poolCase {
	p := poolCase{n: 1 + rng.IntN(2), c: 1 + rng.IntN(3)}
	p.autoPad = []string{"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}[rng.IntN(6)]
	if p.autoPad == "NOTSET" {
		p.pads = make([]int, 2*nd)
		p.ceil = rng.IntN(2) == 0
	}
	for i := range nd {
		k, s, d := 1+rng.IntN(3), 1+rng.IntN(3), 1+rng.IntN(2)
		ext := (k-1)*d + 1
		var pb, pe int
		if p.pads != nil {
			pb, pe = rng.IntN(min(3, ext)), rng.IntN(min(3, ext)) // pads smaller than the window
			p.pads[i], p.pads[nd+i] = pb, pe
		}
		p.in = append(p.in, max(1, ext-pb-pe)+rng.IntN(6))
		p.kernel, p.strides, p.dil = append(p.kernel, k), append(p.strides, s), append(p.dil, d)
	}
	return p
}

// resolve returns the pads and output size of dimension i, from the ONNX formulas (written
// out independently of pool_geometry.go, with floating-point floor and ceil).
func (p *poolCase) resolve(i int) (pb, pe, out int) {
	nd := len(p.in)
	in, s := p.in[i], p.strides[i]
	ext := (p.kernel[i]-1)*p.dil[i] + 1
	switch p.autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		out = int(math.Ceil(float64(in) / float64(s)))
		total := max(0, (out-1)*s+ext-in)
		pb = total / 2
		if p.autoPad == "SAME_LOWER" {
			pb = total - total/2
		}
		return pb, total - pb, out
	case "VALID":
		return 0, 0, int(math.Ceil(float64(in-ext+1) / float64(s)))
	}
	pb, pe = p.pads[i], p.pads[nd+i]
	f := float64(in+pb+pe-ext)/float64(s) + 1
	if !p.ceil {
		return pb, pe, int(math.Floor(f))
	}
	out = int(math.Ceil(f))
	if (out-1)*s >= in+pb { // the last window would start in the end padding
		out--
	}
	return pb, pe, out
}

func (p *poolCase) attrs() []*onnx.AttributeProto {
	a := []*onnx.AttributeProto{
		onnx.AttrInts("kernel_shape", nnInts(p.kernel)...),
		onnx.AttrInts("strides", nnInts(p.strides)...),
		onnx.AttrInts("dilations", nnInts(p.dil)...),
		onnx.AttrString("auto_pad", p.autoPad),
	}
	if p.pads != nil {
		a = append(a, onnx.AttrInts("pads", nnInts(p.pads)...))
	}
	if p.ceil {
		a = append(a, onnx.AttrInt("ceil_mode", 1))
	}
	return a
}

// windows calls f for every output element with its offset in the output and the input
// positions under its window, in row-major tap order (valid reports whether a tap reads the
// input; inPads whether it lies in [-pad_begin, in + pad_end)).
func (p *poolCase) windows(f func(o int, planeOff int, taps [][]int, valid, inPads []bool)) (shape []int) {
	nd := len(p.in)
	pb, pe, outSp := make([]int, nd), make([]int, nd), make([]int, nd)
	for i := range nd {
		pb[i], pe[i], outSp[i] = p.resolve(i)
	}
	shape = append([]int{p.n, p.c}, outSp...)
	inVol := tensor.Numel(p.in)
	forEachIndex(shape, func(o []int) {
		var taps [][]int
		var valid, inPads []bool
		forEachIndex(p.kernel, func(t []int) {
			pos := make([]int, nd)
			ok, padded := true, true
			for i := range nd {
				pos[i] = o[2+i]*p.strides[i] - pb[i] + t[i]*p.dil[i]
				ok = ok && pos[i] >= 0 && pos[i] < p.in[i]
				padded = padded && pos[i] >= -pb[i] && pos[i] < p.in[i]+pe[i]
			}
			taps, valid, inPads = append(taps, pos), append(valid, ok), append(inPads, padded)
		})
		f(rowMajorOffset(shape, o), (o[0]*p.c+o[1])*inVol, taps, valid, inPads)
	})
	return shape
}

// naiveMaxPool returns the max of the valid taps (the first one on ties) and its index, row-
// or column-major over the spatial dimensions; lowest and -1 for a window over no input.
func naiveMaxPool(p *poolCase, x []float64, colMajor bool, lowest float64) (shape []int, want []float64, idx []int64) {
	nd := len(p.in)
	shape = p.windows(func(o, planeOff int, taps [][]int, valid, _ []bool) {
		for len(want) <= o {
			want, idx = append(want, lowest), append(idx, -1)
		}
		for j, pos := range taps {
			if !valid[j] {
				continue
			}
			v := x[planeOff+rowMajorOffset(p.in, pos)]
			if idx[o] >= 0 && !(v > want[o]) {
				continue
			}
			off := 0
			if colMajor {
				for i := nd - 1; i >= 0; i-- {
					off = off*p.in[i] + pos[i]
				}
			} else {
				off = rowMajorOffset(p.in, pos)
			}
			want[o], idx[o] = v, int64(planeOff+off)
		}
	})
	return shape, want, idx
}

// TestMaxPoolMatchesDirectLoops compares MaxPool and its Indices output with naiveMaxPool on
// random 1-D, 2-D and 3-D cases in every supported dtype. Inputs are small integers, so ties
// are common (the first tap in row-major order must win) and every value is exact: the
// comparison is ==.
func TestMaxPoolMatchesDirectLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	dtypes := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int8, tensor.Uint8}
	for trial := range 400 {
		p := randomPoolCase(rng, 1+trial%3)
		colMajor := rng.IntN(2) == 0
		attrs := p.attrs()
		if colMajor {
			attrs = append(attrs, onnx.AttrInt("storage_order", 1))
		}
		op := nnMustBuild(t, newMaxPool, nnNode("MaxPool", 12, 1, 2, attrs...))
		dt := dtypes[trial%len(dtypes)]
		x := tensor.New(dt, append([]int{p.n, p.c}, p.in...)...)
		vals := make([]float64, x.Len())
		for i := range vals {
			vals[i] = float64(rng.IntN(7))
			if dt != tensor.Uint8 {
				vals[i] -= 3
			}
			nnSetFloat(x, i, vals[i])
		}
		out, err := nnRun(op, []*tensor.Tensor{x}, 2)
		if err != nil {
			t.Fatalf("trial %d %+v: %v", trial, p, err)
		}
		lowest := map[tensor.DType]float64{tensor.Float32: math.Inf(-1), tensor.Float64: math.Inf(-1), tensor.Int8: -128, tensor.Uint8: 0}[dt]
		shape, want, idx := naiveMaxPool(&p, vals, colMajor, lowest)
		if !tensor.SameShape(out[0].Shape, shape) || !tensor.SameShape(out[1].Shape, shape) || out[0].DType != dt || out[1].DType != tensor.Int64 {
			t.Fatalf("trial %d %+v: outputs %v and %v, want %v%v and int64", trial, p, out[0], out[1], dt, shape)
		}
		for i := range want {
			if got := out[0].Float64At(i); got != want[i] || out[1].I64()[i] != idx[i] {
				t.Fatalf("trial %d %+v (%v, col-major %v): y[%d] = %v at %d, want %v at %d",
					trial, p, dt, colMajor, i, got, out[1].I64()[i], want[i], idx[i])
			}
		}
	}
}

// nnSetFloat stores v into element i of a tensor of any numeric dtype.
func nnSetFloat(t *tensor.Tensor, i int, v float64) {
	switch d := t.Data.(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []int8:
		d[i] = int8(v)
	case []uint8:
		d[i] = uint8(v)
	case []int64:
		d[i] = int64(v)
	}
}

// TestMaxPoolNaN checks that a NaN under a window is the result (as numpy.max gives), and
// that the output without the optional Indices works.
func TestMaxPoolNaN(t *testing.T) {
	op := nnMustBuild(t, newMaxPool, nnNode("MaxPool", 22, 1, 1, onnx.AttrInts("kernel_shape", 2)))
	x := tensor.FromFloat32([]float32{1, float32(math.NaN()), 3, 2}, 1, 1, 4)
	out, err := nnRun(op, []*tensor.Tensor{x}, 1)
	if err != nil {
		t.Fatal(err)
	}
	y := out[0].F32()
	if !math.IsNaN(float64(y[0])) || !math.IsNaN(float64(y[1])) || y[2] != 3 {
		t.Errorf("y = %v, want [NaN NaN 3]", y)
	}
}

func TestMaxPoolErrors(t *testing.T) {
	k2 := onnx.AttrInts("kernel_shape", 2, 2)
	op := nnMustBuild(t, newMaxPool, nnNode("MaxPool", 22, 1, 1, k2))
	_, err := nnRun(op, []*tensor.Tensor{tensor.New(tensor.Int64, 1, 1, 3, 3)}, 1)
	nnWantErr(t, "int64", err, `input "X": unsupported dtype int64`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 3, 3)}, 1)
	nnWantErr(t, "rank", err, `input "X": want rank 4`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 1, 3)}, 1)
	nnWantErr(t, "too small", err, `smaller than the kernel's extent 2`)
	_, err = nnBuild(newMaxPool, nnNode("MaxPool", 22, 1, 1, k2, onnx.AttrInt("storage_order", 2)))
	nnWantErr(t, "storage_order", err, `"storage_order": want 0 (row major) or 1`)
	_, err = nnBuild(newMaxPool, nnNode("MaxPool", 22, 1, 3, k2))
	nnWantErr(t, "outputs", err, "want 1 to 2 outputs")
}

// TestPoolsFloat32FastPath checks the float32 pools that run on kernels.MaxPool and
// kernels.AveragePool: MaxPool without Indices gives the values of the Indices path (the
// direct loops of TestMaxPoolMatchesDirectLoops; equal as numbers, so +0 may stand for -0),
// and both pools give the same bits with 1 and 3 threads, on random 1-D to 3-D cases with
// NaNs and signed zeros among the inputs.
func TestPoolsFloat32FastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for trial := range 300 {
		p := randomPoolCase(rng, 1+trial%3)
		p.c += 8 * (trial % 2) // enough planes to split over threads
		x := tensor.New(tensor.Float32, append([]int{p.n, p.c}, p.in...)...)
		for i := range x.F32() {
			switch r := rng.IntN(30); {
			case r == 0:
				x.F32()[i] = float32(math.NaN())
			case r == 1:
				x.F32()[i] = float32(math.Copysign(0, -1))
			default:
				x.F32()[i] = float32(rng.IntN(7) - 3)
			}
		}
		withIdx, err := nnRun(nnMustBuild(t, newMaxPool, nnNode("MaxPool", 12, 1, 2, p.attrs()...)), []*tensor.Tensor{x}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, opType := range []string{"MaxPool", "AveragePool"} {
			var outs [2]*tensor.Tensor
			for i, threads := range []int{1, 3} {
				c := newMaxPool
				attrs := p.attrs()
				if opType == "AveragePool" {
					c = newAveragePool
					attrs = append(attrs, onnx.AttrInt("count_include_pad", int64(trial%2)))
				}
				op := nnMustBuild(t, c, nnNode(opType, 19, 1, 1, attrs...))
				outs[i] = &tensor.Tensor{}
				if err := op.Run(&Ctx{Threads: threads}, []*tensor.Tensor{x}, outs[i:i+1]); err != nil {
					t.Fatalf("trial %d %+v: %s: %v", trial, p, opType, err)
				}
			}
			if !tensor.SameShape(outs[0].Shape, withIdx[0].Shape) || !tensor.SameShape(outs[1].Shape, withIdx[0].Shape) {
				t.Fatalf("trial %d %+v: %s: shapes %v, %v, want %v", trial, p, opType, outs[0].Shape, outs[1].Shape, withIdx[0].Shape)
			}
			for i, v := range outs[0].F32() {
				w := outs[1].F32()[i]
				if math.Float32bits(v) != math.Float32bits(w) && !(v != v && w != w) {
					t.Fatalf("trial %d %+v: %s: y[%d] = %v with 1 thread, %v with 3", trial, p, opType, i, v, w)
				}
				if want := withIdx[0].F32()[i]; opType == "MaxPool" && v != want && !(v != v && want != want) {
					t.Fatalf("trial %d %+v: y[%d] = %v, want %v (the Indices path)", trial, p, i, v, want)
				}
			}
		}
	}
}
