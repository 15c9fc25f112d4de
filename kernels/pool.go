package kernels

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Pooling over planes: MaxPool and AveragePool forward and backward, float32, for the ONNX ops
// (runtime/ops) and their input gradients (runtime/grad).
//
// A pool reads planes images [D, H, W] (N*C of them, one per channel, contiguous) through the
// window of a ConvGeometry (Channels is ignored: each plane is pooled on its own). Along each
// dimension, the taps of a window position that fall in the padding are skipped, exactly as
// the naive loop "for each output, for each tap (d, h, w) in row-major order" skips them, and
// every output sees its taps in that order, so the results are bitwise those of the naive
// loop (the property tests compare them bit for bit; NaN payloads aside):
//
//   - max: Go's max over the taps: a NaN wins over numbers, +0 over -0. MaxPoolBackward
//     routes the gradient to the first tap in that order that is larger than all before it,
//     or the first NaN.
//   - average: the taps are summed in float64 from 0 in tap order and divided by the count
//     (the taps inside the image, or with includePad also those in the pads but not past the
//     end pads, which ceil_mode can add); the quotient is rounded to float32.
//
// The loops run per output row: the window rows (d, h) under it are found once, and the
// output columns whose W taps all lie inside the image (the interior, most of them) take
// unrolled loops for kernel widths 2 and 3. Threads split the planes into contiguous ranges.

// poolKind selects the pooling loop of a poolArgs.
type poolKind uint8

const (
	poolMax poolKind = iota
	poolAvg
	poolMaxBackward
	poolAvgBackward
)

// poolArgs is one pooling call, shared by its plane ranges.
type poolArgs struct {
	kind       poolKind
	g          ConvGeometry
	padEnd     [MaxSpatial]int
	includePad bool
	x, y       []float32 // forward: input and output; backward: x is X (max only), y is dY
	dx         []float32 // backward: dX, accumulated into
	wLo, wHi   int       // interior output columns: all W taps inside the image
}

// poolArgsPool keeps the arguments of pooling calls, which the parallel jobs point to.
var poolArgsPool = sync.Pool{New: func() any { return new(poolArgs) }}

// poolParallelMin is the smallest pool (output elements times kernel taps) split over
// threads: about 10 µs of work.
const poolParallelMin = 1 << 15

// MaxPool computes y[p, o] = the largest of x[p, ...] under window position o for planes
// planes (see the comment at the top of pool.go for the tap order, NaNs and signed zeros).
// x holds planes images of D*H*W (g.In) elements, y planes outputs of g.ColCols() elements.
// A window position with no tap inside the image gives -Inf. threads <= 0 means
// runtime.GOMAXPROCS(0); the result does not depend on it.
//
// It panics if a slice is too short or the geometry is invalid: those are programming
// errors, not bad input.
func MaxPool(threads int, g *ConvGeometry, planes int, x, y []float32) {
	a := poolArgsPool.Get().(*poolArgs)
	*a = poolArgs{kind: poolMax, g: *g, x: x, y: y}
	a.run(threads, planes, "MaxPool")
	*a = poolArgs{} // drop the references to the caller's slices
	poolArgsPool.Put(a)
}

// AveragePool computes y[p, o] = the mean of x[p, ...] under window position o for planes
// planes: the float64 sum of the taps inside the image divided by their count, or with
// includePad by the count of taps inside the padded image (begin pads g.Pad, end pads padEnd).
// A window position with no tap to count gives NaN. Shapes and threads as for MaxPool.
func AveragePool(threads int, g *ConvGeometry, padEnd [MaxSpatial]int, includePad bool, planes int, x, y []float32) {
	a := poolArgsPool.Get().(*poolArgs)
	*a = poolArgs{kind: poolAvg, g: *g, padEnd: padEnd, includePad: includePad, x: x, y: y}
	a.run(threads, planes, "AveragePool")
	*a = poolArgs{} // drop the references to the caller's slices
	poolArgsPool.Put(a)
}

// MaxPoolBackward adds each dy[p, o] into dx at the position of the maximum that MaxPool
// took for output o (the same rule; a window with no tap inside the image adds nothing).
// x and dx hold planes images, dy planes outputs. dx is accumulated into.
func MaxPoolBackward(threads int, g *ConvGeometry, planes int, x, dy, dx []float32) {
	a := poolArgsPool.Get().(*poolArgs)
	*a = poolArgs{kind: poolMaxBackward, g: *g, x: x, y: dy, dx: dx}
	a.run(threads, planes, "MaxPoolBackward")
	*a = poolArgs{} // drop the references to the caller's slices
	poolArgsPool.Put(a)
}

// AveragePoolBackward adds dy[p, o] / count into every tap of output o that lies inside the
// image, count being AveragePool's divisor (outputs with a count of 0 add nothing). dx is
// accumulated into; the additions into each element come in output order.
func AveragePoolBackward(threads int, g *ConvGeometry, padEnd [MaxSpatial]int, includePad bool, planes int, dy, dx []float32) {
	a := poolArgsPool.Get().(*poolArgs)
	*a = poolArgs{kind: poolAvgBackward, g: *g, padEnd: padEnd, includePad: includePad, y: dy, dx: dx}
	a.run(threads, planes, "AveragePoolBackward")
	*a = poolArgs{} // drop the references to the caller's slices
	poolArgsPool.Put(a)
}

// run checks the arguments and pools the planes on up to threads goroutines.
func (a *poolArgs) run(threads, planes int, fn string) {
	g := &a.g
	g.checkGeometry(fn)
	inVol, outVol := g.In[0]*g.In[1]*g.In[2], g.ColCols()
	if planes < 0 {
		panic(fmt.Sprintf("kernels: %s: %d planes", fn, planes))
	}
	var inLen, outLen int
	switch a.kind {
	case poolMax, poolAvg:
		inLen, outLen = len(a.x), len(a.y)
	case poolMaxBackward:
		inLen, outLen = min(len(a.x), len(a.dx)), len(a.y)
	case poolAvgBackward:
		inLen, outLen = len(a.dx), len(a.y)
	}
	if inLen < planes*inVol || outLen < planes*outVol {
		panic(fmt.Sprintf("kernels: %s: %d planes of %d inputs and %d outputs, got %d and %d elements", fn, planes, inVol, outVol, inLen, outLen))
	}
	if planes == 0 || outVol == 0 {
		return
	}
	// The interior along W: the positions whose taps all read the image; contiguous, since
	// the window start grows with the position.
	a.wLo, a.wHi = g.Out[2], g.Out[2]
	for ow := range g.Out[2] {
		if lo, hi := g.taps(2, ow); lo == 0 && hi == g.Kernel[2] {
			if a.wLo == g.Out[2] {
				a.wLo = ow
			}
			a.wHi = ow + 1
		}
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, planes)
	work := float64(planes) * float64(outVol) * float64(g.Kernel[0]*g.Kernel[1]*g.Kernel[2])
	if threads <= 1 || work < poolParallelMin {
		a.planes(0, planes)
		return
	}
	ensureWorkers(threads - 1)
	batch := gemmBatches.Get().(*gemmBatch)
	if cap(batch.jobs) < threads {
		batch.jobs = make([]gemmJob, threads)
	}
	jobs := batch.jobs[:threads]
	for t := range jobs {
		jobs[t] = gemmJob{pool: a, j0: t * planes / threads, j1: (t + 1) * planes / threads, done: &batch.done}
	}
	batch.done.Add(threads - 1)
	for t := 1; t < threads; t++ {
		gemmJobs <- &jobs[t]
	}
	jobs[0].run()
	batch.done.Wait()
	clear(jobs)
	gemmBatches.Put(batch)
}

// taps returns the kernel taps [lo, hi) of window position o along dimension j that read the
// image (not the padding).
func (g *ConvGeometry) taps(j, o int) (lo, hi int) {
	start := o*g.Stride[j] - g.Pad[j]
	d := g.Dilation[j]
	if start < 0 {
		lo = (-start + d - 1) / d // ceil(-start/d)
	}
	if last := g.In[j] - 1 - start; last >= 0 {
		hi = min(g.Kernel[j], last/d+1)
	}
	lo = min(lo, g.Kernel[j])
	return lo, max(hi, lo)
}

// paddedTaps returns how many taps of window position o along dimension j fall inside the
// padded image [-Pad, In + padEnd).
func (a *poolArgs) paddedTaps(j, o int) int {
	g := &a.g
	start := o*g.Stride[j] - g.Pad[j]
	last := g.In[j] + a.padEnd[j] - 1 - start
	if last < 0 {
		return 0
	}
	return min(g.Kernel[j], last/g.Dilation[j]+1)
}

// avgScratch holds an average pool's float64 row sums; pooled.
type avgScratch struct{ sum []float64 }

var avgScratches = sync.Pool{New: func() any { return new(avgScratch) }}

// planes pools planes [p0, p1).
func (a *poolArgs) planes(p0, p1 int) {
	g := &a.g
	inD, inH, inW := g.In[0], g.In[1], g.In[2]
	inVol, outVol := inD*inH*inW, g.ColCols()
	oW := g.Out[2]
	var sc *avgScratch
	if a.kind == poolAvg {
		sc = avgScratches.Get().(*avgScratch)
		if cap(sc.sum) < oW {
			sc.sum = make([]float64, oW)
		}
		defer avgScratches.Put(sc)
	}
	for p := p0; p < p1; p++ {
		var src, dx []float32
		if a.x != nil {
			src = a.x[p*inVol : (p+1)*inVol]
		}
		if a.dx != nil {
			dx = a.dx[p*inVol : (p+1)*inVol]
		}
		out := a.y[p*outVol : (p+1)*outVol]
		o := 0
		for od := range g.Out[0] {
			d0, d1 := g.taps(0, od)
			startD := od*g.Stride[0] - g.Pad[0]
			for oh := range g.Out[1] {
				h0, h1 := g.taps(1, oh)
				startH := oh*g.Stride[1] - g.Pad[1]
				r := rowWindow{d0: d0, d1: d1, h0: h0, h1: h1, startD: startD, startH: startH}
				row := out[o : o+oW]
				switch a.kind {
				case poolMax:
					a.maxRow(&r, src, row)
				case poolAvg:
					a.avgRow(&r, od, oh, src, row, sc.sum[:oW])
				case poolMaxBackward:
					a.maxBackRow(&r, src, row, dx)
				case poolAvgBackward:
					a.avgBackRow(&r, od, oh, row, dx)
				}
				o += oW
			}
		}
	}
}

// rowWindow is the part of one output row's window that reads the image: taps [d0, d1) and
// [h0, h1), starting at image row (startD, startH).
type rowWindow struct {
	d0, d1, h0, h1 int
	startD, startH int
}

// forRows calls f with the offset in the plane of each image row under the window, in tap
// order.
func (a *poolArgs) forRows(r *rowWindow, f func(off int)) {
	g := &a.g
	for td := r.d0; td < r.d1; td++ {
		id := r.startD + td*g.Dilation[0]
		for th := r.h0; th < r.h1; th++ {
			ih := r.startH + th*g.Dilation[1]
			f((id*g.In[1] + ih) * g.In[2])
		}
	}
}

// better reports whether v replaces the running maximum best when the position of the
// maximum matters (MaxPoolBackward): v is larger, or a NaN where best is not.
func better(v, best float32) bool { return v > best || (v != v && best == best) }

// maxRow computes one output row of a max pool.
func (a *poolArgs) maxRow(r *rowWindow, src, y []float32) {
	g := &a.g
	inW, oW := g.In[2], g.Out[2]
	sW, dW, pW, kW := g.Stride[2], g.Dilation[2], g.Pad[2], g.Kernel[2]
	for i := range y {
		y[i] = float32NegInf
	}
	a.forRows(r, func(off int) {
		line := src[off : off+inW]
		// The border columns, whose window is cut by the padding.
		for ow := 0; ow < oW; ow++ {
			if ow == a.wLo && a.wLo < a.wHi {
				ow = a.wHi - 1
				continue
			}
			w0, w1 := g.taps(2, ow)
			start := ow*sW - pW
			m := y[ow]
			for tw := w0; tw < w1; tw++ {
				m = max(m, line[start+tw*dW])
			}
			y[ow] = m
		}
		// The interior.
		if a.wLo < a.wHi {
			maxInterior(y[a.wLo:a.wHi], line, a.wLo*sW-pW, sW, dW, kW)
		}
	})
}

var float32NegInf = float32(math.Inf(-1))

// maxInterior folds into y the taps of len(y) window positions whose taps all read line:
// position i reads line[start + i*s + t*d] for t < k.
func maxInterior(y, line []float32, start, s, d, k int) {
	if d == 1 && k == 2 && s == 2 {
		l := line[start : start+2*len(y)]
		for i := range y {
			y[i] = max(y[i], l[2*i], l[2*i+1])
		}
		return
	}
	if d == 1 && k == 3 {
		for i := range y {
			p := start + i*s
			l := line[p : p+3]
			y[i] = max(y[i], l[0], l[1], l[2])
		}
		return
	}
	for i := range y {
		p := start + i*s
		m := y[i]
		for t := range k {
			m = max(m, line[p+t*d])
		}
		y[i] = m
	}
}

// avgCount returns the divisor of output (od, oh, ow) (taps w0..w1 along W).
func (a *poolArgs) avgCount(r *rowWindow, od, oh, ow, w0, w1 int) int {
	if a.includePad {
		return a.paddedTaps(0, od) * a.paddedTaps(1, oh) * a.paddedTaps(2, ow)
	}
	return (r.d1 - r.d0) * (r.h1 - r.h0) * (w1 - w0)
}

// avgRow computes one output row of an average pool; sum is scratch for the row.
func (a *poolArgs) avgRow(r *rowWindow, od, oh int, src, y []float32, sum []float64) {
	g := &a.g
	inW, oW := g.In[2], g.Out[2]
	sW, dW, pW, kW := g.Stride[2], g.Dilation[2], g.Pad[2], g.Kernel[2]
	clear(sum)
	a.forRows(r, func(off int) {
		line := src[off : off+inW]
		for ow := 0; ow < oW; ow++ {
			if ow == a.wLo && a.wLo < a.wHi {
				ow = a.wHi - 1
				continue
			}
			w0, w1 := g.taps(2, ow)
			start := ow*sW - pW
			s := sum[ow]
			for tw := w0; tw < w1; tw++ {
				s += float64(line[start+tw*dW])
			}
			sum[ow] = s
		}
		if a.wLo < a.wHi {
			sumInterior(sum[a.wLo:a.wHi], line, a.wLo*sW-pW, sW, dW, kW)
		}
	})
	for ow := range oW {
		w0, w1 := 0, kW
		if ow < a.wLo || ow >= a.wHi {
			w0, w1 = g.taps(2, ow)
		}
		y[ow] = float32(sum[ow] / float64(a.avgCount(r, od, oh, ow, w0, w1)))
	}
}

// sumInterior adds the taps of len(sum) window positions, in tap order, as maxInterior.
func sumInterior(sum []float64, line []float32, start, s, d, k int) {
	if d == 1 && k == 2 && s == 2 {
		l := line[start : start+2*len(sum)]
		for i := range sum {
			sum[i] = sum[i] + float64(l[2*i]) + float64(l[2*i+1])
		}
		return
	}
	if d == 1 && k == 3 {
		for i := range sum {
			p := start + i*s
			l := line[p : p+3]
			sum[i] = sum[i] + float64(l[0]) + float64(l[1]) + float64(l[2])
		}
		return
	}
	for i := range sum {
		p := start + i*s
		v := sum[i]
		for t := range k {
			v += float64(line[p+t*d])
		}
		sum[i] = v
	}
}

// maxBackRow adds one output row of dY into dX at the arg-max positions: the first tap
// (in tap order) equal to the window's maximum, or its first NaN. The maximum is found first
// (Go's max, without branches), then the taps are scanned backwards keeping the last match,
// which compiles to conditional moves; a NaN maximum (rare) takes the forward scan of
// better.
func (a *poolArgs) maxBackRow(r *rowWindow, src, dy, dx []float32) {
	g := &a.g
	inH, inW, oW := g.In[1], g.In[2], g.Out[2]
	sW, dW, pW, kW := g.Stride[2], g.Dilation[2], g.Pad[2], g.Kernel[2]
	dD, dH := g.Dilation[0], g.Dilation[1]
	if r.d0 == r.d1 || r.h0 == r.h1 {
		return
	}
	fast2x2 := kW == 2 && sW == 2 && dW == 1 && r.d1-r.d0 == 1 && r.h1-r.h0 == 2 && dH == 1
	for ow := 0; ow < oW; ow++ {
		if fast2x2 && ow == a.wLo && a.wLo < a.wHi {
			// The 2x2 stride-2 interior: two image rows, two taps each.
			off := ((r.startD+r.d0*dD)*inH+r.startH+r.h0)*inW + a.wLo*2 - pW
			n := a.wHi - a.wLo
			maxBack2x2(src[off:off+inW+2*n], dx[off:off+inW+2*n], inW, dy[a.wLo:a.wHi])
			ow = a.wHi - 1
			continue
		}
		w0, w1 := 0, kW
		if ow < a.wLo || ow >= a.wHi {
			w0, w1 = g.taps(2, ow)
			if w0 == w1 {
				continue
			}
		}
		start := ow*sW - pW
		m := float32NegInf
		for td := r.d0; td < r.d1; td++ {
			for th := r.h0; th < r.h1; th++ {
				base := ((r.startD+td*dD)*inH+r.startH+th*dH)*inW + start
				for tw := w0; tw < w1; tw++ {
					m = max(m, src[base+tw*dW])
				}
			}
		}
		at := -1
		if m == m {
			for td := r.d1 - 1; td >= r.d0; td-- {
				for th := r.h1 - 1; th >= r.h0; th-- {
					base := ((r.startD+td*dD)*inH+r.startH+th*dH)*inW + start
					for tw := w1 - 1; tw >= w0; tw-- {
						if i := base + tw*dW; src[i] >= m {
							at = i
						}
					}
				}
			}
		} else {
			var best float32
			for td := r.d0; td < r.d1; td++ {
				for th := r.h0; th < r.h1; th++ {
					base := ((r.startD+td*dD)*inH+r.startH+th*dH)*inW + start
					for tw := w0; tw < w1; tw++ {
						if i := base + tw*dW; at < 0 || better(src[i], best) {
							best, at = src[i], i
						}
					}
				}
			}
		}
		dx[at] += dy[ow]
	}
}

// maxBack2x2 is maxBackRow for len(dy) 2x2 windows at stride 2: window i reads x[2i],
// x[2i+1], x[w+2i] and x[w+2i+1] and adds dy[i] into dx at the same offset.
func maxBack2x2(x, dx []float32, w int, dy []float32) {
	n := len(dy)
	r0, r1 := x[:2*n], x[w:w+2*n]
	_ = dx[w+2*n-1]
	for i, g := range dy {
		a0, a1, b0, b1 := r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1]
		m := max(a0, a1, b0, b1)
		at := w + 1 // the first tap equal to m, without branches: from last to first
		if m != m { // a NaN: the first one
			switch {
			case a0 != a0:
				at = 0
			case a1 != a1:
				at = 1
			case b0 != b0:
				at = w
			}
		} else {
			// v == m on the bits, -0 made +0 first: integer compares, which Go turns into
			// conditional moves (it does not for float compares).
			km := zeroKey(m)
			if zeroKey(b0) == km {
				at = w
			}
			if zeroKey(a1) == km {
				at = 1
			}
			if zeroKey(a0) == km {
				at = 0
			}
		}
		dx[2*i+at] += g
	}
}

// zeroKey returns the bits of a number, with -0 given the bits of +0, so that two numbers
// (not NaNs) are equal exactly when their keys are.
func zeroKey(f float32) uint32 {
	b := math.Float32bits(f)
	if b == 1<<31 {
		b = 0
	}
	return b
}

// avgBackRow spreads one output row of dY over dX.
func (a *poolArgs) avgBackRow(r *rowWindow, od, oh int, dy, dx []float32) {
	g := &a.g
	inW, oW := g.In[2], g.Out[2]
	sW, dW, pW, kW := g.Stride[2], g.Dilation[2], g.Pad[2], g.Kernel[2]
	// The quotients first (float32, as the naive loop computes them), then the rows of taps
	// in tap order: for a fixed output row, each dX element under it is reached from one tap
	// row only, in output order, as in the naive loop.
	for td := r.d0; td < r.d1; td++ {
		id := r.startD + td*g.Dilation[0]
		for th := r.h0; th < r.h1; th++ {
			ih := r.startH + th*g.Dilation[1]
			line := dx[(id*g.In[1]+ih)*inW : (id*g.In[1]+ih+1)*inW]
			for ow := range oW {
				w0, w1 := 0, kW
				if ow < a.wLo || ow >= a.wHi {
					w0, w1 = g.taps(2, ow)
				}
				count := a.avgCount(r, od, oh, ow, w0, w1)
				if count == 0 {
					continue
				}
				q := dy[ow] / float32(count)
				start := ow*sW - pW
				if dW == 1 {
					l := line[start+w0 : start+w1]
					for t := range l {
						l[t] += q
					}
					continue
				}
				for tw := w0; tw < w1; tw++ {
					line[start+tw*dW] += q
				}
			}
		}
	}
}
