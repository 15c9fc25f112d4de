// Package dcgan is the deep convolutional GAN of the book's "Generative deep learning"
// chapter, sized for 28x28 grayscale images (MNIST, Fashion-MNIST) and 32x32 RGB folders: its
// configuration, the generator's and the discriminator's parameter layouts (ONNX layout), the
// generator's export as a standard ONNX file, reading it back, and the embedded default model.
// It holds no training code (trainer/gan) and no sampling code (models/imagegen, the runtime).
//
// # Model (DefaultConfig: MNIST, latent 100)
//
//	generator      z [N, latent] ~ N(0, I)
//	               Dense 64·7·7 + LeakyReLU(0.2) -> Reshape [N, 64, 7, 7]
//	               ConvTranspose 64, 4x4, stride 2, "same" + LeakyReLU -> [N, 64, 14, 14]
//	               ConvTranspose 32, 4x4, stride 2, "same" + LeakyReLU -> [N, 32, 28, 28]
//	               Conv C, 5x5, stride 1, "same"; Tanh -> image [N, C, 28, 28] in [-1, 1]
//	discriminator  image [N, C, 28, 28] in [-1, 1]
//	               Conv 32, 4x4, stride 2, "same" + LeakyReLU -> [N, 32, 14, 14]
//	               Conv 64, 4x4, stride 2, "same" + LeakyReLU -> [N, 64, 7, 7]
//	               Dropout 0.4 (training only); Flatten; Dense 1 -> logit (sigmoid: P(real))
//
// The book's tricks are in the layout: strided convolutions instead of pooling, kernel sizes
// divisible by the stride (4 for stride 2: no checkerboard from uneven overlap), LeakyReLU
// instead of ReLU, dropout in the discriminator and tanh at the generator's output. The
// book's own model (32x32 RGB frogs, 256-filter layers) is about 20 times the work per step;
// Config sizes it (GenBase, GenFilters, DiscFilters, Kernel, OutKernel). The height and width
// must be divisible by 2^len(GenFilters); "same" is Keras' rule (TensorFlow's: the odd pixel
// of padding at the end), so a 4x4 stride-2 transposed convolution has pads (1, 1, 1, 1) and
// exactly doubles its input.
//
// # Parameters (ONNX layout)
//
//	Conv W [M, C, kh, kw], B [M]; ConvTranspose W [C, M, kh, kw], B [M]; Dense W [in, out], B [out]
//
// Config.GenShapes and Config.DiscShapes list them, with their initializer names, in Params
// order (each layer's weight, then its bias).
//
// # Exported file (opset 17)
//
// gendl's image-generator contract (package imagegen): input "z" float32 [N, latent], output
// "image" float32 [N, C, H, W] in [-1, 1]; metadata gendl.model = "dcgan-generator",
// gendl.format, gendl.latent_dim, gendl.image_shape, gendl.dataset and gendl.config (this
// package's Config as JSON, the trainer's settings and results in its "train" field). The file
// runs unchanged in ONNX Runtime (runtime/ortcheck, build tag ort).
//
// Errors are prefixed "dcgan:".
package dcgan
