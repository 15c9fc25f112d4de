package ops

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/runtime/tensor"
)

// BatchNormalization is the ONNX batch normalisation (opset 7, 9, 14, 15; X float32 or
// float64; scale, B, input_mean and input_var float32 or float64, each independently, as
// opset 15 allows). For X [N, C, D1..Dk] (k >= 0) and per-channel parameters [C]:
//
//	Y = (X - mean) / sqrt(var + epsilon) * scale + B
//
// In inference mode (the only mode before opset 14, and training_mode 0 from opset 14), mean
// and var are the inputs input_mean and input_var. Opset 7's spatial 0 takes parameters of
// shape [C, D1..Dk], one per element of a sample, instead of [C].
//
// With training_mode 1 (opset 14+), mean and var are the statistics of X over N and the
// spatial dimensions (var is the biased, population variance, as in the ONNX reference), and
// the optional outputs running_mean and running_var are
//
//	input_mean*momentum + mean*(1-momentum),  input_var*momentum + var*(1-momentum)
//
// in the dtype of input_mean. Before opset 14 training was implied by asking for more than one
// output (mean, var, saved_mean, saved_var); that form is rejected when planning, since the
// meaning of saved_var is not pinned down by the spec and exporters write inference graphs.
//
// Arithmetic is float64; results are rounded to the output dtype once.
type batchNorm struct {
	epsilon  float64
	momentum float64
	training bool
	perElem  bool // opset 7 spatial=0: parameters have X's per-sample shape
	outputs  int  // output slots of the node: Y, and running_mean, running_var in training
}

func newBatchNorm(n *Node) (Op, error) {
	a := n.Attrs
	op := &batchNorm{
		epsilon:  float64(a.Float("epsilon", 1e-5)),
		momentum: float64(a.Float("momentum", 0.9)),
		outputs:  n.NumOutputs(),
	}
	maxOut := 3
	if n.Opset < 14 {
		maxOut = 1
		if n.NumOutputs() > 1 {
			return nil, n.Errorf("training-mode outputs (mean, var, saved_mean, saved_var) are not supported before opset 14; export the graph in inference mode with only Y")
		}
	}
	if err := n.CheckArity(5, 5, 1, maxOut); err != nil {
		return nil, err
	}
	if n.Opset < 9 {
		op.perElem = !a.Flag("spatial", true)
	}
	if n.Opset >= 14 {
		op.training = a.Flag("training_mode", false)
	}
	if op.epsilon < 0 || math.IsNaN(op.epsilon) {
		a.Errorf("epsilon", "want a non-negative value, got %v", op.epsilon)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if !op.training && n.NumOutputs() > 1 {
		return nil, n.Errorf("outputs running_mean and running_var exist only with training_mode 1")
	}
	return op, nil
}

var batchNormInputs = [5]string{"X", "scale", "B", "input_mean", "input_var"}

// checkShapes checks the shapes of X and of the parameters scale, B, input_mean and
// input_var (nil: rank unknown, plan time; dimensions of -1 are unknown too), and returns the
// number of channels, -1 if unknown. x must have rank 2 at least.
func (op *batchNorm) checkShapes(x []int, params *[4][]int) (c int, err error) {
	c = x[1]
	for i, p := range params {
		if p == nil {
			continue
		}
		if op.perElem {
			err = wantDims(batchNormInputs[i+1], p, x[1:]...)
		} else {
			err = wantDims(batchNormInputs[i+1], p, c)
		}
		if err != nil {
			return 0, err
		}
		if !op.perElem {
			c = mergeDim(c, p[0])
		}
	}
	return c, nil
}

// batchNormDTypes are the dtypes of X and of each parameter.
var batchNormDTypes = []tensor.DType{tensor.Float32, tensor.Float64}

func (op *batchNorm) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input \"X\": unsupported dtype %v (want float32 or float64)", x.DType)
	}
	if err := checkNC(x.Shape); err != nil {
		return err
	}
	var params [4][]int
	for i := 1; i < 5; i++ {
		p := in[i]
		if p.DType != tensor.Float32 && p.DType != tensor.Float64 {
			return fmt.Errorf("input %q: unsupported dtype %v (want float32 or float64)", batchNormInputs[i], p.DType)
		}
		params[i-1] = shapeOf(p)
	}
	c, err := op.checkShapes(x.Shape, &params)
	if err != nil {
		return err
	}
	n := x.Shape[0]
	spatial := 1
	for _, d := range x.Shape[2:] {
		spatial *= d
	}
	y := out[0]
	y.Reset(x.DType, x.Shape)
	scale, bias := in[1], in[2]
	if !op.training {
		mean, variance := in[3], in[4]
		switch x.DType {
		case tensor.Float32:
			batchNormInfer(x.F32(), y.F32(), n, c, spatial, op.epsilon, op.perElem, scale, bias, mean, variance)
		default:
			batchNormInfer(x.F64(), y.F64(), n, c, spatial, op.epsilon, op.perElem, scale, bias, mean, variance)
		}
		return nil
	}
	for i := 1; i < len(out); i++ {
		if out[i] != nil {
			out[i].Reset(in[i+2].DType, in[i+2].Shape)
		}
	}
	for ch := range c {
		var mean, variance float64
		switch x.DType {
		case tensor.Float32:
			mean, variance = batchNormStats(x.F32(), n, c, spatial, ch)
		default:
			mean, variance = batchNormStats(x.F64(), n, c, spatial, ch)
		}
		a := scale.Float64At(ch) / math.Sqrt(variance+op.epsilon)
		b := bias.Float64At(ch)
		switch x.DType {
		case tensor.Float32:
			batchNormChannel(x.F32(), y.F32(), n, c, spatial, ch, mean, a, b)
		default:
			batchNormChannel(x.F64(), y.F64(), n, c, spatial, ch, mean, a, b)
		}
		for i, stat := range [2]float64{mean, variance} {
			if len(out) > i+1 && out[i+1] != nil {
				running := in[3+i].Float64At(ch)*op.momentum + stat*(1-op.momentum)
				storeRunningStat(out[i+1], ch, running)
			}
		}
	}
	return nil
}

// Infer checks the dtypes and what is known of the shapes. Y has X's type (its channel count
// taken from the parameters when X does not give it); running_mean and running_var have the
// types of input_mean and input_var.
func (op *batchNorm) Infer(in []Type) ([]Type, error) {
	for i, t := range in {
		if err := CheckDType(batchNormInputs[i], t, batchNormDTypes...); err != nil {
			return nil, err
		}
	}
	x := in[0]
	var params [4][]int
	for i := range params {
		params[i] = optShape(in[i+1])
	}
	y := Type{DType: x.DType}
	switch {
	case x.Ranked:
		if err := checkNC(x.Shape); err != nil {
			return nil, err
		}
		c, err := op.checkShapes(x.Shape, &params)
		if err != nil {
			return nil, err
		}
		y = Type{DType: x.DType, Shape: append([]int{}, x.Shape...), Ranked: true}
		y.Shape[1] = c
	case !op.perElem:
		// X's rank is unknown, but the parameters must still be vectors of one length.
		if _, err := op.checkShapes([]int{-1, -1}, &params); err != nil {
			return nil, err
		}
	}
	out := []Type{y}
	for i := 1; i < op.outputs; i++ { // running_mean and running_var, in training mode
		out = append(out, in[i+2])
	}
	return out, nil
}

// batchNormInfer applies the inference-mode formula with the given statistics, read in float64.
func batchNormInfer[T float32 | float64](x, y []T, n, c, spatial int, eps float64, perElem bool, scale, bias, mean, variance *tensor.Tensor) {
	if perElem {
		batchNormPerElem(x, y, n, c*spatial, eps, scale, bias, mean, variance)
		return
	}
	for ch := range c {
		a := scale.Float64At(ch) / math.Sqrt(variance.Float64At(ch)+eps)
		batchNormChannel(x, y, n, c, spatial, ch, mean.Float64At(ch), a, bias.Float64At(ch))
	}
}

// batchNormChannel writes y = (x - mean)*a + b for channel ch of every sample.
func batchNormChannel[T float32 | float64](x, y []T, n, c, spatial, ch int, mean, a, b float64) {
	for i := range n {
		off := (i*c + ch) * spatial
		dst := y[off : off+spatial]
		for j, v := range x[off : off+spatial] {
			dst[j] = T((float64(v)-mean)*a + b)
		}
	}
}

// batchNormPerElem is inference with one set of parameters per element of a sample (size elements).
func batchNormPerElem[T float32 | float64](x, y []T, n, size int, eps float64, scale, bias, mean, variance *tensor.Tensor) {
	for j := range size {
		a := scale.Float64At(j) / math.Sqrt(variance.Float64At(j)+eps)
		m, b := mean.Float64At(j), bias.Float64At(j)
		for i := range n {
			y[i*size+j] = T((float64(x[i*size+j])-m)*a + b)
		}
	}
}

// batchNormStats returns the mean and the population variance of channel ch over all samples
// and spatial positions (two passes, in float64). An empty channel has NaN statistics.
func batchNormStats[T float32 | float64](x []T, n, c, spatial, ch int) (mean, variance float64) {
	count := float64(n * spatial)
	var sum float64
	for i := range n {
		off := (i*c + ch) * spatial
		for _, v := range x[off : off+spatial] {
			sum += float64(v)
		}
	}
	mean = sum / count
	var ss float64
	for i := range n {
		off := (i*c + ch) * spatial
		for _, v := range x[off : off+spatial] {
			d := float64(v) - mean
			ss += d * d
		}
	}
	return mean, ss / count
}

// storeRunningStat stores v into element i of a float32 or float64 tensor.
func storeRunningStat(t *tensor.Tensor, i int, v float64) {
	switch t.DType {
	case tensor.Float32:
		t.F32()[i] = float32(v)
	case tensor.Float64:
		t.F64()[i] = v
	}
}
