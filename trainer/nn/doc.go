// Package nn builds the char-LSTM of models/charlstm as a Gorgonia graph for training: LSTM
// layers unrolled over the window with fused gates (one [4H, in]·x and one [4H, H]·h matrix
// product per step, the four gate blocks i, o, f, c sliced from the result), a dense head and
// the mean softmax cross-entropy in nats per character, for both of the book's targets.
//
// The first layer's input is one-hot, so its W·x_t is not a matrix product but a lookup of
// W's columns at the step's characters (an embedding lookup; a zero column for padding), and
// its gradient a scatter-add into those columns: gatherCols, a custom Gorgonia op, exact
// (each entry is one weight times 1). Gorgonia v0.9.18's own ByIndices is too slow along the
// last axis and has no padding. The dense product was 42% of a step's FLOPs at the book's
// configuration; the lookup made the step about 25% faster.
//
// Weights live in ONNX layout from the start (charlstm.Params): W [1, 4H, in] is viewed as
// [4H, in], R as [4H, H], B [1, 8H] as [8H, 1] (Wb then Rb), the head as W [V, H] and b
// [V, 1]. So activations are column-major per batch:
//
//	x_t:   layer 0: B characters, one-hot [V, B]; W·x_t = W[:, x_t] (lookup)
//	       above: the lower layer's h_t, [H, B]
//	gates: [4H, B] = W·x_t + R·h_{t-1} + (Wb + Rb)   blocks i, o, f, c (rows)
//	h_t:   [H, B]
//	logits [V, B] (next) or [V, T·B] (shifted, column t·B+n) = Wd·h + bd
//
// and every gate is a contiguous row block. The graph is built once; Run re-binds the inputs
// and calls vm.Reset after every run (Gorgonia otherwise keeps stale values). Gradients come
// from gorgonia.Grad (symbolic), not BindDualValues, whose gradients accumulate across runs.
// float32 for training; float64 for gradient checks.
package nn
