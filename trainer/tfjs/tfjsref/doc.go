// Package tfjsref runs TF.js layers models in TensorFlow.js itself — the reference that
// gendl's converter (package tfjs) is checked against — and provides what the comparison
// tests share: locating the TF.js install and the InceptionV3 files, loading test images,
// NHWC/NCHW transposes and a difference summary.
//
// TensorFlow.js (npm @tensorflow/tfjs 4.22.0, CPU backend) is installed by
// scripts/install-tfjs.sh into <repo>/.tfjs, and InceptionV3 (from nsfwjs) is unbundled by
// scripts/fetch-inception.sh into <repo>/.models/inception_v3/tfjs; GENDL_TFJS_DIR and
// GENDL_INCEPTION_TFJS override those locations. Run executes the embedded node script
// tfjs_ref.js on a job and reads back the dumped layer outputs; results are cached by a hash
// of the script, the model files, the inputs and the requested layers, because TF.js's CPU
// backend takes about 20 s of CPU for one InceptionV3 forward pass at 299x299.
//
// It also writes the hand-made TF.js models the converter's tests use (TestModel, ModelA,
// ModelB), so that runtime/ortcheck can run the same models in ONNX Runtime.
package tfjsref
