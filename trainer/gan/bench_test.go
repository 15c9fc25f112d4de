package gan

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/loop"
)

// BenchmarkTrainStep times one training step (discriminator and generator updates) of
// dcgan.DefaultConfig on random 28x28 images, at the book's batch 20 and at 32 and 64, and
// reports the process CPU time per step and the counted GFLOP/s (StepFLOPs) per CPU second,
// which the machine's load does not inflate the way it does wall time:
//
//	go test ./trainer/gan -run XXX -bench TrainStep -benchtime 20x
//
// "recipe" is the embedded default generator's training recipe (scripts/train-gan.sh: wider
// layers, batch normalisation in the generator, weight averaging) at batch 32.
func BenchmarkTrainStep(b *testing.B) {
	type bench struct {
		name   string
		batch  int
		recipe bool
	}
	benches := []bench{{"batch=20", 20, false}, {"batch=32", 32, false}, {"batch=64", 64, false}, {"recipe", 32, true}}
	for _, bc := range benches {
		batch := bc.batch
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			imgs := tensor.New(tensor.Float32, 256, 1, 28, 28)
			for i := range imgs.F32() {
				imgs.F32()[i] = float32(rng.Float64())
			}
			c := Defaults()
			c.Batch, c.Steps, c.Optimizer = batch, 1<<40, Adam
			if bc.recipe {
				c.GenBatchNorm, c.EMA, c.GenBase, c.GenFilters, c.DiscFilters = true, 0.999, 128, []int{128, 64}, []int{64, 128}
			}
			c.TrainData = &datasets.Dataset{Name: "random", Images: imgs, N: 256, C: 1, H: 28, W: 28}
			c.CheckpointDir, c.Progress, c.Log = b.TempDir(), loop.ProgressOff, &bytes.Buffer{}
			tr, err := NewTrainer(c)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			if _, err := tr.Step(); err != nil { // warm-up: first-run allocations
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := loop.CPUTime()
			b.ResetTimer()
			for range b.N {
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			perStep := (loop.CPUTime() - cpu0).Seconds() / float64(b.N)
			b.ReportMetric(perStep, "cpu-s/step")
			b.ReportMetric(StepFLOPs(tr.model, batch)/perStep/1e9, "GFLOP/cpu-s")
		})
	}
}
