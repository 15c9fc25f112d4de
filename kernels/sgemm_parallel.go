package kernels

import (
	"runtime"
	"sync"
)

// parallelMinFlops is the smallest product (2*m*n*k) SgemmParallel splits: below it, about
// 10 µs of work on one AVX2 core, waking a worker costs more than it saves.
const parallelMinFlops = 1 << 21

// SgemmParallel is Sgemm (same arguments, results and panics) computed by up to threads
// goroutines; threads <= 0 means runtime.GOMAXPROCS(0). C is cut into threads bands of whole
// micro-kernel tiles along its longer dimension (in tiles): columns when op(B) is wide (convolutions:
// n = output pixels), rows otherwise. Each band is an independent blocked product with its
// own packing buffers (a band re-packs the shared operand, which costs k*(m or n) copies
// against m*n*k/threads multiply-adds). For m <= 4 (Sgemm's small-M path) the bands are
// columns of C, 64 at a time. The bands run on a pool of long-lived worker
// goroutines and the calling goroutine, so steady-state calls allocate nothing.
//
// The result is bitwise the same for every thread count: each element of C is computed by the
// same sequence of operations.
func SgemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	sgemmParallel(bestKernel, threads, parallelMinFlops, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmJob is one band of a parallel product.
type gemmJob struct {
	kern           *microKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	small          bool      // the small-M path (small.go) rather than the blocked product
	conv           *convArgs // if not nil, columns [j0, j1) of a Conv call instead
	pool           *poolArgs // if not nil, planes [j0, j1) of a pooling call instead
	j0, j1         int
	done           *sync.WaitGroup
}

func (j *gemmJob) run() {
	if j.pool != nil {
		j.pool.planes(j.j0, j.j1)
		return
	}
	if j.conv != nil {
		j.conv.band(j.j0, j.j1)
		return
	}
	if j.small {
		sgemmSmall(j.kern, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
		return
	}
	sgemm(j.kern, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
}

// gemmBatch is the bookkeeping of one parallel call, pooled.
type gemmBatch struct {
	jobs []gemmJob
	done sync.WaitGroup
}

var gemmBatches = sync.Pool{New: func() any { return new(gemmBatch) }}

// The worker pool: workers goroutines, started on demand and never stopped (an idle worker
// only holds its stack), each running bands received on gemmJobs.
var (
	workersMu sync.Mutex
	workers   int
	gemmJobs  = make(chan *gemmJob)
)

func ensureWorkers(n int) {
	workersMu.Lock()
	for ; workers < n; workers++ {
		go func() {
			for j := range gemmJobs {
				j.run()
				j.done.Done()
			}
		}()
	}
	workersMu.Unlock()
}

// sgemmParallel is SgemmParallel with a given micro-kernel, after the argument checks; it runs
// serially when 2*m*n*k < minFlops.
func sgemmParallel(kern *microKernel, threads int, minFlops float64, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	// The small-M path (m <= smallM) is cut into bands of smallAlign columns, the blocked
	// product into bands of whole micro-kernel tiles.
	small := m <= smallM
	tileM, tileN := kern.mr, kern.nr
	if small {
		tileM, tileN = m, smallAlign
	}
	tilesM, tilesN := (m+tileM-1)/tileM, (n+tileN-1)/tileN
	splitN := tilesN >= tilesM
	tiles := tilesM
	if splitN {
		tiles = tilesN
	}
	threads = min(threads, tiles)
	if threads <= 1 || k == 0 || alpha == 0 || 2*float64(m)*float64(n)*float64(k) < minFlops {
		if small {
			sgemmSmall(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		sgemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ensureWorkers(threads - 1)
	batch := gemmBatches.Get().(*gemmBatch)
	if cap(batch.jobs) < threads {
		batch.jobs = make([]gemmJob, threads)
	}
	jobs := batch.jobs[:threads]
	for t := range jobs {
		// Band t covers tiles [t*tiles/threads, (t+1)*tiles/threads).
		lo, hi := t*tiles/threads, (t+1)*tiles/threads
		j := gemmJob{kern: kern, transA: transA, transB: transB, m: m, n: n, k: k,
			alpha: alpha, beta: beta, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, small: small, done: &batch.done}
		if splitN {
			j0, j1 := lo*tileN, min(hi*tileN, n)
			j.n = j1 - j0
			j.c = c[j0:]
			if transB {
				j.b = b[j0*ldb:]
			} else {
				j.b = b[j0:]
			}
		} else {
			i0, i1 := lo*tileM, min(hi*tileM, m)
			j.m = i1 - i0
			j.c = c[i0*ldc:]
			if transA {
				j.a = a[i0:]
			} else {
				j.a = a[i0*lda:]
			}
		}
		jobs[t] = j
	}
	batch.done.Add(threads - 1)
	for t := 1; t < threads; t++ {
		gemmJobs <- &jobs[t]
	}
	jobs[0].run()
	batch.done.Wait()
	clear(jobs) // drop the references to the caller's matrices
	gemmBatches.Put(batch)
}
