#!/usr/bin/env bash
# bench-dream.sh measures DeepDream with the book's default settings on the real InceptionV3
# (scripts/fetch-inception.sh) for the issue's target: a 500x400 image, 3 octaves x1.4, 20
# iterations, step 0.01, max loss 10. It prints the load average before and after, the loss
# and the wall and CPU time of each octave (gendl dream's own report), the whole run's CPU
# time and peak RSS (/usr/bin/time), and the book's losses for comparison.
#
# Usage: scripts/bench-dream.sh [-threads N] [-bench] [IMAGE]
#   IMAGE      default: ../shared/data/images/starry_night.jpg (752x600), resized to 500x400
#   -threads N threads for gendl dream (default: all cores)
#   -bench     also run the per-step Go benchmark (BenchmarkInceptionStep: one loss and
#              gradient at each octave size, cpu-s/op = process CPU time per step)
# GENDL_INCEPTION overrides the model path (default .models/inception_v3.onnx, fetched and
# converted by scripts/fetch-inception.sh when missing). The dream is written to
# $TMPDIR/bench-dream.png.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
threads=$(nproc)
bench=0
img=$repo/../shared/data/images/starry_night.jpg
while (($#)); do
	case $1 in
	-threads) threads=$2; shift ;;
	-bench) bench=1 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench-dream.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) img=$1 ;;
	esac
	shift
done

model=${GENDL_INCEPTION:-$repo/.models/inception_v3.onnx}
if [[ ! -f $model ]]; then
	model=$("$repo/scripts/fetch-inception.sh" "$model")
fi
if [[ ! -x /usr/bin/time ]]; then
	echo "bench-dream.sh: /usr/bin/time is missing (apt-get install time)" >&2
	exit 1
fi
tmp=${TMPDIR:-/tmp}
bin=$(mktemp -d "$tmp/bench-dream.XXXXXX")
trap 'rm -rf "$bin"' EXIT
(cd "$repo" && go build -o "$bin/gendl" ./cmd/gendl)

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f 'total: %e s wall, %U s user + %S s system CPU, peak RSS %M KiB' \
	"$bin/gendl" dream "$img" --size 500x400 --model "$model" --threads "$threads" \
	--out "$tmp/bench-dream.png" 2>"$bin/stderr" | sed '/iteration/d'
grep -v iteration "$bin/stderr" || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat <<'BOOK'
the book (Deep Learning with Python, 8.2-deep-dream.ipynb; Keras InceptionV3, its own 350x350 photo):
  octave 1/3 178x178: 20 steps, loss 0.6718 -> 9.941
  octave 2/3 250x250: 10 steps, loss 2.177 -> 9.61, then > 10 (max loss)
  octave 3/3 350x350: 7 steps, loss 2.312 -> 9.985, then > 10 (max loss)
BOOK
if ((bench)); then
	cd "$repo" && GENDL_INCEPTION=$model go test ./runtime/dream -run XXX -bench InceptionStep -benchtime 5x
fi
