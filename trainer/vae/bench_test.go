package vae

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/trainer/loop"
	"github.com/gendl/gendl/trainer/nn"
)

// BenchmarkTrainStep times one training step (forward, backward; no optimizer update) of
// the default VAE at batch 128 and reports GFLOP/s over wall time and over the process's CPU
// time (StepFLOPs), the latter being the steadier figure on a shared machine:
//
//	go test ./trainer/vae -run XXX -bench TrainStep -benchtime 20x
func BenchmarkTrainStep(b *testing.B) {
	nn.UseGendlBLAS()
	c := vae.DefaultConfig()
	const B = 128
	p, err := InitParams(c, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	net, err := NewNet(c, DenseParams(c, p), Options{Batch: B, Gradients: true})
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	x := randomImages(c, B, rng)
	eps := make([]float32, B*c.LatentDim)
	normals(eps, rng)
	if _, err := net.Run(x, eps); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, t0 := loop.CPUTime(), time.Now()
	for range b.N {
		if _, err := net.Run(x, eps); err != nil {
			b.Fatal(err)
		}
	}
	wall, cpu := time.Since(t0), loop.CPUTime()-cpu0
	flops := StepFLOPs(c, B) * float64(b.N)
	b.ReportMetric(flops/wall.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/s-cpu")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
