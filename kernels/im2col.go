package kernels

import (
	"fmt"
	"runtime"
	"sync"
)

// MaxSpatial is the number of spatial dimensions a ConvGeometry describes. Convolutions over
// fewer dimensions use the trailing entries and give the leading ones size 1 (see Set).
const MaxSpatial = 3

// ConvGeometry describes how a convolution window slides over one image of Channels channels
// and up to three spatial dimensions, ordered (D, H, W) like the ONNX layout [C, D, H, W].
//
// Along spatial dimension i, window position o (0 <= o < Out[i]) reads the image at
// o*Stride[i] - Pad[i] + t*Dilation[i] for taps t in [0, Kernel[i]); positions outside
// [0, In[i]) are padding and read as zero. Pad may be negative (the window starts inside the
// image), which ConvTranspose's output_shape can require.
//
// Unused leading dimensions have In, Kernel, Out, Stride and Dilation 1 and Pad 0; the zero
// value is therefore not a valid geometry for fewer than three dimensions: fill it with Set.
type ConvGeometry struct {
	Channels int             // C: channels of the image
	In       [MaxSpatial]int // spatial sizes of the image
	Kernel   [MaxSpatial]int // window taps per dimension
	Out      [MaxSpatial]int // window positions per dimension
	Stride   [MaxSpatial]int // step between window positions (>= 1)
	Dilation [MaxSpatial]int // step between taps (>= 1)
	Pad      [MaxSpatial]int // padding before the first image element
}

// Set fills dimension i of the geometry for an nd-dimensional convolution (1 <= nd <=
// MaxSpatial, 0 <= i < nd), and makes the MaxSpatial-nd leading dimensions trivial.
func (g *ConvGeometry) Set(nd, i, in, kernel, out, stride, dilation, pad int) {
	off := MaxSpatial - nd
	for j := range off {
		g.In[j], g.Kernel[j], g.Out[j], g.Stride[j], g.Dilation[j], g.Pad[j] = 1, 1, 1, 1, 1, 0
	}
	j := off + i
	g.In[j], g.Kernel[j], g.Out[j], g.Stride[j], g.Dilation[j], g.Pad[j] = in, kernel, out, stride, dilation, pad
}

// ImageLen is the number of elements of one image, C*D*H*W.
func (g *ConvGeometry) ImageLen() int { return g.Channels * g.In[0] * g.In[1] * g.In[2] }

// ColRows is the number of rows of the column matrix, C*KD*KH*KW.
func (g *ConvGeometry) ColRows() int { return g.Channels * g.Kernel[0] * g.Kernel[1] * g.Kernel[2] }

// ColCols is the number of columns of the column matrix (window positions), OD*OH*OW.
func (g *ConvGeometry) ColCols() int { return g.Out[0] * g.Out[1] * g.Out[2] }

// Im2col copies the receptive fields of img into the columns of col, so that a convolution
// becomes one matrix product: for filters W stored as [M, C*KD*KH*KW], W×col is the output
// [M, OD*OH*OW].
//
// img is one image [C, D, H, W], row-major, of ImageLen elements. col is the row-major matrix
// [ColRows, ColCols]; row ((c*KD + kd)*KH + kh)*KW + kw, column (od*OH + oh)*OW + ow holds the
// image value under that tap at that window position, or 0 in the padding. Every element of
// col is written.
//
// It panics if a slice is too short or the geometry has a non-positive stride or dilation:
// those are programming errors, not bad input.
func Im2col(g *ConvGeometry, img, col []float32) {
	g.check("Im2col", len(img), len(col))
	im2col(g, img, col, false)
}

// im2colParallelMin is the smallest column matrix (elements) Im2colParallel splits: below
// it, about 10 µs of copying, waking a worker costs more than it saves.
const im2colParallelMin = 1 << 15

// Im2colParallel is Im2col (same arguments, result and panics) computed by up to threads
// goroutines; threads <= 0 means runtime.GOMAXPROCS(0). The channels are cut into threads
// contiguous ranges: channel c fills rows [c*KD*KH*KW, (c+1)*KD*KH*KW) of col from its own
// plane of img, so the ranges are independent. The ranges run on a pool of long-lived
// worker goroutines and the calling goroutine, so steady-state calls allocate nothing.
func Im2colParallel(threads int, g *ConvGeometry, img, col []float32) {
	g.check("Im2colParallel", len(img), len(col))
	im2colParallel(threads, im2colParallelMin, g, img, col)
}

// im2colParallel is Im2colParallel after the checks; it runs serially when col has fewer
// than minElems elements.
func im2colParallel(threads, minElems int, g *ConvGeometry, img, col []float32) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, g.Channels)
	if threads <= 1 || g.ColRows()*g.ColCols() < minElems {
		im2col(g, img, col, false)
		return
	}
	ensureIm2colWorkers(threads - 1)
	batch := im2colBatches.Get().(*im2colBatch)
	if cap(batch.jobs) < threads {
		batch.jobs = make([]im2colJob, threads)
	}
	jobs := batch.jobs[:threads]
	plane := g.In[0] * g.In[1] * g.In[2]
	rowsPer := g.Kernel[0] * g.Kernel[1] * g.Kernel[2] * g.ColCols() // col elements per channel
	for t := range jobs {
		lo, hi := t*g.Channels/threads, (t+1)*g.Channels/threads
		j := &jobs[t]
		j.g = *g
		j.g.Channels = hi - lo
		j.img = img[lo*plane : hi*plane]
		j.col = col[lo*rowsPer : hi*rowsPer]
		j.done = &batch.done
	}
	batch.done.Add(threads - 1)
	for t := 1; t < threads; t++ {
		im2colJobs <- &jobs[t]
	}
	im2col(&jobs[0].g, jobs[0].img, jobs[0].col, false)
	batch.done.Wait()
	for t := range jobs {
		jobs[t] = im2colJob{} // drop the references to img and col
	}
	im2colBatches.Put(batch)
}

// im2colJob is one channel range of a parallel Im2col.
type im2colJob struct {
	g        ConvGeometry
	img, col []float32
	done     *sync.WaitGroup
}

// im2colBatch is the bookkeeping of one parallel call, pooled.
type im2colBatch struct {
	jobs []im2colJob
	done sync.WaitGroup
}

var im2colBatches = sync.Pool{New: func() any { return new(im2colBatch) }}

// The im2col worker pool: started on demand, never stopped (an idle worker only holds its
// stack).
var (
	im2colWorkersMu sync.Mutex
	im2colWorkers   int
	im2colJobs      = make(chan *im2colJob)
)

func ensureIm2colWorkers(n int) {
	im2colWorkersMu.Lock()
	for ; im2colWorkers < n; im2colWorkers++ {
		go func() {
			for j := range im2colJobs {
				im2col(&j.g, j.img, j.col, false)
				j.done.Done()
			}
		}()
	}
	im2colWorkersMu.Unlock()
}

// Col2im is the adjoint of Im2col: it adds every element of col into the image position its
// tap reads (elements that fall into the padding are dropped). With col = Wᵀ×X it computes a
// transposed convolution. img is accumulated into, not overwritten: the caller zeroes it or
// fills it with a bias first.
//
// Shapes are as in Im2col. It panics if a slice is too short or the geometry is invalid.
func Col2im(g *ConvGeometry, col, img []float32) {
	g.check("Col2im", len(img), len(col))
	im2col(g, img, col, true)
}

func (g *ConvGeometry) check(fn string, imgLen, colLen int) {
	g.checkGeometry(fn)
	if imgLen < g.ImageLen() {
		panic(fmt.Sprintf("kernels: %s: image has %d elements, want %d", fn, imgLen, g.ImageLen()))
	}
	if colLen < g.ColRows()*g.ColCols() {
		panic(fmt.Sprintf("kernels: %s: column matrix has %d elements, want %d", fn, colLen, g.ColRows()*g.ColCols()))
	}
}

// checkGeometry panics if g has a non-positive stride or dilation or a negative size.
func (g *ConvGeometry) checkGeometry(fn string) {
	for i := range MaxSpatial {
		if g.Stride[i] < 1 || g.Dilation[i] < 1 || g.In[i] < 0 || g.Kernel[i] < 0 || g.Out[i] < 0 {
			panic(fmt.Sprintf("kernels: %s: invalid geometry %+v", fn, *g))
		}
	}
	if g.Channels < 0 {
		panic(fmt.Sprintf("kernels: %s: invalid geometry %+v", fn, *g))
	}
}

// im2col walks the taps of every window position once. Along W, the positions whose tap lies
// inside the image form one contiguous range [lo, hi) (validRange), so each output row is
// padding, a strided gather (or a copy when the stride is 1), and padding again.
// With add it scatters col into img instead (Col2im).
func im2col(g *ConvGeometry, img, col []float32, add bool) {
	inD, inH, inW := g.In[0], g.In[1], g.In[2]
	oD, oH, oW := g.Out[0], g.Out[1], g.Out[2]
	sD, sH, sW := g.Stride[0], g.Stride[1], g.Stride[2]
	cols := oD * oH * oW
	plane := inD * inH * inW
	r := 0
	for c := range g.Channels {
		chImg := img[c*plane : (c+1)*plane]
		for kd := range g.Kernel[0] {
			offD := kd*g.Dilation[0] - g.Pad[0]
			for kh := range g.Kernel[1] {
				offH := kh*g.Dilation[1] - g.Pad[1]
				for kw := range g.Kernel[2] {
					offW := kw*g.Dilation[2] - g.Pad[2]
					lo, hi := validRange(oW, sW, offW, inW)
					dst := col[r*cols : (r+1)*cols]
					r++
					i := 0
					for od := range oD {
						id := od*sD + offD
						for oh := range oH {
							ih := oh*sH + offH
							row := dst[i : i+oW]
							i += oW
							if id < 0 || id >= inD || ih < 0 || ih >= inH {
								if !add {
									clear(row)
								}
								continue
							}
							src := chImg[(id*inH+ih)*inW : (id*inH+ih+1)*inW]
							if add {
								if lo < hi {
									scatterAdd(row[lo:hi], src, lo*sW+offW, sW)
								}
								continue
							}
							clear(row[:lo])
							clear(row[hi:])
							if lo == hi {
								continue
							}
							if sW == 1 {
								copy(row[lo:hi], src[lo+offW:hi+offW])
							} else {
								for ow, p := lo, lo*sW+offW; ow < hi; ow, p = ow+1, p+sW {
									row[ow] = src[p]
								}
							}
						}
					}
				}
			}
		}
	}
}

// scatterAdd adds v[j] into dst[start + j*stride].
func scatterAdd(v, dst []float32, start, stride int) {
	if stride == 1 {
		d := dst[start : start+len(v)]
		for j, x := range v {
			d[j] += x
		}
		return
	}
	for j, x := range v {
		dst[start+j*stride] += x
	}
}

// validRange returns the window positions [lo, hi) within [0, n) whose tap o*stride + off lies
// in [0, size).
func validRange(n, stride, off, size int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride // ceil(-off/stride)
	}
	if last := size - 1 - off; last >= 0 {
		hi = last/stride + 1
	}
	lo = min(lo, n)
	hi = max(min(hi, n), lo)
	return lo, hi
}
