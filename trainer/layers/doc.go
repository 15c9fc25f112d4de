// Package layers holds the Gorgonia building blocks of gendl's image models (the VAE, the
// DCGAN, the classifier): 2-D convolution and transposed convolution, dense layers,
// ReLU/LeakyReLU, train-time dropout, training-mode batch normalisation (batch statistics,
// reported through BNStats so that a trainer can fold population statistics into exported
// weights), reshaping, a numerically safe sigmoid binary cross-entropy taken from logits, and
// Glorot/He parameter initialisation from a seeded RNG.
//
// # Layout
//
// Activations are NCHW, as in ONNX. Parameters are held in ONNX's layout, so export is a copy:
//
//	Conv2d:          x [N, C, H, W], W [M, C, kh, kw], b [M]  -> y [N, M, OH, OW]
//	ConvTranspose2d: x [N, C, H, W], W [C, M, kh, kw], b [M]  -> y [N, M, OH, OW]
//	Dense:           x [N, in],      W [in, out],      b [out] -> y [N, out]  (ONNX Gemm, transB 0)
//
// with the geometry of ONNX's Conv and ConvTranspose (ConvSpec: strides, and begin/end pads
// per axis; dilation 1, group 1):
//
//	Conv:          OH = (H + padTop + padBottom - kh)/strideH + 1
//	ConvTranspose: OH = strideH·(H-1) + kh - padTop - padBottom + outputPadH
//
// SamePads gives the pads of Keras' padding="same" (TensorFlow's rule: the odd pixel of
// padding goes at the end).
//
// # Convolutions
//
// Gorgonia v0.9.18 has no transposed convolution, and its Conv2d reorders the data through
// generic transposes. Both convolutions here are custom Gorgonia ops on package kernels:
// per image, im2col then one SGEMM (Conv2d), or one SGEMM then col2im (ConvTranspose2d, the
// adjoint of a convolution, as ONNX defines it). Their gradients are the same three
// primitives the other way round — a convolution's input gradient is a transposed
// convolution, and the reverse — plus the filter gradient (dW += dy·colᵀ per image) and the
// bias gradient (a sum over images and positions). The bias is fused into the forward op.
//
// Images are split over GOMAXPROCS goroutines; the filter gradient sums fixed chunks of
// images in a fixed order, so results do not depend on the thread count and a resumed
// training run repeats bit for bit.
//
// float32 runs on the fast kernels without column matrices where it pays (prim_fast.go): the
// forward convolution as an implicit GEMM (kernels.Conv packs straight from the image), the
// transposed convolution and the input gradient as stride² sub-convolutions on kernels.Conv
// (as the runtime's ConvTranspose), and layers with few output channels, and some filter
// gradients, as products on the image lowered once to rows; elsewhere on kernels.Im2col,
// kernels.Col2im and kernels.Sgemm. float64 (gradient checks only) runs on plain reference
// loops in this package. The tests check the float64
// gradients against finite differences and the float32 ops against the float64 ones; the
// models' tests check the exported ONNX graphs against gendl's runtime and ONNX Runtime.
//
// # Graphs
//
// Build a graph once and re-bind its inputs with gorgonia.Let; call vm.Reset after every run;
// take gradients with gorgonia.Grad, not BindDualValues, whose gradients accumulate across
// runs (DESIGN.md, Gorgonia traps). Custom ops here hash their full geometry, so Gorgonia's
// node deduplication never merges two different layers.
//
// Errors are prefixed "layers:".
package layers
