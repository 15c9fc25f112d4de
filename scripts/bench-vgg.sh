#!/usr/bin/env bash
# bench-vgg.sh times a VGG19-shaped model (the ONNX model zoo's vgg19-7 layout, random
# weights, input 1x3x224x224) in gendl and in ONNX Runtime with the same thread count
# (gendl's SessionOptions.Threads, ORT's intra-op threads), and prints milliseconds per
# forward pass (wall time, and CPU time: of the benchmark's thread with 1 thread, which other
# processes on the machine do not inflate; of the whole process with more), GFLOP/s (2 *
# multiply-adds of the Convs and Gemms over the CPU time) and the time ratio gendl/ORT.
#
# Usage: scripts/bench-vgg.sh [-blocks] [-threads LIST] [-count N] [-benchtime T]
#   -blocks       also time each conv block alone (BenchmarkVGG19Block)
#   -threads L    comma-separated thread counts, e.g. 1,2 (default 1; GENDL_BENCH_THREADS)
#   -count N      repetitions of each benchmark (default 1; use 6+ with benchstat)
#   -benchtime T  go test -benchtime (default 3x: a full gendl pass takes seconds)
# The raw `go test -bench` output is kept in $TMPDIR/bench-vgg.txt for benchstat.
# Needs ONNX Runtime: runs scripts/install-ort.sh (a no-op once installed) unless
# GENDL_ORT_LIB is set.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pattern='^BenchmarkVGG19$'
count=1
benchtime=3x
threads=1
while (($#)); do
	case $1 in
	-blocks) pattern='^BenchmarkVGG19(Block)?$' ;;
	-count) count=$2; shift ;;
	-threads) threads=$2; shift ;;
	-benchtime) benchtime=$2; shift ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "bench-vgg.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [[ -z ${GENDL_ORT_LIB:-} ]]; then
	GENDL_ORT_LIB=$("$repo/scripts/install-ort.sh")
fi
GENDL_BENCH_THREADS=$threads
export GENDL_ORT_LIB GENDL_REQUIRE_ORT=1 GENDL_BENCH_THREADS

out=${TMPDIR:-/tmp}/bench-vgg.txt
cd "$repo"
echo "GENDL_BENCH_THREADS=$threads go test -tags ort -run '^\$' -bench '$pattern' -benchtime $benchtime -count $count -timeout 60m ./runtime/ortcheck" >&2
go test -tags ort -run '^$' -bench "$pattern" -benchtime "$benchtime" -count "$count" -timeout 60m ./runtime/ortcheck | tee "$out" >&2

# Lines look like: BenchmarkVGG19/threads=1/gendl-2  3  1234567 ns/op  39.26 GFLOP/op
#   1.9 GFLOP/s  1200000 cpu-ns/op  2.0 GFLOP/cpu-s  6704 B/op  75 allocs/op
# With 1 thread "cpu" is the CPU time of the benchmark's thread, which both executors compute
# on: it does not grow when other processes share the cores, wall time does. With more it is
# the process's CPU time (ORT's spinning workers included).
awk '
/^Benchmark/ && / ns\/op/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	n = split(name, parts, "/"); exec = parts[n]
	model = parts[1]; for (i = 2; i < n; i++) model = model "/" parts[i]
	sub(/^Benchmark/, "", model)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") wall[model, exec] += $i
		if ($(i+1) == "cpu-ns/op") cpu[model, exec] += $i
		if ($(i+1) == "GFLOP/op") gf[model] = $i
	}
	runs[model, exec]++
	if (!(model in seen)) { seen[model] = 1; order[++nm] = model }
}
function ms(t, m, e) { return runs[m, e] ? t[m, e] / runs[m, e] / 1e6 : 0 }
function rate(m, t) { return t ? gf[m] / (t / 1e3) : 0 }
function ratio(a, b) { return (a && b) ? sprintf("%.1fx", a / b) : "-" }
END {
	printf "%-28s %7s | %10s %10s %8s | %8s %8s %8s | %9s %9s\n", "model", "GFLOP", "gendl ms", "cpu ms", "GFLOP/s", "ORT ms", "cpu ms", "GFLOP/s", "ratio", "ratio cpu"
	for (k = 1; k <= nm; k++) {
		m = order[k]
		gw = ms(wall, m, "gendl"); gc = ms(cpu, m, "gendl")
		ow = ms(wall, m, "ort"); oc = ms(cpu, m, "ort")
		printf "%-28s %7.2f | %10.1f %10.1f %8.1f | %8.1f %8.1f %8.1f | %9s %9s\n", m, gf[m], gw, gc, rate(m, gc), ow, oc, rate(m, oc), ratio(gw, ow), ratio(gc, oc)
	}
	print "GFLOP/s over CPU time; ratio = gendl/ORT over wall time, ratio cpu over CPU time"
}' "$out"
