package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Batch normalisation computes in float64 and rounds once to the output dtype, so against a
// float64 reference |got-want| <= 2^-24*|want| for float32; bnRTol = 1e-6 of the magnitude of
// the terms (|x-mean|*|scale|/sqrt(var+eps) + |B|) leaves room for reordering.
const bnRTol = 1e-6

// bnParams returns random scale, B, mean and var tensors of the given shape, each in a random
// float dtype (opset 15 lets them differ from X's), var positive.
func bnParams(rng *rand.Rand, shape []int) [4]*tensor.Tensor {
	var p [4]*tensor.Tensor
	for i := range p {
		p[i] = tensor.New([]tensor.DType{tensor.Float32, tensor.Float64}[rng.IntN(2)], shape...)
		for j := range p[i].Len() {
			v := rng.NormFloat64()
			if i == 3 {
				v = 0.1 + rng.Float64()*2
			}
			nnSetFloat(p[i], j, float64(float32(v)))
		}
	}
	return p
}

// bnCheck compares y with (x - mean)/sqrt(var + eps)*scale + B, where param(k, i) gives
// parameter k (0 scale, 1 B, 2 mean, 3 var) for element i of x.
func bnCheck(t *testing.T, what string, x, y *tensor.Tensor, eps float64, param func(k, i int) float64) {
	t.Helper()
	if !tensor.SameShape(x.Shape, y.Shape) || x.DType != y.DType {
		t.Fatalf("%s: output %v, want %v", what, y, x)
	}
	for i := range x.Len() {
		d := (x.Float64At(i) - param(2, i)) / math.Sqrt(param(3, i)+eps)
		want := d*param(0, i) + param(1, i)
		mag := math.Abs(d*param(0, i)) + math.Abs(param(1, i))
		if got := y.Float64At(i); math.Abs(got-want) > 1e-12+bnRTol*mag {
			t.Fatalf("%s: y[%d] = %v, want %v", what, i, got, want)
		}
	}
}

func bnRandomX(rng *rand.Rand, dt tensor.DType, rank int) *tensor.Tensor {
	shape := []int{1 + rng.IntN(3), 1 + rng.IntN(4)}
	for len(shape) < rank {
		shape = append(shape, 1+rng.IntN(4))
	}
	x := tensor.New(dt, shape...)
	for i := range x.Len() {
		nnSetFloat(x, i, float64(float32(2*rng.NormFloat64()+1)))
	}
	return x
}

// TestBatchNormInference checks inference mode at opsets 7, 9, 14 and 15 for ranks 2 to 5, X
// in float32 and float64, parameters in mixed dtypes.
func TestBatchNormInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for trial := range 40 {
		opset := []int64{7, 9, 14, 15}[trial%4]
		eps := 1e-5
		var attrs []*onnx.AttributeProto
		if trial%3 == 0 {
			eps = float64(float32(0.01))
			attrs = append(attrs, onnx.AttrFloat("epsilon", 0.01))
		}
		op := nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", opset, 5, 1, attrs...))
		x := bnRandomX(rng, []tensor.DType{tensor.Float32, tensor.Float64}[trial/4%2], 2+trial%4)
		c, spatial := x.Shape[1], tensor.Numel(x.Shape[2:])
		p := bnParams(rng, []int{c})
		out, err := nnRun(op, []*tensor.Tensor{x, p[0], p[1], p[2], p[3]}, 1)
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		bnCheck(t, "inference", x, out[0], eps, func(k, i int) float64 { return p[k].Float64At(i / spatial % c) })
	}
}

// TestBatchNormSpatial0 checks opset 7's spatial=0: one parameter per element of a sample.
func TestBatchNormSpatial0(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	op := nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", 7, 5, 1, onnx.AttrInt("spatial", 0)))
	x := bnRandomX(rng, tensor.Float32, 4)
	p := bnParams(rng, x.Shape[1:])
	out, err := nnRun(op, []*tensor.Tensor{x, p[0], p[1], p[2], p[3]}, 1)
	if err != nil {
		t.Fatal(err)
	}
	size := tensor.Numel(x.Shape[1:])
	bnCheck(t, "spatial 0", x, out[0], 1e-5, func(k, i int) float64 { return p[k].Float64At(i % size) })
	// The same parameters per channel are rejected: they have the wrong shape for spatial 0.
	q := bnParams(rng, x.Shape[1:2])
	_, err = nnRun(op, []*tensor.Tensor{x, q[0], q[1], q[2], q[3]}, 1)
	nnWantErr(t, "spatial 0 with [C] parameters", err, `input "scale": want shape`)
}

// TestBatchNormTraining checks training_mode 1 (opset 15): Y is normalised with the batch
// statistics (population variance) and the running statistics are updated with momentum.
func TestBatchNormTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(75, 76))
	for trial := range 12 {
		const momentum = 0.75 // exact in float32
		op := nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", 15, 5, 3,
			onnx.AttrInt("training_mode", 1), onnx.AttrFloat("momentum", momentum)))
		x := bnRandomX(rng, []tensor.DType{tensor.Float32, tensor.Float64}[trial%2], 2+trial%4)
		n, c, spatial := x.Shape[0], x.Shape[1], tensor.Numel(x.Shape[2:])
		p := bnParams(rng, []int{c})
		in := []*tensor.Tensor{x, p[0], p[1], p[2], p[3]}
		out, err := nnRun(op, in, 3)
		if err != nil {
			t.Fatal(err)
		}
		mean, variance := make([]float64, c), make([]float64, c)
		count := float64(n * spatial)
		for i := range x.Len() {
			mean[i/spatial%c] += x.Float64At(i) / count
		}
		for i := range x.Len() {
			d := x.Float64At(i) - mean[i/spatial%c]
			variance[i/spatial%c] += d * d / count
		}
		bnCheck(t, "training", x, out[0], 1e-5, func(k, i int) float64 {
			switch k {
			case 2:
				return mean[i/spatial%c]
			case 3:
				return variance[i/spatial%c]
			}
			return p[k].Float64At(i / spatial % c)
		})
		for k, stat := range [][]float64{mean, variance} {
			got := out[1+k]
			if got.DType != p[2+k].DType || !tensor.SameShape(got.Shape, []int{c}) {
				t.Fatalf("running stat %d: %v, want %v[%d]", k, got, p[2+k].DType, c)
			}
			for ch := range c {
				want := p[2+k].Float64At(ch)*momentum + stat[ch]*(1-momentum)
				if g := got.Float64At(ch); math.Abs(g-want) > 1e-6*(math.Abs(want)+1e-6) {
					t.Fatalf("running stat %d[%d] = %v, want %v", k, ch, g, want)
				}
			}
		}
		// The running statistics are optional outputs: nil slots are skipped.
		y := &tensor.Tensor{}
		if err := op.Run(&Ctx{Threads: 1}, in, []*tensor.Tensor{y, nil, nil}); err != nil {
			t.Fatal(err)
		}
		for i := range y.Len() {
			if v := y.Float64At(i); v != out[0].Float64At(i) {
				t.Fatalf("without running outputs: y[%d] = %v, want %v", i, v, out[0].Float64At(i))
			}
		}
	}
}

func TestBatchNormErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 78))
	_, err := nnBuild(newBatchNorm, nnNode("BatchNormalization", 9, 5, 5))
	nnWantErr(t, "opset 9 training outputs", err, "training-mode outputs (mean, var, saved_mean, saved_var) are not supported before opset 14")
	_, err = nnBuild(newBatchNorm, nnNode("BatchNormalization", 15, 5, 1, onnx.AttrInt("training_mode", 2)))
	nnWantErr(t, "training_mode 2", err, `"training_mode": want 0 or 1`)
	_, err = nnBuild(newBatchNorm, nnNode("BatchNormalization", 15, 4, 1))
	nnWantErr(t, "4 inputs", err, "want 5 inputs")
	_, err = nnBuild(newBatchNorm, nnNode("BatchNormalization", 7, 5, 1, onnx.AttrInt("spatial", 3)))
	nnWantErr(t, "spatial 3", err, `"spatial": want 0 or 1`)

	op := nnMustBuild(t, newBatchNorm, nnNode("BatchNormalization", 15, 5, 1))
	x := bnRandomX(rng, tensor.Float32, 4)
	p := bnParams(rng, []int{x.Shape[1] + 1})
	_, err = nnRun(op, []*tensor.Tensor{x, p[0], p[1], p[2], p[3]}, 1)
	nnWantErr(t, "parameter shape", err, `input "scale": want shape`)
	p = bnParams(rng, x.Shape[1:2])
	_, err = nnRun(op, []*tensor.Tensor{x, p[0], p[1], tensor.New(tensor.Int64, x.Shape[1]), p[3]}, 1)
	nnWantErr(t, "int64 mean", err, `input "input_mean": unsupported dtype int64`)
	_, err = nnRun(op, []*tensor.Tensor{tensor.New(tensor.Float32, 3), p[0], p[1], p[2], p[3]}, 1)
	nnWantErr(t, "rank 1", err, `input "X": want rank at least 2`)
	n := nnNode("BatchNormalization", 15, 5, 1)
	n.Proto.Input[1] = ""
	_, err = nnBuild(newBatchNorm, n)
	nnWantErr(t, "absent scale", err, "input 1 is required but the node leaves it empty")
	_, err = nnBuild(newBatchNorm, nnNode("BatchNormalization", 15, 5, 3))
	nnWantErr(t, "running stats without training", err, "outputs running_mean and running_var exist only with training_mode 1")
}
