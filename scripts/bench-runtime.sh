#!/usr/bin/env bash
# bench-runtime.sh measures, in one run, gendl and ONNX Runtime on the same ONNX files with
# the same thread count (gendl's SessionOptions.Threads, ORT's intra-op threads), and prints
# per model: milliseconds per run (wall time and CPU time), GFLOP/s over the CPU time, the
# time ratio gendl/ORT, and steady-state allocations per run of each. Models:
#   VGG19      the model zoo's vgg19-7 layout at 224x224, random weights: whole and per block
#   DCGAN      generators Gemm -> Reshape -> ConvTranspose (k4 s2) x2/x3 -> Tanh, 28x28x1 and
#              64x64x3, batch 1 and 16
#   LSTMStep   one step of a char-LSTM (hidden 128, vocabulary 60) at batch 1 and 128
#   InceptionMixed5  InceptionV3 through mixed5 (DeepDream's forward) at 299x299 and 500x400,
#              one thread whatever -threads says; skipped unless scripts/fetch-inception.sh
#              has fetched the model
# CPU time is the benchmark thread's with 1 thread (other processes on the machine do not
# inflate it; wall time they do), the whole process's with more (ORT's spinning workers
# included). The benchmarks are in runtime/ortcheck (vgg_bench_test.go, bench_runtime_test.go).
#
# Usage: scripts/bench-runtime.sh [-threads LIST] [-count N] [-only REGEX] [-quick]
#   -threads L   comma-separated thread counts (default 1,2)
#   -count N     repetitions of each benchmark (default 1; use 6+ with benchstat)
#   -only R      benchmark name pattern (default VGG19, VGG19Block, DCGAN, LSTMStep,
#                InceptionMixed5)
#   -quick       VGG19 blocks, DCGAN and LSTMStep only (skips the 39-GFLOP whole VGG19)
# The raw `go test -bench` output is kept in $TMPDIR/bench-runtime.txt for benchstat.
# A/B benchmarks of single changes (gendl only, interleaved; see each for its benchstat line):
#   go test -tags ort ./runtime/ortcheck -bench VGG19BlockFusion   Conv+Relu fusion on/off
#   go test ./runtime/ops -bench ConvTransposeAB                   ConvTranspose sub-convs/Col2im
#   go test ./runtime/grad -bench ConvBackwardAB                   Conv backward implicit/Col2im
#   go test ./kernels -bench Pool                                  pools, with the naive loop
# Needs ONNX Runtime: runs scripts/install-ort.sh (a no-op once installed) unless
# GENDL_ORT_LIB is set.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pattern='^Benchmark(VGG19|VGG19Block|DCGAN|LSTMStep|InceptionMixed5)$'
count=1
threads=1,2
while (($#)); do
	case $1 in
	-threads) threads=$2; shift ;;
	-count) count=$2; shift ;;
	-only) pattern=$2; shift ;;
	-quick) pattern='^Benchmark(VGG19Block|DCGAN|LSTMStep)$' ;;
	-h | --help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "bench-runtime.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [[ -z ${GENDL_ORT_LIB:-} ]]; then
	GENDL_ORT_LIB=$("$repo/scripts/install-ort.sh")
fi
GENDL_BENCH_THREADS=$threads
export GENDL_ORT_LIB GENDL_REQUIRE_ORT=1 GENDL_BENCH_THREADS

out=${TMPDIR:-/tmp}/bench-runtime.txt
cd "$repo"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "GENDL_BENCH_THREADS=$threads go test -tags ort -run '^\$' -bench '$pattern' -count $count -timeout 60m ./runtime/ortcheck" >&2
# VGG19 runs take seconds: a fixed 3 iterations; the small models run for 1 s each.
go test -tags ort -run '^$' -bench "$pattern" -benchtime 1s -count "$count" -timeout 60m ./runtime/ortcheck | tee "$out" >&2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Lines look like: BenchmarkDCGAN/rgb64/batch=1/threads=1/gendl-2  300  3.9e6 ns/op
#   53.4 GFLOP/cpu-s  0.207 GFLOP/op  52.9 GFLOP/s  3.8e6 cpu-ns/op  80302 B/op  20 allocs/op
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
		if ($(i+1) == "allocs/op") al[model, exec] = $i
	}
	runs[model, exec]++
	if (!(model in seen)) { seen[model] = 1; order[++nm] = model }
}
function ms(t, m, e) { return runs[m, e] ? t[m, e] / runs[m, e] / 1e6 : 0 }
function rate(m, t) { return t ? gf[m] / (t / 1e3) : 0 }
function ratio(a, b) { return (a && b) ? sprintf("%.2fx", a / b) : "-" }
END {
	printf "%-44s %8s | %9s %9s %7s %6s | %9s %9s %7s %6s | %7s %7s\n", "model", "GFLOP", "gendl ms", "cpu ms", "GFLOP/s", "allocs", "ORT ms", "cpu ms", "GFLOP/s", "allocs", "ratio", "cpu"
	for (k = 1; k <= nm; k++) {
		m = order[k]
		gw = ms(wall, m, "gendl"); gc = ms(cpu, m, "gendl")
		ow = ms(wall, m, "ort"); oc = ms(cpu, m, "ort")
		printf "%-44s %8.4f | %9.3f %9.3f %7.1f %6s | %9.3f %9.3f %7.1f %6s | %7s %7s\n", m, gf[m], gw, gc, rate(m, gc), al[m, "gendl"], ow, oc, rate(m, oc), al[m, "ort"], ratio(gw, ow), ratio(gc, oc)
	}
	print "GFLOP/s over CPU time; allocs per run (steady state); ratio = gendl/ORT over wall time, cpu over CPU time"
}' "$out"
