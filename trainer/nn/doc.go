// Package nn builds the char-LSTM of models/charlstm as a Gorgonia graph for training: LSTM
// layers unrolled over the window with fused gates (one [4H, in]·x and one [4H, H]·h matrix
// product per step, the four gate blocks i, o, f, c sliced from the result), a dense head and
// the mean softmax cross-entropy in nats per character, for both of the book's targets.
//
// Weights live in ONNX layout from the start (charlstm.Params): W [1, 4H, in] is viewed as
// [4H, in], R as [4H, H], B [1, 8H] as [8H, 1] (Wb then Rb), the head as W [V, H] and b
// [V, 1]. So activations are column-major per batch:
//
//	x_t:   [V, B]   one-hot columns
//	gates: [4H, B] = W·x_t + R·h_{t-1} + (Wb + Rb)   blocks i, o, f, c (rows)
//	h_t:   [H, B]
//	logits [V, B] (next) or [V, T·B] (shifted, column t·B+n) = Wd·h + bd
//
// and every gate is a contiguous row block. The graph is built once; Run re-binds the inputs
// and calls vm.Reset after every run (Gorgonia otherwise keeps stale values). Gradients come
// from gorgonia.Grad (symbolic), not BindDualValues, whose gradients accumulate across runs.
// float32 for training; float64 for gradient checks.
package nn
