// Package classifier is the small convolutional image classifier that scores gendl's image
// generators (the DCGAN's classifier inception score and Fréchet distance, trainer/gan): its
// configuration, its parameters in ONNX layout, its export as a standard ONNX file following
// gendl's image-model contract (package imagegen) and reading it back. Training is in
// trainer/classifier.
//
// # Model (DefaultConfig: MNIST)
//
//	image [N, 1, 28, 28] in [0, 1]
//	Conv 32, 5x5, stride 2, "same" + ReLU  -> [N, 32, 14, 14]
//	Conv 64, 5x5, stride 2, "same" + ReLU  -> [N, 64, 7, 7]
//	Flatten -> [N, 3136]; Dense 128 + ReLU -> features [N, 128]
//	Dropout 0.5 (training only); Dense 10 -> logits [N, 10]
//
// Strided convolutions replace the usual max-pooling (the same downsampling; Gorgonia's
// pooling is slow and its average-pool gradient broken). "same" is Keras' rule: the odd
// pixel of padding at the end.
//
// # Exported file (opset 17)
//
// Input "image" float32 [N, C, H, W] in [0, 1]; outputs "logits" [N, classes] and "features"
// [N, hidden] (the penultimate layer, after its ReLU); metadata gendl.model = "classifier",
// gendl.format, gendl.image_shape, gendl.dataset, gendl.classes (the class names) and
// gendl.config (Config as JSON, the trainer's settings and results in "train").
//
// Errors are prefixed "classifier:".
package classifier
