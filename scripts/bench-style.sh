#!/usr/bin/env bash
# bench-style.sh measures neural style transfer as issue 6 states its target: one L-BFGS
# round of 20 loss evaluations at 400 px height through a full-size VGG19 in the ONNX model
# zoo's vgg19-7 layout (random weights: the real file is in no registry; the timing is the
# same), Grace Hopper as content and The Starry Night as style (../shared/data/images), with
# 1 and 2 threads. For each run it prints the round's wall time and the process's CPU time
# during the round (from `gendl style`'s round line), the peak RSS of the whole process
# (/usr/bin/time -v: reading the 575 MB model included) and the load average at the start,
# since other work on the machine inflates the wall time. Target: <= 60 s per round on a
# 2-core machine, <= 8 GiB.
#
# Usage: scripts/bench-style.sh [-threads "1 2"] [-size 400] [-rounds 1] [-iterations 20] [-model FILE]
#   -model FILE   a VGG19 ONNX file (default: $GENDL_MODELS_DIR/vgg19-7-random.onnx, written
#                 once with go run ./models/vgg19/internal/genzoo; GENDL_MODELS_DIR defaults
#                 to <repo>/.models)
#   -content F, -style F   other images (defaults: grace_hopper.jpg, starry_night.jpg in
#                 $GENDL_IMAGES, default <repo>/../shared/data/images)
# The output images and logs go to ${TMPDIR:-/tmp}/bench-style/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
models=${GENDL_MODELS_DIR:-$repo/.models}
images=${GENDL_IMAGES:-$repo/../shared/data/images}
threads="1 2"
size=400
rounds=1
iterations=20
model=""
content=""
styleimg=""
while (($#)); do
	case $1 in
	-threads) threads=$2; shift ;;
	-size) size=$2; shift ;;
	-rounds) rounds=$2; shift ;;
	-iterations) iterations=$2; shift ;;
	-model) model=$2; shift ;;
	-content) content=$2; shift ;;
	-style) styleimg=$2; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-style.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
content=${content:-$images/grace_hopper.jpg}
styleimg=${styleimg:-$images/starry_night.jpg}
if [[ ! -x /usr/bin/time ]]; then
	echo "bench-style.sh: /usr/bin/time is missing (Debian package time)" >&2
	exit 1
fi

work=${TMPDIR:-/tmp}/bench-style
mkdir -p "$work" "$models"
if [[ -z $model ]]; then
	model=$models/vgg19-7-random.onnx
	if [[ ! -f $model ]]; then
		echo "bench-style.sh: writing a full-size zoo-layout VGG19 with random weights to $model" >&2
		(cd "$repo" && go run ./models/vgg19/internal/genzoo -out "$model.tmp") && mv "$model.tmp" "$model"
	fi
fi
(cd "$repo" && go build -o "$work/gendl" ./cmd/gendl)

printf '%-8s %-9s %-10s %-12s %-12s %-10s %-8s %s\n' threads size evals "wall s/round" "CPU s/round" "peak RSS" "load" "final loss"
for t in $threads; do
	load=$(cut -d' ' -f1 /proc/loadavg)
	log=$work/threads$t.log
	/usr/bin/time -v -o "$work/threads$t.time" "$work/gendl" style --content "$content" --style "$styleimg" --model "$model" \
		--size "$size" --rounds "$rounds" --iterations "$iterations" --threads "$t" --out "$work/styled-threads$t.png" >"$log" 2>&1 || {
		echo "bench-style.sh: gendl style failed, see $log" >&2
		cat "$log" >&2
		exit 1
	}
	# round R/N: loss ... (...), E evaluations, W s; total T s (CPU C s), ETA ...
	awk -v t="$t" -v load="$load" -v rounds="$rounds" -v rssfile="$work/threads$t.time" '
	BEGIN {
		while ((getline line < rssfile) > 0)
			if (line ~ /Maximum resident set size/) { n = split(line, f, " "); rss = f[n] }
	}
	/ in the style of / { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+x[0-9]+:$/) { sz = $i; sub(/:$/, "", sz) } }
	/^round [0-9]+\/[0-9]+:/ {
		for (i = 1; i <= NF; i++) {
			if ($(i+1) == "evaluations,") ev += $i
			if ($i == "(CPU") { cpu = $(i+1) }
			if ($i == "total") { wall = $(i+1) }
		}
		loss = $4
	}
	END {
		printf "%-8s %-9s %-10s %-12.1f %-12.1f %-10s %-8s %s\n", t, sz, ev / rounds, wall / rounds, cpu / rounds, sprintf("%.2f GiB", rss / 1048576), load, loss
	}' "$log"
done
echo "logs and images: $work" >&2
