//go:build ort

package ortcheck

import (
	"fmt"
	"testing"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// BenchmarkVGG19BlockFusion is the A/B of the Conv+Relu fusion of Session.Run: each VGG19
// block (as BenchmarkVGG19Block) run by gendl with the fusion (fused) and without it
// (SessionOptions.NoFusion: unfused), interleaved, one thread each by default
// (GENDL_BENCH_THREADS):
//
//	go test -tags ort ./runtime/ortcheck -run '^$' -bench VGG19BlockFusion -count 6 | benchstat -col /mode -
func BenchmarkVGG19BlockFusion(b *testing.B) {
	requireORT(b)
	for _, p := range vggParts {
		for _, threads := range benchThreads(b) {
			plan, om := loadVGGThreads(b, p, threads)
			om.Destroy()
			feeds := map[string]*tensor.Tensor{plan.Inputs[0].Name: vggInput(p)}
			for _, mode := range []string{"fused", "unfused"} {
				b.Run(fmt.Sprintf("%s/threads=%d/mode=%s", p.name, threads, mode), func(b *testing.B) {
					s := plan.NewSession(engine.SessionOptions{Threads: threads, NoFusion: mode == "unfused"})
					timeLoop(b, p.flops(), threads, func() error { _, err := s.Run(feeds); return err })
				})
			}
		}
	}
}
