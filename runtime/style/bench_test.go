package style

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gendl/gendl/imaging"
)

// The measurement (also scripts/bench-style.sh): one L-BFGS round of 20 evaluations
// at 400 px height with a full-size VGG19 in the zoo's layout, Grace Hopper as content and
// The Starry Night as style:
//
//	go run ./models/vgg19/internal/genzoo -out /tmp/vgg19-7.onnx
//	GENDL_STYLE_VGG=/tmp/vgg19-7.onnx go test ./runtime/style -run XXX -bench Round -benchtime 1x
//
// It reports the wall time per round, the process's CPU time per round and the load average.
// Without GENDL_STYLE_VGG it is skipped. GENDL_STYLE_IMAGES overrides the directory of the
// images (default ../shared/data/images beside the repository).
func BenchmarkRound(b *testing.B) {
	path := os.Getenv("GENDL_STYLE_VGG")
	if path == "" {
		b.Skip("set GENDL_STYLE_VGG to a VGG19 ONNX file (go run ./models/vgg19/internal/genzoo -out /tmp/vgg19-7.onnx)")
	}
	dir := os.Getenv("GENDL_STYLE_IMAGES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data", "images")
	}
	content, err := imaging.DecodeFile(filepath.Join(dir, "grace_hopper.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	styleImg, err := imaging.DecodeFile(filepath.Join(dir, "starry_night.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	ct, st, err := PrepareImages(content, styleImg, 400)
	if err != nil {
		b.Fatal(err)
	}
	net, err := OpenNetwork(path, NetworkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("%dx%d/threads=%d", ct.Shape[3], ct.Shape[2], threads), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Threads = threads
			tr, err := NewTransfer(net, ct, st, cfg)
			if err != nil {
				b.Fatal(err)
			}
			x, _ := InitImage(InitContent, ct, 1)
			runtime.GC()
			b.ResetTimer()
			cpu0, t0 := cpuTime(), time.Now()
			for range b.N {
				if _, err := tr.Run(x, Options{Rounds: 1, Iterations: 20}); err != nil {
					b.Fatal(err)
				}
			}
			wall, cpu := time.Since(t0), cpuTime()-cpu0
			b.ReportMetric(wall.Seconds()/float64(b.N), "s-wall/round")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "s-cpu/round")
			b.ReportMetric(float64(tr.Evaluations())/float64(b.N), "evals/round")
			b.ReportMetric(loadAverage(), "load-avg")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// BenchmarkEvaluate times one loss evaluation (a forward and a backward pass) on the
// GENDL_STYLE_VGG network at 400 px height, one thread.
func BenchmarkEvaluate(b *testing.B) {
	path := os.Getenv("GENDL_STYLE_VGG")
	if path == "" {
		b.Skip("set GENDL_STYLE_VGG to a VGG19 ONNX file")
	}
	net, err := OpenNetwork(path, NetworkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ct := randomImage(400, 341, 1)
	st := randomImage(400, 341, 2)
	tr, err := NewTransfer(net, ct, st, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	x, dx := append([]float32(nil), ct.F32()...), make([]float32, ct.Len())
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Evaluate(x, dx); err != nil {
			b.Fatal(err)
		}
	}
}
