package nn

import "github.com/gendl/gendl/models/charlstm"

// StepFLOPs counts the floating-point operations of the matrix products of one training
// step (forward and backward) of cfg at the given batch: a product of [m,k]·[k,n] is 2mkn
// forward and 4mkn backward (one product per operand). Element-wise work (gates, softmax)
// is left out; it is O(H·B) per step against O(H²·B). So is the first layer's W·x_t: x_t is
// one-hot and the product is a lookup of W's columns, O(H·B) copies, not the 2·4H·V·B
// multiply-adds of the dense product (42% of the count at V 91, H 128). At the book's
// configuration (V 91, H 128, T 60, batch 128) a step is 2.98 GFLOP for "next" and 3.51
// for "shifted".
func StepFLOPs(cfg charlstm.Config, batch int) float64 {
	V, H, T, B := float64(cfg.VocabSize()), float64(cfg.Hidden), float64(cfg.MaxLen), float64(batch)
	mm := 0.0
	for l := range cfg.Layers {
		if l > 0 {
			mm += T * 2 * 4 * H * H * B // W·x_t
		}
		mm += (T - 1) * 2 * 4 * H * H * B // R·h_{t-1}
	}
	heads := 1.0
	if cfg.Target == charlstm.TargetShifted {
		heads = T
	}
	mm += heads * 2 * V * H * B
	return 3 * mm
}
