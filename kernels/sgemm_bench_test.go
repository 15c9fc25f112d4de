package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// sgemmBenchShapes: square products, and the convolutions of VGG19 at 224×224 as im2col
// lowers them (m = output channels, k = input channels × 3×3, n = output pixels), one per
// block: every VGG19 conv after the first is one of these five shapes.
var sgemmBenchShapes = []struct {
	name    string
	m, n, k int
}{
	{"square64", 64, 64, 64},
	{"square256", 256, 256, 256},
	{"square512", 512, 512, 512},
	{"square1024", 1024, 1024, 1024},
	{"vgg_block1", 64, 224 * 224, 64 * 9},
	{"vgg_block2", 128, 112 * 112, 128 * 9},
	{"vgg_block3", 256, 56 * 56, 256 * 9},
	{"vgg_block4", 512, 28 * 28, 512 * 9},
	{"vgg_block5", 512, 14 * 14, 512 * 9},
}

// BenchmarkSgemm times C = A·B (no transposes, beta 0) for every kernel on this machine, on
// one thread (Sgemm's path) and on two (SgemmParallel). It reports GFLOP/s (2mnk per call)
// over wall time, and over CPU time (cpu-ns/op, GFLOP/cpu-s): of the benchmark's OS thread
// with one thread, of the whole process with more. CPU time does not grow when other
// processes share the cores, wall time does; with more threads GFLOP/cpu-s is the rate per
// busy core, so the speed-up shows in wall time on an otherwise idle machine only.
// Example: go test -run '^$' -bench 'Sgemm/avx2' -count 6 ./kernels | benchstat -
func BenchmarkSgemm(b *testing.B) {
	for _, kern := range append([]*microKernel{genericKernel}, simdKernels()...) {
		for _, threads := range []int{1, 2} {
			for _, s := range sgemmBenchShapes {
				b.Run(fmt.Sprintf("%s/threads=%d/%s", kern.name, threads, s.name), func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 2))
					a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
					run := func() {
						if threads == 1 {
							sgemm(kern, false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
						} else {
							sgemmParallel(kern, threads, parallelMinFlops, false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
						}
					}
					who := syscall.RUSAGE_SELF
					if threads == 1 {
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						who = syscall.RUSAGE_THREAD
					}
					run() // warm-up: fills the buffer pool, starts the workers
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuTime(b, who)
					for b.Loop() {
						run()
					}
					cpu := cpuTime(b, who) - cpu0
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
				})
			}
		}
	}
}

// cpuTime is the user+system CPU time of the calling thread (syscall.RUSAGE_THREAD) or of
// the process (syscall.RUSAGE_SELF).
func cpuTime(tb testing.TB, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
