// Package tfjs imports TensorFlow.js layers models (model.json + binary weight shards, as
// tfjs-converter and tf.LayersModel.save write them) and converts them to ONNX graphs that
// gendl's runtime and ONNX Runtime run unchanged. It exists so that InceptionV3's ImageNet
// weights, which the npm package nsfwjs ships in this format, can drive DeepDream offline
// (scripts/fetch-inception.sh; `gendl-train import tfjs`).
//
// Reading (Load, Parse): model.json's modelTopology is Keras 2 JSON (a functional Model or a
// Sequential); weightsManifest lists the weights in the order their bytes follow each other
// across a group's files. Quantised weights are dequantised as TF.js does: uint8 and uint16
// codes q stand for q*scale + min (computed in float64, rounded once to float32), float16 is
// widened. Weight files must lie inside model.json's directory; every size is checked
// against the bytes present, so a truncated, missing or extra file is an error naming it.
//
// Converting (Convert): Keras is channels-last (NHWC); the ONNX graph is NCHW. The graph's
// input is the Keras input transposed, [N, C, H, W] float32, and every Keras layer's output
// is an ONNX value with the layer's name (NCHW for images), so any layer can be fetched by
// name (gendl's Session.Run returns any value; Options.Outputs adds graph outputs for ONNX
// Runtime). Layer mapping:
//
//	Conv2D                 Conv (kernel [kh,kw,in,out] -> [out,in,kh,kw]; groups, dilation)
//	Dense                  Gemm / MatMul on [N, F]; a 1x1 Conv on images
//	BatchNormalization     BatchNormalization (or folded into the Conv before it, Options.FoldBatchNorm)
//	Activation, activation relu, relu6, sigmoid, tanh, softmax (channel axis), elu, selu,
//	                       exponential, swish, hard_sigmoid
//	ReLU, LeakyReLU, Softmax  Relu / Clip / LeakyRelu, Softmax
//	MaxPooling2D           MaxPool
//	AveragePooling2D       AveragePool with count_include_pad 0 (Keras's "same" averages
//	                       only the pixels inside the image)
//	GlobalAveragePooling2D GlobalAveragePool (+ Flatten); GlobalMaxPooling2D: ReduceMax
//	Concatenate            Concat (Keras axis 3 of NHWC -> ONNX axis 1)
//	Add, Subtract, Multiply, Maximum, Average   Add / Sub / Mul / Max chains
//	ZeroPadding2D          Pad
//	Flatten                Transpose to NHWC + Flatten (Keras's element order)
//	Dropout & noise layers Identity (inference)
//
// Padding "same" follows TF: the total padding max((ceil(in/s)-1)*s + k_eff - in, 0) is split
// with the odd pixel at the end. With stride 1 this does not depend on the input size and is
// written as explicit pads; otherwise explicit pads when the size is fixed, auto_pad
// SAME_UPPER (the same rule) when it is not. H and W stay free unless a Flatten needs them.
//
// Errors: unknown layer classes and activations are all listed at once; missing weights,
// weights of the wrong shape, bad configs and shape mismatches name the layer, its class and
// the field. Untrusted input never panics. The Options.Until layer truncates the graph to the
// layers it needs. metadata_props records the source format, the layout and the converted
// layer names, plus whatever Options.Metadata adds (the preprocessing the network expects).
package tfjs
