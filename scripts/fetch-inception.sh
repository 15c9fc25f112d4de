#!/usr/bin/env bash
# fetch-inception.sh makes InceptionV3 with its ImageNet weights available offline, as ONNX.
#
# The npm package nsfwjs@4.4.0 (MIT) ships Keras's InceptionV3 in TensorFlow.js layers format,
# uint8-quantised, as JavaScript modules. Its layers up to mixed5 (conv2d_1..conv2d_50) are
# the original ImageNet weights, the network and layers the book's DeepDream uses; the later
# layers were fine-tuned by nsfwjs for its own five classes. This script
#   1. fetches the package with `npm pack` (no install, no scripts run),
#   2. unbundles the model into model.json + weight files (scripts/tfjs-unbundle.js),
#   3. converts it with `gendl-train import tfjs`, by default only up to mixed5 (--full: the
#      whole nsfwjs classifier), with any input size.
# The ONNX file takes RGB as NCHW float32 [N, 3, H, W] scaled to [-1, 1] (x/127.5 - 1), and
# every Keras layer (mixed0..mixed5, conv2d_N, activation_N, ...) is a value of that name.
#
# Usage: scripts/fetch-inception.sh [--full] [OUT.onnx]
#   OUT.onnx          default: <repo>/.models/inception_v3.onnx
#   GENDL_MODELS_DIR  work directory (default: <repo>/.models); the TF.js files end up in
#                     $GENDL_MODELS_DIR/inception_v3/tfjs
# Prints the ONNX file's path on stdout. Steps whose results exist are skipped.
set -euo pipefail

NSFWJS_VERSION=4.4.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${GENDL_MODELS_DIR:-$repo/.models}

full=0
out=""
for arg in "$@"; do
	case $arg in
	--full) full=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "fetch-inception.sh: unknown option $arg (see --help)" >&2
		exit 2
		;;
	*) out=$arg ;;
	esac
done
out=${out:-$work/inception_v3.onnx}
case $out in /*) ;; *) out=$PWD/$out ;; esac

for tool in node npm go; do
	if ! command -v "$tool" >/dev/null; then
		echo "fetch-inception.sh: $tool is not installed" >&2
		exit 1
	fi
done

npmdir=$work/npm
tgz=$npmdir/nsfwjs-$NSFWJS_VERSION.tgz
pkgdir=$npmdir/nsfwjs-$NSFWJS_VERSION
tfjsdir=$work/inception_v3/tfjs
mkdir -p "$npmdir"

if [[ ! -f $tgz ]]; then
	echo "fetch-inception.sh: npm pack nsfwjs@$NSFWJS_VERSION" >&2
	(cd "$npmdir" && npm pack --silent "nsfwjs@$NSFWJS_VERSION" >/dev/null)
fi
if [[ ! -f $pkgdir/package.json ]]; then
	rm -rf "$pkgdir.tmp"
	mkdir -p "$pkgdir.tmp"
	tar -xzf "$tgz" -C "$pkgdir.tmp"
	got=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$pkgdir.tmp/package/package.json" | head -n1)
	if [[ $got != "$NSFWJS_VERSION" ]]; then
		echo "fetch-inception.sh: $tgz holds nsfwjs $got, want $NSFWJS_VERSION" >&2
		exit 1
	fi
	rm -rf "$pkgdir"
	mv "$pkgdir.tmp/package" "$pkgdir"
	rm -rf "$pkgdir.tmp"
fi
if [[ ! -f $tfjsdir/model.json ]]; then
	echo "fetch-inception.sh: unbundling the TF.js model into $tfjsdir" >&2
	node "$repo/scripts/tfjs-unbundle.js" "$pkgdir/dist/models/inception_v3" "$tfjsdir"
fi

args=(--out "$out"
	--metadata "preprocessing=RGB, NCHW float32, scaled to [-1, 1]: x/127.5 - 1 (Keras inception_v3.preprocess_input)"
	--metadata "source=npm nsfwjs@$NSFWJS_VERSION (MIT), Keras InceptionV3; layers through mixed5 (conv2d_1..conv2d_50) are the original ImageNet weights, later layers are fine-tuned by nsfwjs; weights uint8-quantised")
if [[ $full == 0 ]]; then
	args+=(--until mixed5 --outputs mixed2,mixed3,mixed4)
fi
stamp=$out.fetch-inception
want="nsfwjs@$NSFWJS_VERSION full=$full $(cksum <"$repo/scripts/fetch-inception.sh" | cut -d' ' -f1)"
if [[ -f $out && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
	echo "fetch-inception.sh: $out is up to date" >&2
else
	(cd "$repo" && go run ./cmd/gendl-train import tfjs "${args[@]}" "$tfjsdir/model.json") >&2
	echo "$want" >"$stamp"
fi
echo "$out"
