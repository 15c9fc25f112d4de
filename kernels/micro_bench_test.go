package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkMicroKernel times the register-blocked micro-kernel alone on packed panels that
// stay in the L1 cache (one B panel, one A panel, one C tile), the ceiling that the blocked
// product can reach on this machine. GFLOP/cpu-s is over the benchmark thread's CPU time.
// Example: go test -run '^$' -bench MicroKernel -count 6 ./kernels
func BenchmarkMicroKernel(b *testing.B) {
	for _, kern := range append([]*microKernel{genericKernel}, simdKernels()...) {
		for _, kc := range []int{64, 256, 512} {
			b.Run(fmt.Sprintf("%s/kc=%d", kern.name, kc), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a, bb := randSlice(r, kern.mr*kc), randSlice(r, kern.nr*kc)
				c := make([]float32, kern.mr*kern.nr)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				const reps = 64
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime(b, syscall.RUSAGE_THREAD)
				for b.Loop() {
					for range reps {
						kern.fn(kc, a, bb, c, kern.nr, 1, true)
					}
				}
				cpu := cpuTime(b, syscall.RUSAGE_THREAD) - cpu0
				flops := 2 * float64(kern.mr*kern.nr*kc) * reps * float64(b.N)
				b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
			})
		}
	}
}
