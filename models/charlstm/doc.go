// Package charlstm is the character-level LSTM text model of the book's "Generative deep
// learning" chapter: its configuration, its parameters in ONNX layout, its export to a
// standard ONNX file, and the reading of such a file back. It holds no training code (that
// is trainer/..., the only place Gorgonia is used) and no sampling code (runtime/sample).
//
// # Model
//
// Characters are one-hot vectors over a vocabulary of V runes (Config.Vocabulary, in index
// order). One or more LSTM layers of Hidden units run over the sequence; a dense head maps
// the last layer's hidden state to V logits, and a softmax over the last axis gives the
// probability of the next character:
//
//	x:      [T, N, V]   one-hot characters, time-major (T steps, N sequences)
//	layer l: LSTM(W_l [1, 4H, in], R_l [1, 4H, H], B_l [1, 8H]) -> Y [T, 1, N, H]
//	         Squeeze(axis 1) -> [T, N, H], the input of layer l+1
//	logits: [T, N, V] = Y · Wᵀ + b   (head W [V, H], b [V])
//	probs:  [T, N, V] = softmax(logits) over the last axis
//
// Gate blocks are stacked i, o, f, c as the ONNX LSTM operator defines them; B holds the
// input bias Wb [4H] followed by the recurrent bias Rb [4H]. Weights are kept in this layout
// from initialisation on (NewParams), so Export is a copy (the head is written transposed,
// [H, V], for MatMul).
//
// # Exported graph (opset 17)
//
// Inputs: "x" float32 [T, N, V] and, per layer l, "h0_<l>" and "c0_<l>" float32 [1, N, H]
// (T and N symbolic). Outputs: "probs" and "logits" [T, N, V] and, per layer, "h_<l>" and
// "c_<l>" [1, N, H]: the LSTM's Y_h and Y_c after the last step. Feeding h_<l>/c_<l> back as
// h0_<l>/c0_<l> continues the sequence, so generating a character is one run at T = 1:
// O(1) per character instead of re-reading a whole window as the book's sampler does.
//
// metadata_props carry everything needed to sample without another file:
//
//	gendl.model    "charlstm"
//	gendl.format   FormatVersion ("1")
//	gendl.config   the Config as JSON, vocabulary included
//
// # Errors
//
// A model file is untrusted input: Load and ParamsFromModel return errors (prefixed
// "charlstm:") for missing or invalid metadata, a config that does not match the graph,
// or weights of the wrong shape; they never panic. Encode names the first character outside
// the vocabulary and its position.
package charlstm
