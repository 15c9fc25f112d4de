package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colParallel checks that Im2colParallel (split whatever the size) equals the
// definition for 1 to 5 threads on random geometries of 1 to 9 channels, and on one that
// passes the size threshold.
func TestIm2colParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	check := func(name string, g *ConvGeometry, run func(img, col []float32)) {
		t.Helper()
		img := randFloats(rng, g.ImageLen())
		want := im2colRef(g, img)
		got := make([]float32, len(want)+3)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		run(img, got[:len(want)])
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s, geometry %+v: col[%d] = %v, want %v", name, *g, i, got[i], want[i])
			}
		}
		for i := len(want); i < len(got); i++ {
			if !math.IsNaN(float64(got[i])) {
				t.Fatalf("%s: col[%d] past the matrix written", name, i)
			}
		}
	}
	for trial := range 300 {
		g := randomGeometry(rng, 1+trial%3)
		g.Channels = 1 + rng.IntN(9)
		threads := 1 + trial%5
		check(fmt.Sprintf("trial %d, %d threads", trial, threads), &g, func(img, col []float32) {
			im2colParallel(threads, 0, &g, img, col)
		})
	}
	var g ConvGeometry
	g.Channels = 5
	g.Set(2, 0, 40, 3, 40, 1, 1, 1)
	g.Set(2, 1, 40, 3, 40, 1, 1, 1)
	for _, threads := range []int{0, 1, 2, 3, 8} {
		check(fmt.Sprintf("Im2colParallel, %d threads", threads), &g, func(img, col []float32) {
			Im2colParallel(threads, &g, img, col)
		})
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("short col did not panic")
			}
		}()
		Im2colParallel(2, &g, make([]float32, g.ImageLen()), make([]float32, 10))
	}()
}

func TestIm2colParallelNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	var g ConvGeometry
	g.Channels = 16
	g.Set(2, 0, 56, 3, 56, 1, 1, 1)
	g.Set(2, 1, 56, 3, 56, 1, 1, 1)
	img := make([]float32, g.ImageLen())
	col := make([]float32, g.ColRows()*g.ColCols())
	Im2colParallel(2, &g, img, col)
	if a := testing.AllocsPerRun(20, func() { Im2colParallel(2, &g, img, col) }); a > 0 {
		t.Errorf("%v allocations per call, want 0", a)
	}
}

func BenchmarkIm2colParallel(b *testing.B) {
	// A VGG block-2 layer: 64 channels, 112x112, 3x3 kernel, pad 1.
	var g ConvGeometry
	g.Channels = 64
	g.Set(2, 0, 112, 3, 112, 1, 1, 1)
	g.Set(2, 1, 112, 3, 112, 1, 1, 1)
	rng := rand.New(rand.NewPCG(7, 8))
	img := randFloats(rng, g.ImageLen())
	col := make([]float32, g.ColRows()*g.ColCols())
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				Im2colParallel(threads, &g, img, col)
			}
		})
	}
}
