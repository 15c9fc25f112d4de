package grad

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// vgg19Convs and vgg19Chans are VGG19's feature extractor: convolutions per block and their
// output channels.
var (
	vgg19Convs = []int{2, 2, 4, 4, 4}
	vgg19Chans = []int{64, 128, 256, 512, 512}
)

// vgg19Plan is VGG19's first blocks (Conv 3×3 pad 1 + Relu, MaxPool 2×2 after each block;
// Keras layer names, random He weights) on an input [1, 3, h, w], and its forward FLOPs
// (2 per multiply-add of the convolutions).
func vgg19Plan(b *testing.B, blocks, h, w int) (*engine.Plan, float64) {
	rng := rand.New(rand.NewPCG(81, 82))
	bld := onnx.NewBuilder("vgg19", 9)
	bld.Input("x", tensor.Float32, 1, 3, int64(h), int64(w))
	in, c := "x", 3
	flops := 0.0
	for blk := range blocks {
		for l := 1; l <= vgg19Convs[blk]; l++ {
			name := caseName("block%d_conv%d", blk+1, l)
			m := vgg19Chans[blk]
			bld.Initializer(name+"_w", he(rng, m, c, 3))
			bld.Initializer(name+"_b", randUniform(rng, -0.1, 0.1, m))
			bld.NamedNode(name, "Conv", []string{in, name + "_w", name + "_b"}, []string{name}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))
			bld.NamedNode(name+"_relu", "Relu", []string{name}, []string{name + "_relu"})
			flops += 2 * float64(m*c*9*h*w)
			in, c = name+"_relu", m
		}
		pool := caseName("block%d_pool", blk+1)
		bld.NamedNode(pool, "MaxPool", []string{in}, []string{pool}, onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2))
		in, h, w = pool, h/2, w/2
	}
	bld.OutputAnyShape(in, tensor.Float32)
	m, err := bld.Model()
	if err != nil {
		b.Fatal(err)
	}
	p, err := engine.New(m, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p, flops
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set (VmHWM) in MiB, or -1.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return float64(kb) / 1024
			}
		}
	}
	return -1
}

// benchVGG times Forward, Backward or both (what) of VGG19's first blocks with the gradient
// of the last block's last Relu (the kind of layer style transfer and DeepDream use). It
// reports CPU time per op beside the wall time (the machine is shared), the GFLOP/s of the
// convolutions counted over forward and backward (the input gradient of a convolution costs
// what its forward does), and the peak RSS.
func benchVGG(b *testing.B, blocks, h, w, threads int, what string) {
	p, flops := vgg19Plan(b, blocks, h, w)
	of := caseName("block%d_conv%d_relu", blocks, vgg19Convs[blocks-1])
	g, err := New(p, []string{of}, []string{"x"})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(83, 84))
	feeds := map[string]*tensor.Tensor{"x": randn(rng, 1, 3, h, w)}
	s := g.NewSession(engine.SessionOptions{Threads: threads})
	vals, err := s.Forward(feeds)
	if err != nil {
		b.Fatal(err)
	}
	seeds := map[string]*tensor.Tensor{of: vals[of].Clone()} // d(sum y²/2)/dy = y
	if _, err := s.Backward(seeds); err != nil {
		b.Fatal(err)
	}
	work := flops
	if what == "both" {
		work = 2 * flops
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if what != "backward" {
			if _, err := s.Forward(feeds); err != nil {
				b.Fatal(err)
			}
		}
		if what != "forward" {
			if _, err := s.Backward(seeds); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(work*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(peakRSS(), "peak-MiB")
	b.ReportMetric(float64(s.GradBytes())/(1<<20), "grad-MiB")
}

// VGG19 blocks 1-3 at 224×224: forward, backward, and both, on 1 and 2 threads.
func BenchmarkVGG19Blocks3(b *testing.B) {
	for _, threads := range []int{1, 2} {
		for _, what := range []string{"forward", "backward", "both"} {
			b.Run(caseName("%s/threads=%d", what, threads), func(b *testing.B) { benchVGG(b, 3, 224, 224, threads, what) })
		}
	}
}

// The whole VGG19 feature extractor at style transfer's size (400×533): time and peak memory
// of a forward+backward pass. Slow: run it alone,
//
//	go test ./runtime/grad -run XXX -bench VGG19Full -benchtime 2x
func BenchmarkVGG19Full(b *testing.B) {
	for _, threads := range []int{2} {
		b.Run(caseName("400x533/threads=%d", threads), func(b *testing.B) { benchVGG(b, 5, 400, 533, threads, "both") })
	}
}
