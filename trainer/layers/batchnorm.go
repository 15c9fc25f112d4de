package layers

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BNStats holds the per-channel statistics of a BatchNorm's last forward run.
type BNStats struct {
	Mean, Var []float64
}

// BatchNorm normalises x [B, C, H, W] or [B, C] per channel C with the batch's statistics
// (mean and biased variance over B, H, W), then scales and shifts:
//
//	y = gamma·(x - mean)/sqrt(var + eps) + beta        gamma, beta: [C]
//
// (training-mode batch normalisation, Ioffe & Szegedy 2015; the inference form is ONNX
// BatchNormalization with population statistics). stats, when not nil, receives the batch's
// per-channel mean and biased variance (float64, len C) at every forward run.
//
// x, gamma and beta share one dtype, float32 or float64; eps must be finite and > 0. The
// statistics are accumulated in float64, the mean first and then the squared deviations from
// it (no cancellation of E[x²] - E[x]²), and y is rounded to x's dtype once. Every forward
// run stores new slices in stats (it never writes into the previous ones), so a caller may
// keep them. x, gamma and beta are all differentiable.
func BatchNorm(x, gamma, beta *G.Node, eps float64, stats *BNStats) (*G.Node, error) {
	if x == nil || gamma == nil || beta == nil {
		return nil, fmt.Errorf("layers: BatchNorm: nil input node")
	}
	if !(eps > 0) || math.IsInf(eps, 1) {
		return nil, fmt.Errorf("layers: BatchNorm: eps = %v, want a finite value > 0", eps)
	}
	xs := x.Shape()
	if len(xs) != 2 && len(xs) != 4 {
		return nil, fmt.Errorf("layers: BatchNorm: input shape %v, want [B, C] or [B, C, H, W]", []int(xs))
	}
	for _, d := range xs {
		if d < 1 {
			return nil, fmt.Errorf("layers: BatchNorm: input shape %v has an empty dimension", []int(xs))
		}
	}
	C := xs[1]
	for _, p := range []struct {
		name string
		n    *G.Node
	}{{"gamma", gamma}, {"beta", beta}} {
		if s := p.n.Shape(); len(s) != 1 || s[0] != C {
			return nil, fmt.Errorf("layers: BatchNorm: %s shape %v, want [%d] (the channels of input %v)", p.name, []int(s), C, []int(xs))
		}
	}
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("layers: BatchNorm: dtype %v, want float32 or float64", dt)
	}
	if gamma.Dtype() != dt || beta.Dtype() != dt {
		return nil, fmt.Errorf("layers: BatchNorm: dtypes %v, %v, %v differ", dt, gamma.Dtype(), beta.Dtype())
	}
	return G.ApplyOp(bnOp{kind: bnForward, shape: xs.Clone(), eps: eps, stats: stats}, x, gamma, beta)
}

type bnKind uint8

const (
	bnForward   bnKind = iota // (x, gamma, beta) -> y
	bnScaleGrad               // (x, dy) -> dgamma [C]
	bnShiftGrad               // (dy) -> dbeta [C]
	bnInputGrad               // (x, gamma, dy, dgamma, dbeta) -> dx
)

var bnKindNames = [...]string{"BatchNorm", "BatchNormScaleGrad", "BatchNormShiftGrad", "BatchNormInputGrad"}

// bnOp is BatchNorm and its gradient ops, on one input shape and eps. With x̂ = (x -
// mean)·inv, inv = 1/sqrt(var + eps), and sums per channel over its n = B·H·W elements:
//
//	dbeta = Σ dy,  dgamma = Σ dy·x̂,  dx = gamma·inv·(dy - dbeta/n - x̂·dgamma/n)
//
// The gradient ops recompute the statistics from x (passes over blocks that stay in cache;
// see bnGeom) rather than keep state from the forward run. dx reads dgamma and dbeta as the
// graph holds them, rounded to x's dtype: in float32 that perturbs the terms dbeta/n and
// x̂·dgamma/n by 2^-24 relative, float32's own rounding. Results do not depend on GOMAXPROCS.
type bnOp struct {
	kind  bnKind
	shape tensor.Shape // x: [B, C, H, W] or [B, C]
	eps   float64
	stats *BNStats // forward only; may be nil
}

func (op bnOp) String() string {
	return fmt.Sprintf("%s{%v eps %g}", bnKindNames[op.kind], op.shape, op.eps)
}

// hashKey is the String plus, for the forward op, the identity of its stats: two
// BatchNorms of the same nodes that report to different BNStats are different nodes.
func (op bnOp) hashKey() string {
	if op.kind == bnForward {
		return fmt.Sprintf("%v stats %p", op, op.stats)
	}
	return op.String()
}

// shapes of the inputs and the output.
func (op bnOp) shapes() (in [][]int, out []int) {
	x, c := []int(op.shape), []int{op.shape[1]}
	switch op.kind {
	case bnForward:
		return [][]int{x, c, c}, x
	case bnScaleGrad:
		return [][]int{x, x}, c
	case bnShiftGrad:
		return [][]int{x}, c
	default:
		return [][]int{x, c, x, c, c}, x
	}
}

func (op bnOp) Arity() int {
	in, _ := op.shapes()
	return len(in)
}

func (op bnOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	tx := G.TensorType{Dims: len(op.shape), Of: a}
	tc := G.TensorType{Dims: 1, Of: a}
	switch op.kind {
	case bnForward:
		return hm.NewFnType(tx, tc, tc, tx)
	case bnScaleGrad:
		return hm.NewFnType(tx, tx, tc)
	case bnShiftGrad:
		return hm.NewFnType(tx, tc)
	default:
		return hm.NewFnType(tx, tc, tx, tc, tc, tx)
	}
}

func (op bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	want, out := op.shapes()
	for i, s := range want {
		if err := checkShape(op, in, i, s); err != nil {
			return nil, err
		}
	}
	return tensor.Shape(out).Clone(), nil
}

func (op bnOp) Do(in ...G.Value) (G.Value, error) {
	want, out := op.shapes()
	if len(in) != len(want) {
		return nil, fmt.Errorf("layers: %v: %d inputs, want %d", op, len(in), len(want))
	}
	data := make([]any, len(in))
	var dt tensor.Dtype
	for i, v := range in {
		d, t, err := valueData(op, v, want[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && t != dt {
			return nil, fmt.Errorf("layers: %v: mixed dtypes %v and %v", op, dt, t)
		}
		data[i], dt = d, t
	}
	switch data[0].(type) {
	case []float32:
		return dense(doBN[float32](op, data), out), nil
	default:
		return dense(doBN[float64](op, data), out), nil
	}
}

// doBN runs op on data (its inputs, all []F). Per-channel values are float64 scratch of C
// elements, fresh every run.
func doBN[F float](op bnOp, data []any) []F {
	g := newBNGeom(op.shape)
	switch op.kind {
	case bnForward:
		x, gamma, beta := data[0].([]F), data[1].([]F), data[2].([]F)
		y := make([]F, len(x))
		mean, variance, k := make([]float64, g.C), make([]float64, g.C), make([]float64, g.C)
		g.forBlocks(func(lo, hi int) {
			bnMoments(g, x, lo, hi, mean, variance)
			for c := lo; c < hi; c++ {
				k[c] = float64(gamma[c]) / math.Sqrt(variance[c]+op.eps)
			}
			bnForwardBlock(g, x, y, lo, hi, mean, k, beta)
		})
		if op.stats != nil {
			op.stats.Mean, op.stats.Var = mean, variance
		}
		return y
	case bnScaleGrad:
		x, dy := data[0].([]F), data[1].([]F)
		dgamma := make([]F, g.C)
		mean, variance, sdyx := make([]float64, g.C), make([]float64, g.C), make([]float64, g.C)
		g.forBlocks(func(lo, hi int) {
			bnMoments(g, x, lo, hi, mean, variance)
			bnDotDeviations(g, x, dy, lo, hi, mean, sdyx)
			for c := lo; c < hi; c++ {
				dgamma[c] = F(sdyx[c] / math.Sqrt(variance[c]+op.eps)) // Σ dy·x̂
			}
		})
		return dgamma
	case bnShiftGrad:
		dy := data[0].([]F)
		dbeta := make([]F, g.C)
		sum := make([]float64, g.C)
		g.forBlocks(func(lo, hi int) {
			bnSums(g, dy, lo, hi, sum)
			for c := lo; c < hi; c++ {
				dbeta[c] = F(sum[c])
			}
		})
		return dbeta
	default:
		x, gamma, dy, dgamma, dbeta := data[0].([]F), data[1].([]F), data[2].([]F), data[3].([]F), data[4].([]F)
		dx := make([]F, len(x))
		mean, variance := make([]float64, g.C), make([]float64, g.C)
		k, a, b := make([]float64, g.C), make([]float64, g.C), make([]float64, g.C)
		g.forBlocks(func(lo, hi int) {
			bnMoments(g, x, lo, hi, mean, variance)
			// dx = gamma·inv·(dy - dbeta/n - (x - mean)·inv·dgamma/n) = k·dy - a·(x - mean) - b
			for c := lo; c < hi; c++ {
				inv := 1 / math.Sqrt(variance[c]+op.eps)
				k[c] = float64(gamma[c]) * inv
				a[c] = k[c] * inv * float64(dgamma[c]) / g.n()
				b[c] = k[c] * float64(dbeta[c]) / g.n()
			}
			bnInputGradBlock(g, x, dy, dx, lo, hi, mean, k, a, b)
		})
		return dx
	}
}

// bnGeom is x seen as [B, C, S] (S = H·W; 1 for a 2-D x): channel c of sample b is the
// contiguous plane x[(b·C+c)·S : (b·C+c+1)·S].
//
// The kernels take the channels in blocks of about bnBlockElems elements (one channel when
// its B·S elements are that many or more: [32, 64, 14, 14] has 6,272), and make all their
// passes over a block before the next, so that the passes after the first read cache. Taking
// a 2-D x channel by channel instead would read one element per row at a stride of C — a
// cache line for each element, and for C a multiple of 1024 the same L1 set every time. For
// S = 1 the kernels run along rows instead of planes: row b of a block, x[b·C+lo : b·C+hi],
// holds one element of each of its channels.
type bnGeom struct{ B, C, S int }

// bnBlockElems is the size of a block of channels: 8,192 elements, 32 KB in float32, so that
// the three tensors a kernel may touch in a block fit in L2.
const bnBlockElems = 8192

func newBNGeom(shape []int) bnGeom {
	g := bnGeom{B: shape[0], C: shape[1], S: 1}
	for _, d := range shape[2:] {
		g.S *= d
	}
	return g
}

func (g bnGeom) n() float64 { return float64(g.B * g.S) } // elements per channel

// forBlocks calls fn on consecutive ranges of channels [lo, hi) (the blocks), on up to
// GOMAXPROCS goroutines. Blocks depend only on the shape, and every per-channel sum is taken
// in a fixed order within its block, so results do not depend on GOMAXPROCS.
func (g bnGeom) forBlocks(fn func(lo, hi int)) {
	per := max(1, bnBlockElems/(g.B*g.S))
	blocks := (g.C + per - 1) / per
	parallelRanges(blocks, func(b0, b1 int) {
		for k := b0; k < b1; k++ {
			fn(k*per, min((k+1)*per, g.C))
		}
	})
}

// bnPlane is channel c of sample b (S elements).
func bnPlane[F float](g bnGeom, x []F, b, c int) []F {
	off := (b*g.C + c) * g.S
	return x[off : off+g.S : off+g.S]
}

// bnRow is row b of the block [lo, hi) for S = 1 (hi-lo elements).
func bnRow[F float](g bnGeom, x []F, b, lo, hi int) []F {
	return x[b*g.C+lo : b*g.C+hi : b*g.C+hi]
}

// bnSums sets sum[c] = Σ x over channel c, in float64, for the channels of [lo, hi). A plane
// is summed with four partial sums (scalars, which Go keeps in registers) to break the
// chain of dependent additions.
func bnSums[F float](g bnGeom, x []F, lo, hi int, sum []float64) {
	sum = sum[lo:hi]
	clear(sum)
	for b := range g.B {
		if g.S == 1 {
			row := bnRow(g, x, b, lo, hi)[:len(sum)]
			for j, v := range row {
				sum[j] += float64(v)
			}
			continue
		}
		for j := range sum {
			p := bnPlane(g, x, b, lo+j)
			var s0, s1, s2, s3 float64
			for len(p) >= 4 {
				s0 += float64(p[0])
				s1 += float64(p[1])
				s2 += float64(p[2])
				s3 += float64(p[3])
				p = p[4:]
			}
			for _, v := range p {
				s0 += float64(v)
			}
			sum[j] += (s0 + s1) + (s2 + s3)
		}
	}
}

// bnMoments sets mean[c] and variance[c] (biased) for the channels of [lo, hi), in float64:
// the mean first, then the mean of the squared deviations from it (no cancellation, unlike
// E[x²] - E[x]²).
func bnMoments[F float](g bnGeom, x []F, lo, hi int, mean, variance []float64) {
	bnSums(g, x, lo, hi, mean)
	mean, variance = mean[lo:hi], variance[lo:hi]
	for j := range mean {
		mean[j] /= g.n()
	}
	clear(variance)
	for b := range g.B {
		if g.S == 1 {
			row := bnRow(g, x, b, lo, hi)[:len(mean)]
			for j, v := range row {
				d := float64(v) - mean[j]
				variance[j] += d * d
			}
			continue
		}
		for j, m := range mean {
			p := bnPlane(g, x, b, lo+j)
			var s0, s1, s2, s3 float64
			for len(p) >= 4 {
				d0, d1, d2, d3 := float64(p[0])-m, float64(p[1])-m, float64(p[2])-m, float64(p[3])-m
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
				p = p[4:]
			}
			for _, v := range p {
				d := float64(v) - m
				s0 += d * d
			}
			variance[j] += (s0 + s1) + (s2 + s3)
		}
	}
	for j := range variance {
		variance[j] /= g.n()
	}
}

// bnDotDeviations sets sdyx[c] = Σ dy·(x - mean) for the channels of [lo, hi).
func bnDotDeviations[F float](g bnGeom, x, dy []F, lo, hi int, mean, sdyx []float64) {
	mean, sdyx = mean[lo:hi], sdyx[lo:hi]
	clear(sdyx)
	for b := range g.B {
		if g.S == 1 {
			xr, dr := bnRow(g, x, b, lo, hi)[:len(mean)], bnRow(g, dy, b, lo, hi)[:len(mean)]
			for j, d := range dr {
				sdyx[j] += float64(d) * (float64(xr[j]) - mean[j])
			}
			continue
		}
		for j, m := range mean {
			xp, dp := bnPlane(g, x, b, lo+j), bnPlane(g, dy, b, lo+j)
			var t0, t1, t2, t3 float64
			for len(xp) >= 4 && len(dp) >= 4 {
				t0 += float64(dp[0]) * (float64(xp[0]) - m)
				t1 += float64(dp[1]) * (float64(xp[1]) - m)
				t2 += float64(dp[2]) * (float64(xp[2]) - m)
				t3 += float64(dp[3]) * (float64(xp[3]) - m)
				xp, dp = xp[4:], dp[4:]
			}
			for i := 0; i < len(xp) && i < len(dp); i++ {
				t0 += float64(dp[i]) * (float64(xp[i]) - m)
			}
			sdyx[j] += (t0 + t1) + (t2 + t3)
		}
	}
}

// bnForwardBlock writes y = (x - mean)·k + beta for the channels of [lo, hi).
func bnForwardBlock[F float](g bnGeom, x, y []F, lo, hi int, mean, k []float64, beta []F) {
	mean, k, beta = mean[lo:hi], k[lo:hi], beta[lo:hi]
	k, beta = k[:len(mean)], beta[:len(mean)]
	for b := range g.B {
		if g.S == 1 {
			xr, yr := bnRow(g, x, b, lo, hi)[:len(mean)], bnRow(g, y, b, lo, hi)[:len(mean)]
			for j, v := range xr {
				yr[j] = F((float64(v)-mean[j])*k[j] + float64(beta[j]))
			}
			continue
		}
		for j, m := range mean {
			kj, sh := k[j], float64(beta[j])
			xp, yp := bnPlane(g, x, b, lo+j), bnPlane(g, y, b, lo+j)
			yp = yp[:len(xp)]
			for i, v := range xp {
				yp[i] = F((float64(v)-m)*kj + sh)
			}
		}
	}
}

// bnInputGradBlock writes dx = k·dy - a·(x - mean) - b for the channels of [lo, hi).
func bnInputGradBlock[F float](g bnGeom, x, dy, dx []F, lo, hi int, mean, k, a, b []float64) {
	mean, k, a, b = mean[lo:hi], k[lo:hi], a[lo:hi], b[lo:hi]
	k, a, b = k[:len(mean)], a[:len(mean)], b[:len(mean)]
	for s := range g.B {
		if g.S == 1 {
			xr, dr, or := bnRow(g, x, s, lo, hi)[:len(mean)], bnRow(g, dy, s, lo, hi)[:len(mean)], bnRow(g, dx, s, lo, hi)[:len(mean)]
			for j, v := range xr {
				or[j] = F(k[j]*float64(dr[j]) - a[j]*(float64(v)-mean[j]) - b[j])
			}
			continue
		}
		for j, m := range mean {
			kj, aj, bj := k[j], a[j], b[j]
			xp, dp, op := bnPlane(g, x, s, lo+j), bnPlane(g, dy, s, lo+j), bnPlane(g, dx, s, lo+j)
			dp, op = dp[:len(xp)], op[:len(xp)]
			for i, v := range xp {
				op[i] = F(kj*float64(dp[i]) - aj*(float64(v)-m) - bj)
			}
		}
	}
}

func (op bnOp) ReturnsPtr() bool      { return false }
func (op bnOp) CallsExtern() bool     { return false }
func (op bnOp) OverwritesInput() int  { return -1 }
func (op bnOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.hashKey()) }
func (op bnOp) Hashcode() uint32      { return hashString(op.hashKey()) }

func (op bnOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = op.kind == bnForward
	}
	return out
}

// SymDiff: dgamma = BatchNormScaleGrad(x, dy), dbeta = BatchNormShiftGrad(dy), and
// dx = BatchNormInputGrad(x, gamma, dy, dgamma, dbeta), which takes its channel sums from the
// other two.
func (op bnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.kind != bnForward || len(in) != 3 {
		return nil, fmt.Errorf("layers: %v is not differentiable", op)
	}
	x, gamma := in[0], in[1]
	g := bnOp{kind: bnScaleGrad, shape: op.shape, eps: op.eps}
	dgamma, err := G.ApplyOp(g, x, grad)
	if err != nil {
		return nil, err
	}
	g.kind = bnShiftGrad
	dbeta, err := G.ApplyOp(g, grad)
	if err != nil {
		return nil, err
	}
	g.kind = bnInputGrad
	dx, err := G.ApplyOp(g, x, gamma, grad, dgamma, dbeta)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta}, nil
}
