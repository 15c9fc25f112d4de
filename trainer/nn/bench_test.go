package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gendl/gendl/models/charlstm"
)

// BenchmarkTrainStep runs one forward+backward pass of the book's configuration: 91 runes
// (the default corpus), LSTM(128), maxlen 60, batch 128.
func BenchmarkTrainStep(b *testing.B) {
	for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
		b.Run(target, func(b *testing.B) {
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
			net, err := New(cfg, ps, Options{Batch: batch, Gradients: true})
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			x, y := randBatch(cfg, batch, 0, rng)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := net.Run(x, y); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(StepFLOPs(cfg, batch)/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
	}
}
