// Package conformance runs the ONNX project's backend node tests against gendl's executor.
//
// testdata/node holds the vendored cases; manifest.txt lists every one of them, either as
// "pass <case>" (it must pass: a failure is a regression) or "skip <case>: <reason>" (out of
// scope: an unsupported dtype, an op outside gendl's set, outputs drawn from NumPy's RNG).
// The cases run through package testset, the same code path as `gendl run --assert-outputs`,
// with ONNX's tolerances (rtol 1e-3, atol 1e-7).
//
// `go test ./runtime/conformance -run TestManifest -report-skipped -v` prints which
// skipped cases now pass, so they can be promoted.
package conformance
