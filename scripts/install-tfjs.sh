#!/usr/bin/env bash
# install-tfjs.sh installs TensorFlow.js (npm @tensorflow/tfjs, pure JavaScript, CPU backend)
# for the reference tests that run TF.js layers models in TF.js itself and compare with gendl's
# conversion (trainer/tfjs, runtime/ortcheck; GENDL_TFJS_CHECK=1). Nothing is downloaded at
# run time: the package and its dependencies come from npm, no native add-on is built.
#
# Usage: scripts/install-tfjs.sh
#   GENDL_TFJS_DIR  where to install (default: <repo>/.tfjs)
# Prints the install directory on stdout (the tests read GENDL_TFJS_DIR, defaulting to
# <repo>/.tfjs). Running it again when the package is present does nothing.
set -euo pipefail

TFJS_VERSION=4.22.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${GENDL_TFJS_DIR:-$repo/.tfjs}
pkg=$dir/node_modules/@tensorflow/tfjs/package.json

installed_version() {
	sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$pkg" 2>/dev/null | head -n1
}

if [[ -f $pkg && "$(installed_version)" == "$TFJS_VERSION" ]]; then
	echo "$dir"
	exit 0
fi

for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		echo "install-tfjs.sh: $tool is not installed (Debian: apt-get install -y nodejs npm)" >&2
		exit 1
	fi
done

mkdir -p "$dir"
echo "install-tfjs.sh: installing @tensorflow/tfjs@$TFJS_VERSION into $dir" >&2
npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
	"@tensorflow/tfjs@$TFJS_VERSION" >&2

if [[ "$(installed_version)" != "$TFJS_VERSION" ]]; then
	echo "install-tfjs.sh: npm finished but $pkg is missing or not version $TFJS_VERSION" >&2
	exit 1
fi
echo "$dir"
