package layers

import "github.com/gendl/gendl/kernels"

// The float32 fast paths of the primitives (prim.go), with the runtime's techniques
// (kernels/conv.go, runtime/ops/convtranspose.go, runtime/grad/conv.go): no K×P column
// matrix where they apply, and the transposed convolution as stride² sub-convolutions.
//
// # toCols: implicit GEMM
//
// cols[M, P] = W · im2col(img) + bias (Conv2d's forward, ConvTranspose2d's input gradient)
// is kernels.Conv on g's geometry: its B panels are packed straight from the image and the
// bias is added as the micro-kernel stores the result. One thread per call: the batch loop
// already splits the images. With at most loweredMaxM output channels the product has a
// single row tile and the panels' masked gathers are not shared by other rows, so those
// convolutions are lowered to rows instead (below).
//
// # toImage: sub-convolutions
//
// img[C, H, W] = col2im(Wᵀ · cols) + bias (ConvTranspose2d's forward, Conv2d's input
// gradient) is the transposed convolution of cols [M, OH, OW] with W [M, C, KH, KW]. Along
// one axis with stride s, kernel k and begin pad pb, cols element i adds into image element
// o = i·s - pb + t for the taps t < k, so image element o reads only the taps t ≡ r (mod s),
// r = (o + pb) mod s, that is t = r + s·u for u < U = ceil((k - r)/s), from cols element
// q - u, q = (o + pb - r)/s. The image elements of phase r are o = q·s + r - pb for q in
// [q0, q1] (those inside [0, H)); numbered j = q - q0, element j is
//
//	Σ_{u' < U} cols[j - (U-1-q0) + u'] · W[r + s·(U-1-u')]
//
// a stride-1 convolution of cols with the phase's taps reversed, begin pad U-1-q0 and
// q1-q0+1 outputs. In 2-D the phases are the pairs (rH, rW): SH·SW convolutions (subPlan),
// each computed by kernels.Conv (bias fused) into scratch and copied to every SH-th row and
// SW-th column of the image. For stride 1 this is the single convolution of the zero-padded
// cols with the flipped, transposed filter. The phase filters, [C, M, UH, UW] each, are a
// permutation of W's elements; W changes at every training step, so they are rebuilt at
// every op call, once for the whole batch, into pooled scratch. A phase without taps
// (r >= k: a kernel smaller than the stride) is just the bias. With fewer than
// subMinChannels image channels the phase products have fewer rows than the micro-kernel's
// 6 and waste most of it; toImage then keeps the product Wᵀ·cols (CKK rows) and col2im, as
// the runtime does (its convTransposeSubMin).
//
// # Row lowering: toCols with few output channels, filterGrad
//
// A convolution of img [C, H, W] (kernel KH×KW, stride SH×SW, dilation 1) is lowered per
// image to E [C·SH·SW, L], the image split by the residues of its rows and columns modulo
// the strides (space to depth) and laid out in rows of WQ = OW + UW - 1 elements:
//
//	E[(c, rh, rw), i·WQ + x] = img[c, i·SH + rh - padT, x·SW + rw - padL]   (0 outside)
//
// for i < OH + UH - 1, x < WQ, UH = ceil(KH/SH), UW = ceil(KW/SW). Kernel tap (kh, kw) =
// (a·SH + rh, b·SW + rw) of output (jh, jw) reads E[(c, rh, rw), (jh + a)·WQ + jw + b], so
// with the output positions numbered jh·WQ + jw, the convolution is a sum over the UH·UW
// lowered taps (a, b) of products with E shifted by a·WQ + b elements: a [C·SH·SW, OH·WQ]
// matrix with row stride L that kernels.Sgemm reads in place (rowLowering):
//
//	toCols:      out [M, OH·WQ] = bias + Σ_ab F_ab [M, C·SH·SW] × E_ab
//	filterGrad:  dF_ab [M, C·SH·SW] += cols' [M, OH·WQ] × E_abᵀ
//
// with F_ab[m, (c, rh, rw)] = W[m, c, a·SH + rh, b·SW + rw] (0 past the kernel) and cols'
// the gradient spread to rows of WQ with zeros in the UW-1 extra columns; dW is a
// permutation of the dF_ab. E is about the size of the zero-padded image, built by row
// copies; nothing is gathered and the KH·KW times larger im2col matrix is never written. The
// extra work is the UW-1 columns per row (WQ/OW) and the zero taps past the kernel
// (SH·UH/KH · SW·UW/KW: none for kernel 4 stride 2, 16/9 for kernel 3 stride 2). Both are
// exact zeros for finite values; only where the image holds an Inf or NaN can a zero tap or
// a zero of cols' multiply it into a NaN where the definition has no such product (toCols
// takes no geometry with zero taps, and drops its extra columns; the filter gradient can
// then show a NaN in a tap whose exact gradient is finite, in a step whose activations are
// already not finite).
//
// Measured on the models' layers (BenchmarkPrim; AMD EPYC, AVX2 kernels): toCols lowered is
// 4x faster than kernels.Conv on the DCGAN's Conv 32->1 5x5 (the gathers feed one row of 6)
// but from 5% faster to 3.7x slower with 32-64 output channels, where the 2-D geometry
// stays; the filter
// gradient lowered is 6.6x faster than im2col + SGEMM on that layer and 12-20% on the 4x4
// stride-2 layers, slower on kernel 3 stride 2 (the zero taps) and on single-channel images
// (products 4 columns wide). Lowering the sub-convolutions too (one product per tap on the
// zero-padded cols) was tried: -10% to +10% on the 4x4 and 3x3 stride-2 layers and 4x slower
// on a single-channel cols (products with K = 1), so they stay on kernels.Conv.
//
// # Determinism
//
// Every image is computed by one goroutine, with the same operations whatever GOMAXPROCS is
// (kernels.Conv and kernels.Sgemm on one thread; kernels.Conv is bitwise independent of its
// thread count anyway), and the filter gradients are summed per fixed chunk of filterChunk
// images in order (prim.go), so the results are bitwise independent of the thread count and
// the same from run to run.

// implicitConv selects the paths of this file; off, float32 takes im2col + SGEMM and
// SGEMM + col2im on package kernels, as before them. A variable so that tests and
// benchmarks can compare the two.
var implicitConv = true

// lowerRows selects the row lowering where it pays (colsLowering, filterLowering); off,
// toCols runs kernels.Conv on every geometry and filterGrad takes im2col + SGEMM. A
// variable so that tests cover both and benchmarks compare them.
var lowerRows = true

// Where the row lowering is taken (see "Row lowering" above for the measurements): toCols
// with at most loweredMaxM output channels (kernels.Sgemm's small-M path) and at most
// loweredColsWaste times the multiply-adds; filterGrad with at most loweredFilterWaste
// times the multiply-adds and products at least loweredFilterMinCols wide (or at most
// loweredMaxM high, the small-M path).
const (
	loweredMaxM          = 4
	loweredColsWaste     = 1.6
	loweredFilterWaste   = 1.2
	loweredFilterMinCols = 16
)

// colsLowering returns the lowering toCols takes for g, or nil. It also requires a kernel
// that the strides divide: then the lowered filter has no zero taps, and the valid outputs
// multiply exactly the products of the definition, non-finite values included.
func colsLowering(g convGeom) *rowLowering {
	if g.M > loweredMaxM || g.KH%g.SH != 0 || g.KW%g.SW != 0 {
		return nil
	}
	return newRowLowering(g, loweredColsWaste)
}

// filterLowering returns the lowering filterGrad takes for g, or nil.
func filterLowering(g convGeom) *rowLowering {
	r := newRowLowering(g, loweredFilterWaste)
	if r == nil || (g.M > loweredMaxM && r.ce < loweredFilterMinCols) {
		return nil
	}
	return r
}

// subMinChannels is the fewest image channels (the transposed convolution's outputs) for
// which toImage takes the sub-convolutions: the runtime's convTransposeSubMin, measured
// there (4-9x slower with 1 or 3 output channels, faster with 16 and more). A variable so
// that tests can exercise both paths on one geometry.
var subMinChannels = 16

// implicit32 reports whether F is float32 and takes the paths of this file.
func implicit32[F float]() bool {
	var z F
	_, ok := any(z).(float32)
	return ok && implicitConv && !forceReference
}

// rowLowering is one 2-D convolution (dilation 1) of an image [c, h, w] lowered to rows
// (see "Row lowering" at the top of this file).
type rowLowering struct {
	c, h, w    int // image
	kh, kw     int
	sh, sw     int
	padT, padL int
	oh, ow     int // outputs per axis
	uh, uw     int // taps per lowered channel, ceil(kh/sh)×ceil(kw/sw)
	wq         int // lowered row, ow + uw - 1
	ce         int // lowered channels (c, rh, rw), c·sh·sw
	n          int // lowered positions, oh·wq
	l          int // lowered plane, (oh + uh - 1)·wq + uw - 1
}

// newRowLowering returns the lowering of the convolution of g's image, or nil when its
// products would have more than waste times the multiply-adds of g's.
func newRowLowering(g convGeom, waste float64) *rowLowering {
	if !lowerRows || g.ckk() == 0 || g.p() == 0 {
		return nil
	}
	r := &rowLowering{c: g.C, h: g.H, w: g.W, kh: g.KH, kw: g.KW, sh: g.SH, sw: g.SW, padT: g.PadT, padL: g.PadL, oh: g.OH, ow: g.OW}
	r.uh, r.uw = (r.kh+r.sh-1)/r.sh, (r.kw+r.sw-1)/r.sw
	r.wq = r.ow + r.uw - 1
	r.ce = r.c * r.sh * r.sw
	r.n = r.oh * r.wq
	r.l = (r.oh+r.uh-1)*r.wq + r.uw - 1
	if float64(r.ce*r.uh*r.uw)*float64(r.n) > waste*float64(g.ckk())*float64(g.p()) {
		return nil
	}
	return r
}

// taps is the number of lowered products, one per tap (a, b) of the lowered kernel.
func (r *rowLowering) taps() int { return r.uh * r.uw }

// shift is the offset in E's planes of tap t = a·uw + b's window: a·wq + b.
func (r *rowLowering) shift(t int) int { return t/r.uw*r.wq + t%r.uw }

// eLen is the number of elements of the lowered image E.
func (r *rowLowering) eLen() int { return r.ce * r.l }

// lower writes E (eLen elements) for the image img.
func (r *rowLowering) lower(img, e []float32) {
	hw := r.h * r.w
	rows := r.oh + r.uh - 1
	for c := range r.c {
		src := img[c*hw : (c+1)*hw]
		for rh := range r.sh {
			for rw := range r.sw {
				plane := e[((c*r.sh+rh)*r.sw+rw)*r.l:][:r.l]
				off := rw - r.padL // image column of lowered column 0
				lo, hi := colRange(r.wq, r.sw, off, r.w)
				for i := range rows {
					row := plane[i*r.wq : (i+1)*r.wq]
					ih := i*r.sh + rh - r.padT
					if ih < 0 || ih >= r.h || lo == hi {
						clear(row)
						continue
					}
					s := src[ih*r.w : (ih+1)*r.w]
					clear(row[:lo])
					clear(row[hi:])
					if r.sw == 1 {
						copy(row[lo:hi], s[lo+off:hi+off])
						continue
					}
					for x, p := lo, lo*r.sw+off; x < hi; x, p = x+1, p+r.sw {
						row[x] = s[p]
					}
				}
				clear(plane[rows*r.wq:])
			}
		}
	}
}

// colRange returns the positions [lo, hi) within [0, n) whose column x·stride + off lies in
// [0, size).
func colRange(n, stride, off, size int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if last := size - 1 - off; last >= 0 {
		hi = last/stride + 1
	}
	lo = min(lo, n)
	hi = max(min(hi, n), lo)
	return lo, hi
}

// filterLen is the number of elements of the lowered filter of m output channels.
func (r *rowLowering) filterLen(m int) int { return r.taps() * m * r.ce }

// filter writes the lowered filter of w [m, c, kh, kw] into dst: per tap (a, b),
// F_ab [m, (c, rh, rw)] = W[m, c, a·sh + rh, b·sw + rw], 0 past the kernel.
func (r *rowLowering) filter(w []float32, m int, dst []float32) {
	i := 0
	for a := range r.uh {
		for b := range r.uw {
			for o := range m {
				for c := range r.c {
					for rh := range r.sh {
						kh := a*r.sh + rh
						for rw := range r.sw {
							kw := b*r.sw + rw
							if kh < r.kh && kw < r.kw {
								dst[i] = w[((o*r.c+c)*r.kh+kh)*r.kw+kw]
							} else {
								dst[i] = 0
							}
							i++
						}
					}
				}
			}
		}
	}
}

// unfilter writes dW [m, c, kh, kw] from a lowered filter (gradient) df: the inverse of
// filter (the taps past the kernel are dropped).
func (r *rowLowering) unfilter(df []float32, m int, dw []float32) {
	i := 0
	for o := range m {
		for c := range r.c {
			for kh := range r.kh {
				a, rh := kh/r.sh, kh%r.sh
				for kw := range r.kw {
					b, rw := kw/r.sw, kw%r.sw
					dw[i] = df[((a*r.uw+b)*m+o)*r.ce+(c*r.sh+rh)*r.sw+rw]
					i++
				}
			}
		}
	}
}

// conv computes out[m, n] = bias + Σ_ab F_ab × E_ab (bias may be nil) for the lowered filter
// f, E_ab being the lowered image e shifted by a·wq + b elements (a [ce, n] matrix with row
// stride l).
func (r *rowLowering) conv(f, e []float32, m int, bias, out []float32) {
	for o := range m {
		var v float32
		if bias != nil {
			v = bias[o]
		}
		fill(out[o*r.n:(o+1)*r.n], v)
	}
	for t := range r.taps() {
		kernels.Sgemm(false, false, m, r.n, r.ce, 1, f[t*m*r.ce:(t+1)*m*r.ce], r.ce, e[r.shift(t):], r.l, 1, out, r.n)
	}
}

// compact copies the valid columns of out [m, n] into dst [m, oh, ow].
func (r *rowLowering) compact(out, dst []float32, m int) {
	for o := range m {
		src, d := out[o*r.n:], dst[o*r.oh*r.ow:]
		for jh := range r.oh {
			copy(d[jh*r.ow:(jh+1)*r.ow], src[jh*r.wq:jh*r.wq+r.ow])
		}
	}
}

// spread writes cols [m, oh, ow] into dst [m, n] with zeros in the dropped columns.
func (r *rowLowering) spread(cols, dst []float32, m int) {
	for o := range m {
		src, d := cols[o*r.oh*r.ow:], dst[o*r.n:(o+1)*r.n]
		for jh := range r.oh {
			row := d[jh*r.wq : (jh+1)*r.wq]
			copy(row, src[jh*r.ow:(jh+1)*r.ow])
			clear(row[r.ow:])
		}
	}
}

// filterAdd adds the filter gradient of one image into the lowered df: per tap,
// df_ab [m, ce] += cols' × E_abᵀ for cols' = spread(cols) [m, n].
func (r *rowLowering) filterAdd(colsP, e []float32, m int, df []float32) {
	for t := range r.taps() {
		kernels.Sgemm(false, true, m, r.ce, r.n, 1, colsP, r.n, e[r.shift(t):], r.l, 1, df[t*m*r.ce:(t+1)*m*r.ce], r.ce)
	}
}

// The batch loops of the lowered paths; the batch loops of prim.go call them.

// colsLowered computes toCols for every image of g on the lowering r.
func colsLowered(g convGeom, r *rowLowering, img, w, bias, out []float32) {
	f := scratch[float32](r.filterLen(g.M))
	defer release(f)
	r.filter(w, g.M, f)
	il, cl := g.imageLen(), g.colsLen()
	parallelRanges(g.N, func(lo, hi int) {
		e := scratch[float32](r.eLen())
		tmp := scratch[float32](g.M * r.n)
		defer release(e)
		defer release(tmp)
		for n := lo; n < hi; n++ {
			r.lower(img[n*il:(n+1)*il], e)
			r.conv(f, e, g.M, bias, tmp)
			r.compact(tmp, out[n*cl:(n+1)*cl], g.M)
		}
	})
}

// filterLowered computes the filter gradient chunk by chunk (as batchFilter) on the
// lowering r into partial [chunks][M, CKK].
func filterLowered(g convGeom, r *rowLowering, img, cols, partial []float32) {
	wl := g.M * g.ckk()
	il, cl := g.imageLen(), g.colsLen()
	chunks := (g.N + filterChunk - 1) / filterChunk
	parallelRanges(chunks, func(lo, hi int) {
		e := scratch[float32](r.eLen())
		colsP := scratch[float32](g.M * r.n)
		df := scratch[float32](r.filterLen(g.M))
		defer release(e)
		defer release(colsP)
		defer release(df)
		for ch := lo; ch < hi; ch++ {
			clear(df)
			for n := ch * filterChunk; n < min((ch+1)*filterChunk, g.N); n++ {
				r.lower(img[n*il:(n+1)*il], e)
				r.spread(cols[n*cl:(n+1)*cl], colsP, g.M)
				r.filterAdd(colsP, e, g.M, df)
			}
			r.unfilter(df, g.M, partial[ch*wl:(ch+1)*wl])
		}
	})
}

// subPhase is one output phase of toImage (see the top of this file).
type subPhase struct {
	geo      kernels.ConvGeometry // the phase's convolution: cols [M, OH, OW] -> [C, nh, nw]
	rh, rw   int                  // its residues
	k        int                  // its taps per image channel, M·UH·UW (0: bias only)
	off      int                  // offset of its filters [C, k] in the phase filters
	oh0, ow0 int                  // image position of its output (0, 0)
	nh, nw   int                  // its outputs per axis (both > 0)
}

// subPlan is toImage by sub-convolutions for one geometry and one W.
type subPlan struct {
	g      convGeom
	phases []subPhase // those with outputs
	w      []float32  // phase filters, from the pool (release)
	most   int        // largest phase output, C·nh·nw: the scratch toImage needs
}

// newSubPlan returns the sub-convolution plan of toImage for g and the weights w [M, C, KH,
// KW], or nil when the geometry takes the col2im path (see the top of this file).
func newSubPlan(g convGeom, w []float32) *subPlan {
	if g.C < subMinChannels || g.M == 0 || g.p() == 0 {
		return nil
	}
	p := &subPlan{g: g}
	size := 0
	for rh := range g.SH {
		uh := max(0, (g.KH-rh+g.SH-1)/g.SH)
		q0h := ceilDiv(g.PadT-rh, g.SH)
		nh := floorDiv(g.H-1+g.PadT-rh, g.SH) - q0h + 1
		for rw := range g.SW {
			uw := max(0, (g.KW-rw+g.SW-1)/g.SW)
			q0w := ceilDiv(g.PadL-rw, g.SW)
			nw := floorDiv(g.W-1+g.PadL-rw, g.SW) - q0w + 1
			if nh <= 0 || nw <= 0 {
				// No image element has these residues (a kernel smaller than the stride,
				// with pads): nothing to compute.
				continue
			}
			ph := subPhase{rh: rh, rw: rw, k: g.M * uh * uw, off: size,
				oh0: q0h*g.SH + rh - g.PadT, ow0: q0w*g.SW + rw - g.PadL, nh: nh, nw: nw}
			ph.geo.Channels = g.M
			ph.geo.Set(2, 0, g.OH, uh, nh, 1, 1, uh-1-q0h)
			ph.geo.Set(2, 1, g.OW, uw, nw, 1, 1, uw-1-q0w)
			if ph.k > 0 && kernels.ConvScratch(&ph.geo) != 0 {
				return nil
			}
			size += g.C * ph.k
			p.most = max(p.most, g.C*nh*nw)
			p.phases = append(p.phases, ph)
		}
	}
	p.w = scratch[float32](size)
	p.phaseFilters(w)
	return p
}

// phaseFilters writes the phases' filters into p.w: per phase (in p.phases order),
// [C, M, UH, UW] with element (c, m, a, b) = W[m, c, rh + SH·(UH-1-a), rw + SW·(UW-1-b)]
// (the phase's taps, reversed).
func (p *subPlan) phaseFilters(w []float32) {
	g := p.g
	kk := g.KH * g.KW
	for _, ph := range p.phases {
		uh, uw := ph.geo.Kernel[1], ph.geo.Kernel[2]
		dst := p.w[ph.off : ph.off+g.C*ph.k]
		i := 0
		for c := range g.C {
			for m := range g.M {
				src := w[(m*g.C+c)*kk : (m*g.C+c+1)*kk]
				for a := range uh {
					row := src[(ph.rh+g.SH*(uh-1-a))*g.KW:]
					for b := range uw {
						dst[i] = row[ph.rw+g.SW*(uw-1-b)]
						i++
					}
				}
			}
		}
	}
}

func (p *subPlan) release() { release(p.w) }

// toImage computes img[C, H, W] = col2im(Wᵀ · cols) + bias (bias may be nil) for one image;
// tmp holds p.most elements.
func (p *subPlan) toImage(cols, bias, img, tmp []float32) {
	g := p.g
	HW := g.H * g.W
	for i := range p.phases {
		ph := &p.phases[i]
		n := ph.nh * ph.nw
		out := tmp[:g.C*n]
		if ph.k == 0 {
			for c := range g.C {
				var b float32
				if bias != nil {
					b = bias[c]
				}
				fill(out[c*n:(c+1)*n], b)
			}
		} else {
			// out [C, nh·nw] = F [C, M·UH·UW] × im2col_phase(cols) + bias
			kernels.Conv(1, &ph.geo, g.C, p.w[ph.off:ph.off+g.C*ph.k], cols, bias, kernels.ActNone, out)
		}
		// out [C, nh, nw] -> img[c, oh0 + jh·SH, ow0 + jw·SW]
		for c := range g.C {
			plane := img[c*HW : (c+1)*HW]
			src := out[c*n : (c+1)*n]
			for jh := range ph.nh {
				s := src[jh*ph.nw : (jh+1)*ph.nw]
				row := plane[(ph.oh0+jh*g.SH)*g.W+ph.ow0:]
				if g.SW == 1 {
					copy(row, s)
					continue
				}
				row = row[:(len(s)-1)*g.SW+1]
				for jw, v := range s {
					row[jw*g.SW] = v
				}
			}
		}
	}
}

// imageSub computes toImage for every image of g on the plan p.
func imageSub(g convGeom, p *subPlan, cols, bias, out []float32) {
	il, cl := g.imageLen(), g.colsLen()
	parallelRanges(g.N, func(lo, hi int) {
		tmp := scratch[float32](p.most)
		defer release(tmp)
		for n := lo; n < hi; n++ {
			p.toImage(cols[n*cl:(n+1)*cl], bias, out[n*il:(n+1)*il], tmp)
		}
	})
}

func fill[F float](s []F, v F) {
	for i := range s {
		s[i] = v
	}
}

// floorDiv is a/b rounded toward negative infinity (b > 0).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilDiv is a/b rounded toward positive infinity (b > 0).
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }
