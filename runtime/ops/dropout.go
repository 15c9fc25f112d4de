package ops

import (
	"fmt"

	"github.com/gendl/gendl/runtime/tensor"
)

// Dropout (opset 7, 10, 12, 13, 22; every dtype) in inference mode: the output is the input
// and the optional mask is all ones (all true). Opset 7 and 10 take the ratio as an attribute
// and never train; opset 10 made the mask bool (in 7 it has the input's type). From opset 12
// the ratio and training_mode are optional inputs. Training mode is deterministic only with
// ratio 0 (the output is the input, the mask all true), so that case runs; training with a
// positive ratio draws a random mask, which gendl does not do, and is an error.
type dropout struct {
	ratio    float32 // opset < 12
	inputs   bool    // opset >= 12: ratio and training_mode are inputs
	boolMask bool    // opset >= 10
	outputs  int
}

func newDropout(n *Node) (Op, error) {
	op := dropout{inputs: n.Opset >= 12, boolMask: n.Opset >= 10, outputs: n.NumOutputs()}
	maxIn := 1
	if op.inputs {
		maxIn = 3
		n.Attrs.Int("seed", 0) // a seed only matters when training
	} else {
		op.ratio = n.Attrs.Float("ratio", 0.5)
		if op.ratio < 0 || op.ratio >= 1 {
			n.Attrs.Errorf("ratio", "want a value in [0, 1), got %g", op.ratio)
		}
	}
	if err := n.CheckArity(1, maxIn, 1, 2); err != nil {
		return nil, err
	}
	if err := checkInputsPresent(n, 1); err != nil {
		return nil, err
	}
	return op, nil
}

func (op dropout) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	x := in[0]
	if op.inputs {
		ratio := 0.5
		if len(in) > 1 && in[1] != nil {
			r := in[1]
			if r.Len() != 1 || (r.DType != tensor.Float32 && r.DType != tensor.Float64) {
				return fmt.Errorf("input \"ratio\": want a float scalar, got %v", r)
			}
			ratio = r.Float64At(0)
			if ratio < 0 || ratio >= 1 {
				return fmt.Errorf("input \"ratio\": want a value in [0, 1), got %g", ratio)
			}
		}
		if len(in) > 2 && in[2] != nil {
			t := in[2]
			if t.Len() != 1 || t.DType != tensor.Bool {
				return fmt.Errorf("input \"training_mode\": want a bool scalar, got %v", t)
			}
			if t.Bools()[0] && ratio > 0 {
				return fmt.Errorf("input \"training_mode\": training with ratio %g draws a random mask, which gendl does not implement (run in inference mode, or with ratio 0)", ratio)
			}
		}
	}
	out[0].CopyFrom(x)
	if len(out) < 2 || out[1] == nil {
		return nil
	}
	mask := out[1]
	if op.boolMask {
		mask.Reset(tensor.Bool, x.Shape)
		return fillScalar(mask, true)
	}
	one, err := scalarFromFloat(x.DType, 1)
	if err != nil {
		return fmt.Errorf("input \"data\": %w", err)
	}
	mask.Reset(x.DType, x.Shape)
	return fillScalar(mask, one)
}

// Infer: the output is the input; the mask has its shape.
func (op dropout) Infer(in []Type) ([]Type, error) {
	out := []Type{in[0]}
	if op.outputs > 1 {
		mask := in[0]
		if op.boolMask {
			mask.DType = tensor.Bool
		}
		out = append(out, mask)
	}
	return out, nil
}
