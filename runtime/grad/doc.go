// Package grad computes reverse-mode gradients through a frozen ONNX graph run by
// runtime/engine: the gradient of a loss built on any values of the graph (outputs or
// intermediate values, by name) with respect to graph inputs. DeepDream and neural style
// transfer use it to optimise an input image through a pretrained network.
//
//	plan, _ := engine.LoadFile("vgg19.onnx", engine.Options{})
//	g, err := grad.New(plan, []string{"block5_conv2", "block1_conv1"}, []string{"data"})
//	s := g.NewSession(engine.SessionOptions{Threads: 2})  // owns and reuses every buffer
//	vals, err := s.Forward(feeds)                         // the values of, by name (borrowed)
//	// ... a loss on vals, and its gradient with respect to each value: seeds ...
//	grads, err := s.Backward(seeds)                       // dLoss/d(data), by name (borrowed)
//
// or in one call, s.Step(feeds, loss) with a loss function that fills the seeds (MeanSquare
// is DeepDream's per-layer term). Tensors returned by Forward, Backward and Step belong to
// the session and stay valid until its next call; clone what must outlive it.
//
// # What is differentiated
//
// Weights are frozen: gradients flow only from the values of to the inputs wrt, through
// activations. Plan-time constants (initializers, folded Constants) and integer or bool
// values (Shape, ArgMax, MaxPool's Indices, ...) carry no gradient, so a Reshape whose shape
// comes from Shape(x) is fine. New finds the nodes on a path from wrt to of and builds their
// backward; a node on such a path whose op has no backward is an error at construction, with
// every such node listed at once (*UnsupportedError), as is a path through a weight input
// (Conv's W, BatchNormalization's statistics, Clip's bounds...) or a float64 value.
//
// Ops and their backward (each with the semantics of every opset the runtime supports):
//
//	Conv, ConvTranspose        the adjoint products: dX = Col2im(Wᵀ×dY) and W×Im2col(dY), per image and group
//	MaxPool                    dY routed to the arg-max (the forward's tie rule: first in row-major order)
//	AveragePool                dY/count spread over the window (count_include_pad, ceil_mode, dilations)
//	GlobalAveragePool          dY/size
//	BatchNormalization         inference only: dY*scale/sqrt(var+eps)
//	LRN, Softmax, LogSoftmax   closed forms (see norm.go)
//	Relu, LeakyRelu, Elu, Selu, Sigmoid, Tanh, Neg, Exp, Log, Sqrt, Clip   element-wise derivatives
//	Add, Sub, Mul, Div         numpy broadcasting: gradients summed over broadcast dimensions
//	Gemm, MatMul               transposed products; Gemm's C and MatMul's batch broadcasting too
//	ReduceSum, ReduceMean      axes as attribute or input, keepdims, noop_with_empty_axes
//	Concat, Transpose, Pad     slices, the inverse permutation, the adjoint of every pad mode
//	Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout (inference)   dY reshaped
//
// At kinks (Relu at 0, Clip at its bounds, MaxPool ties) the backward takes one subgradient:
// 0 for Relu at 0, pass-through at Clip's bounds, the first maximum.
//
// # Speed and memory
//
// The forward pass is the engine's (only the nodes of needs run) and keeps every
// intermediate value in the engine session's buffers, without copies. The backward runs the
// nodes in reverse order. Gradient buffers come from a pool keyed by size: a buffer is taken
// when the first consumer of a value contributes to its gradient and given back once the
// value's producer has used it, so the pool holds about two buffers per distinct layer
// shape rather than one per value. The convolution backward uses the kernels package's
// Sgemm/SgemmParallel, Im2col and Col2im (a channel-parallel Col2im lives here), and
// computes its column matrices in bands of output rows of at most colBudget elements
// (32 MiB) whatever the image size. A steady-state Backward with one thread allocates
// nothing.
//
// # Errors
//
// Errors are prefixed "grad:" and name the node (`node "conv_7" (Conv)`), the value or the
// seed at fault: unknown names, a wrt that is not a graph input, seeds of the wrong shape or
// dtype, Backward without a successful Forward. A panic inside a backward kernel (a bug) is
// returned as an internal error naming the source line.
//
// The tests check every op's backward against central finite differences on random shapes
// and attributes (fd_test.go states the tolerances and how kinks are avoided).
package grad
