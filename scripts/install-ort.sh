#!/usr/bin/env bash
# install-ort.sh installs ONNX Runtime's shared library for gendl's reference tests
# (go test -tags ort ./runtime/ortcheck) and benchmarks (scripts/bench-vgg.sh).
#
# ONNX Runtime comes from the npm package onnxruntime-node, which ships libonnxruntime.so.1
# inside the package. Its post-install step would download extra GPU binaries, which this
# project neither needs nor can fetch, so it is skipped with ONNXRUNTIME_NODE_INSTALL=skip.
#
# Usage: scripts/install-ort.sh
#   GENDL_ORT_DIR  where to install (default: <repo>/.ort)
# Prints the path of the shared library on stdout; point GENDL_ORT_LIB at it if you installed
# somewhere other than the default. Running it again when the library is present does nothing.
set -euo pipefail

ORT_NODE_VERSION=1.30.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${GENDL_ORT_DIR:-$repo/.ort}
lib=$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*)
	echo "install-ort.sh: only linux/x86_64 is supported (the package path is linux/x64), not $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

installed_version() {
	sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' \
		"$dir/node_modules/onnxruntime-node/package.json" 2>/dev/null | head -n1
}

if [[ -f $lib && "$(installed_version)" == "$ORT_NODE_VERSION" ]]; then
	echo "$lib"
	exit 0
fi

if ! command -v npm >/dev/null; then
	echo "install-ort.sh: npm is not installed (Debian: apt-get install -y npm)" >&2
	exit 1
fi

mkdir -p "$dir"
echo "install-ort.sh: installing onnxruntime-node@$ORT_NODE_VERSION into $dir" >&2
ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$dir" --no-save --no-audit --no-fund \
	--loglevel=error "onnxruntime-node@$ORT_NODE_VERSION" >&2

if [[ ! -f $lib ]]; then
	echo "install-ort.sh: npm finished but $lib is missing" >&2
	exit 1
fi
echo "$lib"
