package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/loop"
)

// BenchmarkTrainStep runs one forward+backward pass of the book's configuration: 91 runes
// (the default corpus), LSTM(128), maxlen 60, batch 128; graph=fused is what the trainer
// runs, graph=reference the graph of Gorgonia's own ops (both with gendl's BLAS). Besides
// wall time it reports the process's CPU time per step (user+system, all threads:
// cpu-ms/op), which a machine shared with other work disturbs less, and GFLOP/s of the
// matrix products (StepFLOPs) per wall second.
//
//	go test ./trainer/nn -run '^$' -bench TrainStep -benchtime 20x -count 6
func BenchmarkTrainStep(b *testing.B) {
	defer restoreBLAS()()
	UseGendlBLAS()
	for _, graph := range []string{"fused", "reference"} {
		for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
			b.Run("graph="+graph+"/target="+target, func(b *testing.B) {
				cfg := charlstm.Tiny()
				cfg.Vocabulary = ""
				for r := rune(32); len([]rune(cfg.Vocabulary)) < 91; r++ {
					cfg.Vocabulary += string(r)
				}
				cfg.Hidden, cfg.MaxLen, cfg.Target = 128, 60, target
				rng := rand.New(rand.NewPCG(1, 2))
				p, err := charlstm.NewParams(cfg, rng)
				if err != nil {
					b.Fatal(err)
				}
				var ps []*tensor.Dense
				for i, s := range ParamShapes(cfg) {
					ps = append(ps, tensor.New(tensor.WithShape(s.Shape...), tensor.WithBacking(ParamSlices(p)[i])))
				}
				const batch = 128
				net, err := New(cfg, ps, Options{Batch: batch, Gradients: true, Reference: graph == "reference"})
				if err != nil {
					b.Fatal(err)
				}
				defer net.Close()
				x, y := randBatch(cfg, batch, 0, rng)
				if _, err := net.Run(x, y); err != nil { // warm-up: buffers, worker threads
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := loop.CPUTime()
				for range b.N {
					if _, err := net.Run(x, y); err != nil {
						b.Fatal(err)
					}
				}
				cpu := loop.CPUTime() - cpu0
				b.ReportMetric(StepFLOPs(cfg, batch)/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
