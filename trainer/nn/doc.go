// Package nn builds the char-LSTM of models/charlstm as a Gorgonia graph for training: LSTM
// layers unrolled over the window, a dense head and the mean softmax cross-entropy in nats
// per character, for both of the book's targets ("next": the window's last step predicts the
// next character; "shifted": every step predicts its successor).
//
// # Fused ops
//
// A graph of Gorgonia's element-wise ops has about 20 nodes per step and layer and spent
// most of a training step outside the matrix products (float64 sigmoid per element, node
// bookkeeping, allocation). So the graph is a few custom ops (lstm_op.go, head_op.go):
//
//	h_0 [T·B, H] = LSTM_0(W_0, R_0, B_0)          first layer: reads the characters
//	h_l [T·B, H] = LSTM_l(W_l, R_l, B_l, h_{l-1})
//	Sum          = SoftmaxXentHead(h_top, Wd, bd)  reads the targets
//	Loss         = Sum · InvN                      (Gorgonia ops)
//
// with hand-written gradient ops that Gorgonia's symbolic Grad inserts (SymDiff). Rows are
// time-major, row t·B+n for sequence n at step t, so the products over all steps are single
// GEMMs (the input projection, dR, dW, dX and the head) and only h_{t-1}·Rᵀ and dG_t·R go
// step by step. Products run on gendl's SGEMM (kernels.SgemmParallel) and the gates on its
// float32 activations (kernels.SigmoidF32, TanhF32). The first layer's input is one-hot, so
// x_t·Wᵀ is a row lookup of Wᵀ and its gradient a scatter-add (each entry one weight times
// 1: exact). The head computes softmax and cross-entropy together, its gradient p - onehot(y)
// directly.
//
// Each forward op keeps what its gradient op needs (activated gates, cell states, tanh of
// them, probabilities) in a workspace shared with it; buffers are allocated once per Net, so
// a step allocates almost nothing. Every op is checked against central finite differences
// in float64 (fused_test.go), and the whole graph against the reference graph below.
//
// Options.Reference builds the first implementation instead: Gorgonia's own ops (MatMul,
// Sigmoid, Tanh, LogSoftMax, ...) per gate and step, differentiated by Gorgonia. It takes
// about 4.5-5x the CPU time per step at the book's configuration (BenchmarkTrainStep: 353
// against 67 ms for "next", 401 against 89 ms for "shifted") and allocates 230 MB a step
// against 74 KB; it is kept as an independent check of the fused ops and as the benchmark
// of Gorgonia's BLAS (BenchmarkGorgoniaBLAS). It gathers the first layer's input with
// gatherCols and takes row blocks with rowBlock, because Gorgonia v0.9.18's G.Slice hashes
// its bounds truncated to a byte (see rowBlock).
//
// Weights live in ONNX layout from the start (charlstm.Params): W [1, 4H, in] is held as
// [4H, in], R as [4H, H], B [1, 8H] as [8H, 1] (Wb then Rb), the head as W [V, H] and b
// [V, 1]; gate blocks i, o, f, c. The graph is built once; Run fills the input and target
// buffers and calls vm.Reset after every run (Gorgonia otherwise keeps stale values).
// Gradients come from gorgonia.Grad (symbolic), not BindDualValues, whose gradients
// accumulate across runs. float32 for training; float64 for gradient checks.
package nn
