package gan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/loop"
)

// BenchmarkTrainStep times one training step (discriminator and generator updates) of
// dcgan.DefaultConfig on random 28x28 images, at the book's batch 20 and at 32 and 64, and
// reports the process CPU time per step and the counted GFLOP/s (StepFLOPs) per CPU second,
// which the machine's load does not inflate the way it does wall time:
//
//	go test ./trainer/gan -run XXX -bench TrainStep -benchtime 20x
func BenchmarkTrainStep(b *testing.B) {
	for _, batch := range []int{20, 32, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			imgs := tensor.New(tensor.Float32, 256, 1, 28, 28)
			for i := range imgs.F32() {
				imgs.F32()[i] = float32(rng.Float64())
			}
			c := Defaults()
			c.Batch, c.Steps, c.Optimizer = batch, 1<<40, Adam
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
			b.ReportMetric(StepFLOPs(dcgan.DefaultConfig(), batch)/perStep/1e9, "GFLOP/cpu-s")
		})
	}
}
