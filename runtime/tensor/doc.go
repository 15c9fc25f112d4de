// Package tensor holds the runtime's dense n-dimensional arrays.
//
// A Tensor is a DType, a row-major Shape and a typed Go slice in Data. DType values equal the
// ONNX TensorProto data types, so conversion to and from the onnx package is a cast. The package
// is a leaf: it imports nothing of gendl, so the onnx format layer, the executor and the kernels
// can all use it.
//
// Sessions reuse tensors between runs: Reset gives a tensor a new type and shape and keeps its
// backing array when it is large enough, so a steady-state run allocates nothing.
package tensor
