package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// The pools are checked bit for bit against the naive loops they replace (runtime/ops
// maxpool.go and averagepool.go, runtime/grad pool.go before the fast kernels): for each
// output, for each tap in row-major order, skipping the padding.

// poolCase is a random pooling geometry.
type poolCase struct {
	g          ConvGeometry
	padEnd     [MaxSpatial]int
	includePad bool
	planes     int
}

func (c poolCase) String() string {
	g := c.g
	return fmt.Sprintf("planes=%d in=%v k=%v out=%v s=%v d=%v pad=%v/%v incl=%v", c.planes, g.In, g.Kernel, g.Out, g.Stride, g.Dilation, g.Pad, c.padEnd, c.includePad)
}

// randPoolCase draws nd spatial dimensions of sizes up to maxIn, kernels up to 4, strides up
// to 3, dilations up to 2 (with probability 1/4), pads below the kernel's extent, and
// ceil_mode (the ONNX output size rule: a last window that starts in the end padding is
// dropped).
func randPoolCase(rng *rand.Rand, nd, maxIn int) poolCase {
	var c poolCase
	c.planes = 1 + rng.IntN(5)
	c.includePad = rng.IntN(2) == 0
	ceil := rng.IntN(2) == 0
	for i := range nd {
		for {
			in, k, s, d := 1+rng.IntN(maxIn), 1+rng.IntN(4), 1+rng.IntN(3), 1
			if rng.IntN(4) == 0 {
				d = 2
			}
			ext := (k-1)*d + 1
			pb, pe := rng.IntN(ext), rng.IntN(ext)
			span := in + pb + pe - ext
			if span < 0 {
				continue
			}
			out := span/s + 1
			if ceil && span%s != 0 {
				out++
				if (out-1)*s >= in+pb {
					out--
				}
			}
			c.g.Set(nd, i, in, k, out, s, d, pb)
			c.padEnd[MaxSpatial-nd+i] = pe
			break
		}
	}
	c.g.Channels = 1
	return c
}

// poolInput fills n values with small integers (many ties), signed zeros and, with nan,
// a few NaNs.
func poolInput(rng *rand.Rand, n int, nan bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch r := rng.IntN(20); {
		case r == 0:
			x[i] = float32(math.Copysign(0, -1))
		case r == 1 && nan:
			x[i] = float32(math.NaN())
		case r < 8:
			x[i] = float32(rng.IntN(5) - 2)
		default:
			x[i] = rng.Float32()*4 - 2
		}
	}
	return x
}

func naiveMaxPool(c *poolCase, x, y []float32) {
	g := &c.g
	inD, inH, inW := g.In[0], g.In[1], g.In[2]
	inVol := inD * inH * inW
	o := 0
	for p := range c.planes {
		src := x[p*inVol : (p+1)*inVol]
		for od := range g.Out[0] {
			d0, d1 := g.taps(0, od)
			for oh := range g.Out[1] {
				h0, h1 := g.taps(1, oh)
				for ow := range g.Out[2] {
					w0, w1 := g.taps(2, ow)
					best := float32(math.Inf(-1))
					for td := d0; td < d1; td++ {
						id := od*g.Stride[0] - g.Pad[0] + td*g.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := oh*g.Stride[1] - g.Pad[1] + th*g.Dilation[1]
							for tw := w0; tw < w1; tw++ {
								v := src[(id*inH+ih)*inW+ow*g.Stride[2]-g.Pad[2]+tw*g.Dilation[2]]
								best = max(best, v)
							}
						}
					}
					y[o] = best
					o++
				}
			}
		}
	}
}

// naiveAvgCount is the divisor of output (od, oh, ow).
func naiveAvgCount(c *poolCase, od, oh, ow int) int {
	g := &c.g
	if c.includePad {
		a := poolArgs{g: *g, padEnd: c.padEnd}
		return a.paddedTaps(0, od) * a.paddedTaps(1, oh) * a.paddedTaps(2, ow)
	}
	d0, d1 := g.taps(0, od)
	h0, h1 := g.taps(1, oh)
	w0, w1 := g.taps(2, ow)
	return (d1 - d0) * (h1 - h0) * (w1 - w0)
}

// naivePool visits, for each output in order, its taps inside the image in order: f(o, i)
// with the output index and the input index (both over all planes).
func naivePool(c *poolCase, f func(o, i int)) {
	g := &c.g
	inD, inH, inW := g.In[0], g.In[1], g.In[2]
	inVol := inD * inH * inW
	o := 0
	for p := range c.planes {
		for od := range g.Out[0] {
			d0, d1 := g.taps(0, od)
			for oh := range g.Out[1] {
				h0, h1 := g.taps(1, oh)
				for ow := range g.Out[2] {
					w0, w1 := g.taps(2, ow)
					for td := d0; td < d1; td++ {
						id := od*g.Stride[0] - g.Pad[0] + td*g.Dilation[0]
						for th := h0; th < h1; th++ {
							ih := oh*g.Stride[1] - g.Pad[1] + th*g.Dilation[1]
							for tw := w0; tw < w1; tw++ {
								f(o, p*inVol+(id*inH+ih)*inW+ow*g.Stride[2]-g.Pad[2]+tw*g.Dilation[2])
							}
						}
					}
					o++
				}
			}
		}
	}
}

// forOutputs calls f(o, od, oh, ow) for every output of every plane, in order.
func forOutputs(c *poolCase, f func(o, od, oh, ow int)) {
	o := 0
	for range c.planes {
		for od := range c.g.Out[0] {
			for oh := range c.g.Out[1] {
				for ow := range c.g.Out[2] {
					f(o, od, oh, ow)
					o++
				}
			}
		}
	}
}

func naiveAvgPool(c *poolCase, x, y []float32) {
	sums := make([]float64, len(y))
	naivePool(c, func(o, i int) { sums[o] += float64(x[i]) })
	forOutputs(c, func(o, od, oh, ow int) { y[o] = float32(sums[o] / float64(naiveAvgCount(c, od, oh, ow))) })
}

func naiveMaxPoolBackward(c *poolCase, x, dy, dx []float32) {
	at := make([]int, len(dy))
	best := make([]float32, len(dy))
	for i := range at {
		at[i] = -1
	}
	naivePool(c, func(o, i int) {
		if v := x[i]; at[o] < 0 || v > best[o] || (v != v && best[o] == best[o]) {
			best[o], at[o] = v, i
		}
	})
	// The additions in output order.
	for o, i := range at {
		if i >= 0 {
			dx[i] += dy[o]
		}
	}
}

func naiveAvgPoolBackward(c *poolCase, dy, dx []float32) {
	q := make([]float32, len(dy))
	forOutputs(c, func(o, od, oh, ow int) {
		if n := naiveAvgCount(c, od, oh, ow); n > 0 {
			q[o] = dy[o] / float32(n)
		} else {
			q[o] = float32(math.NaN()) // must not be used
		}
	})
	naivePool(c, func(o, i int) { dx[i] += q[o] })
}

// sameBits reports the first index where got and want differ in their bits (NaNs of any
// payload are equal), or -1.
func sameBits(got, want []float32) int {
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			return i
		}
	}
	return -1
}

func TestPoolsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for it := range 600 {
		nd := 1 + it%3
		maxIn := []int{40, 12, 6}[nd-1]
		c := randPoolCase(rng, nd, maxIn)
		inLen, outLen := c.planes*c.g.In[0]*c.g.In[1]*c.g.In[2], c.planes*c.g.ColCols()
		x := poolInput(rng, inLen, it%2 == 0)
		dy := poolInput(rng, outLen, false)
		dx0 := poolInput(rng, inLen, false)

		wantMax, wantAvg := make([]float32, outLen), make([]float32, outLen)
		naiveMaxPool(&c, x, wantMax)
		naiveAvgPool(&c, x, wantAvg)
		wantDMax, wantDAvg := append([]float32{}, dx0...), append([]float32{}, dx0...)
		naiveMaxPoolBackward(&c, x, dy, wantDMax)
		naiveAvgPoolBackward(&c, dy, wantDAvg)
		for _, threads := range []int{1, 2, 3} {
			got := make([]float32, outLen)
			MaxPool(threads, &c.g, c.planes, x, got)
			if i := sameBits(got, wantMax); i >= 0 {
				t.Fatalf("%v threads=%d: MaxPool[%d] = %v, want %v", c, threads, i, got[i], wantMax[i])
			}
			AveragePool(threads, &c.g, c.padEnd, c.includePad, c.planes, x, got)
			if i := sameBits(got, wantAvg); i >= 0 {
				t.Fatalf("%v threads=%d: AveragePool[%d] = %v, want %v", c, threads, i, got[i], wantAvg[i])
			}
			dx := append([]float32{}, dx0...)
			MaxPoolBackward(threads, &c.g, c.planes, x, dy, dx)
			if i := sameBits(dx, wantDMax); i >= 0 {
				t.Fatalf("%v threads=%d: MaxPoolBackward[%d] = %v, want %v", c, threads, i, dx[i], wantDMax[i])
			}
			dx = append(dx[:0], dx0...)
			AveragePoolBackward(threads, &c.g, c.padEnd, c.includePad, c.planes, dy, dx)
			if i := sameBits(dx, wantDAvg); i >= 0 {
				t.Fatalf("%v threads=%d: AveragePoolBackward[%d] = %v, want %v", c, threads, i, dx[i], wantDAvg[i])
			}
		}
	}
}

// TestPoolsParallelLarge runs geometries large enough to be split over threads
// (poolParallelMin), against the naive loops.
func TestPoolsParallelLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var cases []poolCase
	for _, k := range [][3]int{{2, 2, 0}, {3, 2, 0}, {3, 1, 1}, {3, 2, 1}} {
		var c poolCase
		c.planes, c.g.Channels = 7, 1
		for i := range 2 {
			in := 37 + 4*i
			out := (in+2*k[2]-k[0])/k[1] + 1
			c.g.Set(2, i, in, k[0], out, k[1], 1, k[2])
			c.padEnd[1+i] = k[2]
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		inLen, outLen := c.planes*c.g.In[1]*c.g.In[2], c.planes*c.g.ColCols()
		x, dy := poolInput(rng, inLen, true), poolInput(rng, outLen, false)
		want, got := make([]float32, outLen), make([]float32, outLen)
		naiveMaxPool(&c, x, want)
		MaxPool(3, &c.g, c.planes, x, got)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%v: MaxPool[%d] = %v, want %v", c, i, got[i], want[i])
		}
		wantD, gotD := make([]float32, inLen), make([]float32, inLen)
		naiveMaxPoolBackward(&c, x, dy, wantD)
		MaxPoolBackward(3, &c.g, c.planes, x, dy, gotD)
		if i := sameBits(gotD, wantD); i >= 0 {
			t.Fatalf("%v: MaxPoolBackward[%d] = %v, want %v", c, i, gotD[i], wantD[i])
		}
		clear(wantD)
		clear(gotD)
		naiveAvgPoolBackward(&c, dy, wantD)
		AveragePoolBackward(2, &c.g, c.padEnd, false, c.planes, dy, gotD)
		if i := sameBits(gotD, wantD); i >= 0 {
			t.Fatalf("%v: AveragePoolBackward[%d] = %v, want %v", c, i, gotD[i], wantD[i])
		}
	}
}

func TestPoolPanics(t *testing.T) {
	var g ConvGeometry
	g.Set(2, 0, 4, 2, 2, 2, 1, 0)
	g.Set(2, 1, 4, 2, 2, 2, 1, 0)
	for name, f := range map[string]func(){
		"short x":  func() { MaxPool(1, &g, 2, make([]float32, 31), make([]float32, 8)) },
		"short y":  func() { AveragePool(1, &g, [3]int{}, false, 2, make([]float32, 32), make([]float32, 7)) },
		"short dx": func() { MaxPoolBackward(1, &g, 1, make([]float32, 16), make([]float32, 4), make([]float32, 15)) },
		"stride 0": func() { g2 := g; g2.Stride[1] = 0; MaxPool(1, &g2, 1, make([]float32, 16), make([]float32, 4)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// poolBench are the pools of VGG19 (block 1: 2x2 s2 over 64x224x224) and InceptionV3
// (3x3 s2 max over 64x147x147; 3x3 s1 pad 1 average over 192x35x35).
var poolBench = []struct {
	name         string
	planes, in   int
	k, s, p, out int
}{
	{"vgg_block1_2x2s2", 64, 224, 2, 2, 0, 112},
	{"inception_3x3s2", 64, 147, 3, 2, 0, 73},
	{"inception_avg3x3s1p1", 192, 35, 3, 1, 1, 35},
}

// BenchmarkPool times the pools on the shapes of poolBench, forward and backward, with the
// naive loop the fast one replaced as the reference (naivemax); cpu-ns/op is the CPU time of
// the benchmark's thread with one thread, of the process with two.
// Example: go test -run '^$' -bench Pool -count 6 ./kernels | benchstat -col /name -
func BenchmarkPool(b *testing.B) {
	for _, bc := range poolBench {
		var c poolCase
		c.planes, c.g.Channels = bc.planes, 1
		for i := range 2 {
			c.g.Set(2, i, bc.in, bc.k, bc.out, bc.s, 1, bc.p)
			c.padEnd[1+i] = bc.p
		}
		rng := rand.New(rand.NewPCG(1, 1))
		x := poolInput(rng, c.planes*bc.in*bc.in, false)
		y := make([]float32, c.planes*c.g.ColCols())
		dx := make([]float32, len(x))
		for _, threads := range []int{1, 2} {
			run := func(name string, f func()) {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", bc.name, name, threads), func(b *testing.B) {
					who := syscall.RUSAGE_SELF
					if threads == 1 {
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						who = syscall.RUSAGE_THREAD
					}
					f() // warm-up: pools, workers
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuTime(b, who)
					for b.Loop() {
						f()
					}
					b.ReportMetric(float64((cpuTime(b, who)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				})
			}
			run("max", func() { MaxPool(threads, &c.g, c.planes, x, y) })
			run("avg", func() { AveragePool(threads, &c.g, c.padEnd, false, c.planes, x, y) })
			run("maxback", func() { MaxPoolBackward(threads, &c.g, c.planes, x, y, dx) })
			run("avgback", func() { AveragePoolBackward(threads, &c.g, c.padEnd, false, c.planes, y, dx) })
			if threads == 1 {
				run("naivemax", func() { naiveMaxPool(&c, x, y) })
			}
		}
	}
}
