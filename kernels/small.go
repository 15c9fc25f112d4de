package kernels

// The small-M path. When op(A) has few rows (batch-1 inference: an LSTM step, a Gemm or
// MatMul on one vector), the blocked product's packing of op(B) — k*n copies — costs as much
// as the m*n*k multiply-adds it prepares, and the 6-row micro-kernel tile is mostly padding.
// For m <= smallM, Sgemm instead reads B where it is stored, one row of C at a time:
//
//   - B stored n×k (transB, the layout of ONNX Gemm weights and LSTM W/R): each C[i, j] is
//     alpha times the dot product of row i of op(A) with row j of B (dotNT; dotNT2 does two
//     rows of op(A) per pass over B, with the same bits).
//   - B stored k×n: row i of C is alpha times the sum over p of op(A)[i, p] times row p of B,
//     accumulated in registers over a strip of columns (axpyNN).
//
// A transposed A (column i of the stored A is row i of op(A), strided) is first gathered into
// a contiguous row, m*k copies. With m > 1, n is cut into chunks whose part of B (about
// smallChunkFloats) stays in L2 while every row of C uses it. Every element of C is computed
// by the same operations whatever the chunking or the thread count, so SgemmParallel stays
// bitwise equal to Sgemm.

// smallM is the largest m that Sgemm and SgemmParallel compute with the small-M path.
const smallM = 4

// smallChunkFloats is the part of B (in floats, 128 KiB) one chunk of columns of C reads when
// m > 1: it stays in the L2 cache while the m rows of C use it.
const smallChunkFloats = 32 << 10

// smallAlign is the column granularity of chunks and parallel bands: a multiple of every
// kernel's strip width.
const smallAlign = 64

// sgemmSmall is Sgemm for m <= smallM (any m works) with kern's small-M kernels, after the
// argument checks.
func sgemmSmall(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	// rows holds op(A)'s rows contiguously (row i at rows[i*ra:]).
	rows, ra := a, lda
	var ws *workspace
	if transA && !(m == 1 && lda == 1) {
		ws = workspaces.Get().(*workspace)
		ws.a = grow(ws.a, m*k)
		rows, ra = ws.a, k
		for i := range m {
			r := rows[i*k : i*k+k]
			for p := range r {
				r[p] = a[p*lda+i]
			}
		}
	}
	load := beta != 0
	if ws == nil && !transB && kern.axpyRows != nil && k*ldb >= smallStreamFloats {
		ws = workspaces.Get().(*workspace)
	}
	if transB {
		chunk := n
		if m > 1 {
			chunk = max(smallAlign, smallChunkFloats/k/smallAlign*smallAlign)
		}
		for j0 := 0; j0 < n; j0 += chunk {
			nn := min(chunk, n-j0)
			i := 0
			for ; i+2 <= m && kern.dotNT2 != nil; i += 2 {
				kern.dotNT2(k, rows[i*ra:(i+1)*ra+k], ra, b[j0*ldb:], ldb, nn, c[i*ldc+j0:(i+1)*ldc+j0+nn], ldc, alpha, beta, load)
			}
			for ; i < m; i++ {
				kern.dotNT(k, rows[i*ra:i*ra+k], b[j0*ldb:], ldb, nn, c[i*ldc+j0:i*ldc+j0+nn], alpha, beta, load)
			}
		}
	} else if kern.axpyRows != nil && k*ldb >= smallStreamFloats {
		axpyStream(kern, m, n, k, alpha, rows, ra, b, ldb, beta, c, ldc, ws)
	} else {
		chunk := n
		if m > 1 {
			chunk = max(smallAlign, smallChunkFloats/k/smallAlign*smallAlign)
		}
		for j0 := 0; j0 < n; j0 += chunk {
			nn := min(chunk, n-j0)
			for i := range m {
				kern.axpyNN(k, rows[i*ra:i*ra+k], b[j0:], ldb, nn, c[i*ldc+j0:i*ldc+j0+nn], alpha, beta, load)
			}
		}
	}
	if ws != nil {
		workspaces.Put(ws)
	}
}

// dotNTGo is the portable dotNT (see microKernel.dotNT): four partial sums per dot product.
func dotNTGo(k int, a, b []float32, ldb, n int, c []float32, alpha, beta float32, load bool) {
	a, c = a[:k], c[:n]
	for j := range c {
		row := b[j*ldb : j*ldb+k]
		var s0, s1, s2, s3 float32
		p := 0
		for ; p+4 <= k; p += 4 {
			ap, bp := a[p:p+4:p+4], row[p:p+4:p+4]
			s0 += ap[0] * bp[0]
			s1 += ap[1] * bp[1]
			s2 += ap[2] * bp[2]
			s3 += ap[3] * bp[3]
		}
		for ; p < k; p++ {
			s0 += a[p] * row[p]
		}
		v := alpha * ((s0 + s1) + (s2 + s3))
		if load {
			v += beta * c[j]
		}
		c[j] = v
	}
}

// axpyNNGo is the portable axpyNN (see microKernel.axpyNN): strips of 64 columns accumulated
// in a local array, so that C is not read when load is false.
func axpyNNGo(k int, a, b []float32, ldb, n int, c []float32, alpha, beta float32, load bool) {
	a = a[:k]
	var acc [smallAlign]float32
	for j0 := 0; j0 < n; j0 += smallAlign {
		w := min(smallAlign, n-j0)
		s := acc[:w]
		clear(s)
		for p, ap := range a {
			row := b[p*ldb+j0 : p*ldb+j0+w]
			for j, v := range row {
				s[j] += ap * v
			}
		}
		dst := c[j0 : j0+w]
		for j, v := range s {
			v *= alpha
			if load {
				v += beta * dst[j]
			}
			dst[j] = v
		}
	}
}

// smallStreamFloats is the size of a row-major B (k*ldb floats; 1 MiB, twice an L2) from
// which the small-M path streams B by rows (axpyRows) rather than by column strips (axpyNN):
// a strip walks down all k rows with a stride of ldb floats, a TLB miss per row once B
// spans more pages than the TLB holds.
const smallStreamFloats = 256 << 10

// axpyStream computes the small-M product with B stored k×n with kern.axpyRows: four rows
// of B at a time across all n, for each row of C in turn (the four rows stay in cache), the
// running sums in ws.b. The result is bitwise that of axpyNN.
func axpyStream(kern *microKernel, m, n, k int, alpha float32, rows []float32, ra int, b []float32, ldb int, beta float32, c []float32, ldc int, ws *workspace) {
	ws.b = grow(ws.b, m*n)
	acc := ws.b
	for p := 0; p < k; {
		r := 1
		if k-p >= 4 {
			r = 4
		}
		flags := 0
		if p == 0 {
			flags |= 1
		}
		if p+r == k {
			flags |= 2
			if beta != 0 {
				flags |= 4
			}
		}
		for i := range m {
			kern.axpyRows(r, n, rows[i*ra+p:i*ra+p+r], b[p*ldb:], ldb, acc[i*n:i*n+n], c[i*ldc:i*ldc+n], alpha, beta, flags)
		}
		p += r
	}
}

// gemm is Sgemm after the argument checks: the small-M path or the blocked product.
func gemm(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= smallM {
		sgemmSmall(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
