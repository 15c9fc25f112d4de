// Package vgg19 reads VGG19 networks in ONNX — the ONNX model zoo's vgg19-7.onnx first — names
// their layers as Keras does, and writes truncated feature extractors for neural style
// transfer (Chollet, Deep Learning with Python, chapter "Generative deep learning"). It holds
// no Gorgonia code.
//
// # Layer names
//
// VGG19 (Simonyan & Zisserman 2014, configuration E) is five blocks of 3x3 convolutions with
// a Relu each (2, 2, 4, 4, 4 of them; 64, 128, 256, 512, 512 channels), each block closed by
// a 2x2 max-pool of stride 2. Keras names these block1_conv1 ... block5_conv4 and
// block1_pool ... block5_pool (Layers, LayerNames); a conv layer's output includes its Relu.
//
// Analyze recognises the layers from the graph's structure, whatever the file's names: from
// the image input (optionally NHWC, transposed to NCHW by the first node) it follows the
// chain Conv 3x3 stride 1 'same' (+ bias, in the Conv or a following Add) -> Relu, and
// MaxPool 2x2 stride 2, checking the counts per block and the channels (W, 2W, 4W, 8W, 8W;
// W = 64 in VGG19, smaller in tests). It rejects anything else with an error naming the node
// where the graph departs from VGG19 (a VGG16 is told as such; a VGG19-BN by its
// BatchNormalization). Layout.Find and Layout.Values map Keras names to the model's values;
// a name the model lacks gives an error listing the available names.
//
// # Preprocessing
//
// A VGG19 file does not say what its input expects, and the weights in circulation differ:
// the zoo's vgg19-7.onnx (converted from MXNet Gluon) and torchvision's take RGB in [0,1]
// normalised by the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225)
// (Torch); Keras', Caffe's and Caffe2's take BGR in [0,255] minus the mean pixel (103.939,
// 116.779, 123.68) (Caffe). Analyze decides, in order: a file written by Extract says it in
// its metadata and applies it in its graph; Options.Preprocessing; metadata
// gendl.vgg19.preprocessing; the exporter recognised from the names (vgg0_conv0_weight: the
// zoo's vgg19-7, Torch; features.0.weight: torchvision, Torch; block1_conv1: Keras, Caffe;
// conv1_1_w_0: Caffe2, Caffe). If none applies, or the graph transforms its input before
// the first convolution (a Sub or Mul of constants, a 1x1 conv, ...), it fails and says how
// to state the preprocessing.
//
// # Feature extractors
//
// Extract writes a new model with only the nodes up to the deepest layer asked for:
//
//	input   "image"  float32 [N, 3, H, W], RGB in [0, 255] (N, H, W symbolic)
//	preprocess/bgr   Conv 1x1 channel swap           (BGR networks only)
//	preprocess/scale Mul  [1,3,1,1]  Range/(255*Std)
//	preprocess/shift Add  [1,3,1,1]  -Mean/Std
//	blockB_convI/Conv -> "blockB_convI/preact", blockB_convI/Relu -> "blockB_convI"
//	blockB_pool/MaxPool -> "blockB_pool"
//	outputs          the layers asked for, by Keras name: float32 [N, C, ?, ?]
//
// The input takes [0,255] because that is how images are decoded and the scale on which the
// book's style-transfer loss weights were set; the network's own preprocessing is part of
// the graph, so gradients with respect to the image flow through it. Weights are
// initializers not listed as graph inputs (IR version >= 4), the opset is the source's
// raised to 9 (every op written means the same in opsets 7 to 24), and metadata_props
// record gendl.model = "vgg19-features", gendl.format, the layers, the input convention, the
// preprocessing applied (Preprocessing.String) and the source. Every Keras layer up to the
// deepest is a value of that name, so a session can read layers that are not outputs. An
// extractor can be analysed and extracted from again.
//
// For style transfer, OpenFeatures / NewFeatures return the extractor planned
// (engine.Plan): feed Features.Input an RGB [0,255] image, read Features.Layers by name.
// ExportFile is `gendl-train export vgg19`.
//
// # Test models
//
// The zoo's file is 548 MB and in no registry. BuildZoo writes a VGG19 in its layout —
// input "data" [1,3,224,224], IR 3, opset 7, initializers also listed in graph.input,
// vgg0_conv<k>_fwd / vgg0_relu<k>_fwd / vgg0_pool<b>_fwd, a Flatten/Gemm/Relu/Dropout head
// with output "vgg0_dense2_fwd" — with seeded random weights, at any input size and, for fast
// tests, any width; flavors also write Caffe2-named and Keras-to-ONNX-style (NHWC) variants.
// `go run ./models/vgg19/internal/genzoo -out vgg19-7.onnx` writes the full-size file
// (574.7 MB; the zoo lists its vgg19-7.onnx as 548.1 MB, in MiB).
//
// # Errors
//
// Model files are untrusted: every function returns an error prefixed "vgg19:" naming the
// node, value, initializer or metadata at fault; none panics on a malformed graph
// (TestStructureMutations). Weights are read with onnx.ToTensor under Options.Limits.
package vgg19
