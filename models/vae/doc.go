// Package vae is the convolutional variational autoencoder of the book's "Generative deep
// learning" chapter (the keras-io "Variational AutoEncoder" example): its configuration, its
// parameters in ONNX layout, its export as two standard ONNX files — the encoder and the
// decoder — and the reading of those files back. It holds no training code (trainer/vae)
// and no sampling code (the runtime's latent-space tools).
//
// # Model (DefaultConfig: MNIST, latent 2)
//
//	encoder  image [N, 1, 28, 28] in [0, 1]
//	         Conv 32, 3x3, stride 2, "same" + ReLU  -> [N, 32, 14, 14]
//	         Conv 64, 3x3, stride 2, "same" + ReLU  -> [N, 64, 7, 7]
//	         Flatten -> [N, 3136]; Dense 16 + ReLU -> [N, 16]
//	         Dense latent -> z_mean [N, latent];  Dense latent -> z_log_var [N, latent]
//	sampling z = z_mean + exp(z_log_var/2)·ε, ε ~ N(0, I)        (training only)
//	decoder  z [N, latent]
//	         Dense 7·7·64 + ReLU -> Reshape [N, 64, 7, 7]
//	         ConvTranspose 64, 3x3, stride 2, "same" + ReLU -> [N, 64, 14, 14]
//	         ConvTranspose 32, 3x3, stride 2, "same" + ReLU -> [N, 32, 28, 28]
//	         ConvTranspose 1, 3x3, stride 1, "same" -> logits; Sigmoid -> image [N, 1, 28, 28]
//
// Config.Filters lists the encoder's convolutions (the decoder mirrors them), Config.Hidden
// the encoder's dense units; the image's height and width must be divisible by 2^len(Filters).
// "same" is Keras' (TensorFlow's) rule: the odd pixel of padding at the end, so a stride-2
// 3x3 convolution has pads (0, 0, 1, 1) and its transpose the same pads.
//
// # Parameters (ONNX layout)
//
//	Conv W [M, C, kh, kw], B [M]; ConvTranspose W [C, M, kh, kw], B [M]; Dense W [in, out], B [out]
//
// Dense layers export as Gemm (transB 0), so every export is a copy of the parameters.
// Config.ParamShapes lists them, with their initializer names, in Params.List order.
//
// # Exported files (opset 17)
//
// The contract the runtime reads (gendl's image-generator contract):
//
//	encoder: input "image" float32 [N, C, H, W] in [0, 1]; outputs "z_mean", "z_log_var" [N, latent]
//	decoder: input "z" float32 [N, latent]; output "image" [N, C, H, W] in [0, 1]
//	         (the value before the sigmoid is "logits", readable by name)
//
// metadata_props: gendl.model "vae-encoder" or "vae-decoder", gendl.format "1",
// gendl.latent_dim, gendl.image_shape ("1,28,28"), gendl.dataset, and gendl.config (the
// Config as JSON, training settings and results in its "train" field).
//
// # Errors
//
// Model files are untrusted: Load and ParamsFromModel return errors prefixed "vae:" naming
// the missing or malformed metadata, input, output or initializer; they never panic.
package vae
