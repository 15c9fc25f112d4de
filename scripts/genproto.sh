#!/usr/bin/env bash
# Regenerates onnx/onnx.pb.go from the official onnx.proto (ONNX 1.12, IR 8) as Debian ships it.
# Nothing is installed: the Debian packages are fetched with `apt-get download` and unpacked
# into a temporary directory with `dpkg -x`. protoc-gen-go comes from the Go module proxy at the
# version go.mod pins for google.golang.org/protobuf.
#
# The proto package is renamed from "onnx" to "gendl.onnx" so that our generated types can never
# clash with another Go binding of package "onnx" linked into the same binary (the protobuf
# registry panics at start-up on duplicate names). The wire format is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download libonnx-dev protobuf-compiler libprotoc32 libprotobuf32 >/dev/null)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done

protover=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
GOBIN="$work/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$protover"

sed -e 's/^package onnx;/package gendl.onnx;/' \
    "$work/root/usr/include/onnx/onnx.proto" > "$work/onnx.proto"
grep -q '^package gendl.onnx;' "$work/onnx.proto" || { echo "genproto: package line not found" >&2; exit 1; }

LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu" PATH="$work/bin:$PATH" \
  "$work/root/usr/bin/protoc" -I "$work" \
  --go_out="$root/onnx" --go_opt=paths=source_relative \
  --go_opt=Monnx.proto=github.com/gendl/gendl/onnx \
  "$work/onnx.proto"
echo "genproto: wrote onnx/onnx.pb.go"
