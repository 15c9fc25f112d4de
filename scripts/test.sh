#!/usr/bin/env bash
# The test command: what the README tells you to run and what CI runs, nothing more.
#
#   scripts/test.sh
#
# 1. installs ONNX Runtime (the reference the tests compare with) from npm, if not present;
# 2. gofmt (no unformatted Go file), go vet, then every unit, property, conformance and CLI test (go test ./...);
# 3. the concurrency tests again under the race detector;
# 4. the ONNX Runtime comparison tests (build tag "ort"; cgo), which must not skip here;
# 5. InceptionV3 converted from TF.js, against TensorFlow.js itself (npm) and ONNX Runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

GENDL_ORT_LIB=${GENDL_ORT_LIB:-$(scripts/install-ort.sh)}
export GENDL_ORT_LIB GENDL_REQUIRE_ORT=1

echo "== gofmt, go vet" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*'))
if [ -n "$unformatted" ]; then
	echo "gofmt: these files are not formatted (run gofmt -w):" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go vet -tags ort ./runtime/ortcheck
echo "== go test ./..." >&2
go test ./...
echo "== conformance again on the portable kernels (GENDL_KERNELS=generic)" >&2
GENDL_KERNELS=generic go test -count=1 ./runtime/conformance ./kernels
echo "== go test -race (engine, ops, grad)" >&2
go test -race -short ./runtime/engine ./runtime/ops
go test -race -run 'Concurrent|Allocs|Bands' ./runtime/grad
echo "== go test -tags ort ./runtime/ortcheck (against ONNX Runtime)" >&2
go test -tags ort ./runtime/ortcheck
echo "== InceptionV3 from TF.js (nsfwjs): gendl and ONNX Runtime against TensorFlow.js itself" >&2
# Installs TensorFlow.js (npm, into .tfjs/) and fetches + converts nsfwjs's InceptionV3 (npm
# pack, into .models/), then compares layer outputs; TF.js's own run is cached in
# .models/tfjs-ref (about 2 CPU-minutes when not cached). GENDL_TFJS_CHECK=1 makes a missing
# piece a failure instead of a skip.
GENDL_TFJS_DIR=$(scripts/install-tfjs.sh)
export GENDL_TFJS_DIR GENDL_TFJS_CHECK=1
scripts/fetch-inception.sh >/dev/null
go test -count=1 -run 'Inception' ./trainer/tfjs
go test -count=1 -tags ort -run 'TFJS' ./runtime/ortcheck
echo "== all tests passed" >&2
