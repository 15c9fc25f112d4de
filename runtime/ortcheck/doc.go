// Package ortcheck checks gendl's runtime against ONNX Runtime (ORT), the reference executor
// that every model gendl exports must also run in (see DESIGN.md). It holds only tests and
// benchmarks, all behind the build tag `ort` so that the default `go test ./...` stays fast
// and free of cgo; this file exists so that the package is there without the tag.
//
// Setup: scripts/install-ort.sh installs ORT 1.30's shared library (from the npm package
// onnxruntime-node) into <repo>/.ort, or into $GENDL_ORT_DIR, and prints its path. The tests
// load it through github.com/yalue/onnxruntime_go (cgo) from $GENDL_ORT_LIB, or from the
// default path under <repo>/.ort when that variable is unset. Without the library the tests
// skip, unless GENDL_REQUIRE_ORT=1 (CI), in which case they fail.
//
//	scripts/install-ort.sh
//	go test -tags ort ./runtime/ortcheck
//	scripts/bench-vgg.sh            # BenchmarkVGG19: gendl vs ORT, one thread each
//
// What is checked:
//   - TestConformanceVsORT: every vendored ONNX node case that gendl plans and passes runs in
//     both executors, on its stored inputs and on a copy whose float data tensors have their
//     elements shuffled (new values the stored outputs do not cover), and the outputs must
//     agree. Cases gendl cannot do yet, and cases where ORT 1.30 itself misses the stored
//     outputs, are skipped with the reason.
//   - TestRandomConvNets, TestRandomLSTMs: random conv nets (Conv, ConvTranspose, MaxPool,
//     AveragePool, BatchNormalization, Relu, Flatten + Gemm; 1 to 3 spatial dims) and LSTMs
//     (directions, sequence_lens, initial states, peepholes, clip, input_forget, activations)
//     built with onnx.Builder, run on random inputs from a fixed seed (-seed N tries others).
//     A kind whose ops gendl does not register is skipped, naming them. On a disagreement the
//     first disagreeing node is named.
//   - TestVGG19VsORT (skipped by -short) and BenchmarkVGG19, BenchmarkVGG19Block: the model
//     zoo's VGG19 layout (IR 3, opset 7, weights as initializers also listed as graph
//     inputs) with random weights, at 1x3x224x224; the benchmarks run one thread in each
//     executor and report GFLOP/s over wall time and over the thread's CPU time.
//
// Tolerances are stated beside each comparison: |gendl-ort| <= atol + rtol*|ort| per element,
// NaNs in the same places.
package ortcheck
