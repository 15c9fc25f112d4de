package gan

import (
	"fmt"
	"math"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/trainer/layers"
)

// BNEps is the variance epsilon of the generator's batch normalisations (PyTorch's default).
const BNEps = 1e-5

// BNShapes lists the parameters of the generator's batch normalisations (NetOptions.
// GenBatchNorm), in order: for the base map and after each transposed convolution, the
// per-channel scale gamma and shift beta.
func BNShapes(c dcgan.Config) []dcgan.ParamShape {
	chans := append([]int{c.GenBase}, c.GenFilters...)
	var ps []dcgan.ParamShape
	for l, ch := range chans {
		ps = append(ps,
			dcgan.ParamShape{Name: fmt.Sprintf("gen.bn%d.gamma", l), Kind: dcgan.KindBias, Shape: []int{ch}},
			dcgan.ParamShape{Name: fmt.Sprintf("gen.bn%d.beta", l), Kind: dcgan.KindBias, Shape: []int{ch}})
	}
	return ps
}

// initBN returns batch-normalisation parameters of c: gamma 1, beta 0.
func initBN(c dcgan.Config) dcgan.Params {
	shapes := BNShapes(c)
	p := dcgan.NewParams(shapes)
	for i := 0; i < len(p); i += 2 {
		for j := range p[i].F32() {
			p[i].F32()[j] = 1
		}
	}
	return p
}

// popStats accumulates batch statistics of equal-size batches into the population's: the mean
// of the batch means, and the mean of (variance + mean²) minus the squared mean — exactly the
// mean and biased variance over all the batches' values together.
type popStats struct {
	n        int
	sum, sq  [][]float64 // per layer, per channel: Σ batch mean, Σ (batch var + batch mean²)
	mean, vr [][]float64
}

func (p *popStats) add(stats []*layers.BNStats) error {
	if p.sum == nil {
		p.sum, p.sq = make([][]float64, len(stats)), make([][]float64, len(stats))
		for l, s := range stats {
			p.sum[l], p.sq[l] = make([]float64, len(s.Mean)), make([]float64, len(s.Mean))
		}
	}
	for l, s := range stats {
		if len(s.Mean) != len(p.sum[l]) || len(s.Var) != len(p.sum[l]) {
			return fmt.Errorf("gan: batch normalisation %d reported %d means and %d variances, want %d", l, len(s.Mean), len(s.Var), len(p.sum[l]))
		}
		for c, m := range s.Mean {
			p.sum[l][c] += m
			p.sq[l][c] += s.Var[c] + m*m
		}
	}
	p.n++
	return nil
}

// result returns the population means and variances per layer and channel.
func (p *popStats) result() (mean, vr [][]float64) {
	mean, vr = make([][]float64, len(p.sum)), make([][]float64, len(p.sum))
	k := float64(p.n)
	for l := range p.sum {
		mean[l], vr[l] = make([]float64, len(p.sum[l])), make([]float64, len(p.sum[l]))
		for c := range p.sum[l] {
			m := p.sum[l][c] / k
			mean[l][c] = m
			vr[l][c] = max(p.sq[l][c]/k-m*m, 0)
		}
	}
	return mean, vr
}

// foldBN returns the generator's parameters (GenShapes order) with batch normalisation l —
// y = gamma·(x - mean)/sqrt(var + eps) + beta per channel, with the given statistics — folded
// into the layer before it: the dense layer's columns of channel c (for the base map, whose
// channel c is columns c·h·w .. (c+1)·h·w - 1) or transposed convolution l-1's output channel
// c are scaled by s = gamma/sqrt(var + eps) and its bias becomes s·(b - mean) + beta. The
// exported generator is then the book's graph, without batch normalisation nodes.
func foldBN(c dcgan.Config, gen, bn dcgan.Params, mean, vr [][]float64) (dcgan.Params, error) {
	chans := append([]int{c.GenBase}, c.GenFilters...)
	if err := gen.Validate(c.GenShapes()); err != nil {
		return nil, err
	}
	if err := bn.Validate(BNShapes(c)); err != nil {
		return nil, err
	}
	if len(mean) != len(chans) || len(vr) != len(chans) {
		return nil, fmt.Errorf("gan: statistics of %d batch normalisations, want %d", len(mean), len(chans))
	}
	out := gen.Clone()
	_, h, w := c.Base()
	for l, ch := range chans {
		if len(mean[l]) != ch || len(vr[l]) != ch {
			return nil, fmt.Errorf("gan: batch normalisation %d: statistics of %d channels, want %d", l, len(mean[l]), ch)
		}
		gamma, beta := bn[2*l].F32(), bn[2*l+1].F32()
		W, B := out[2*l].F32(), out[2*l+1].F32()
		for o := range ch {
			s := float64(gamma[o]) / math.Sqrt(vr[l][o]+BNEps)
			shift := float64(beta[o]) - s*mean[l][o]
			if l == 0 { // dense [L, F·h·w]: columns o·h·w .. (o+1)·h·w - 1
				cols := len(B)
				for j := o * h * w; j < (o+1)*h*w; j++ {
					for r := j; r < len(W); r += cols {
						W[r] = float32(s * float64(W[r]))
					}
					B[j] = float32(s*float64(B[j]) + shift)
				}
				continue
			}
			// transposed convolution [in, out, k, k]: output channel o
			in, k2 := len(W)/(ch*c.Kernel*c.Kernel), c.Kernel*c.Kernel
			for i := range in {
				base := (i*ch + o) * k2
				for j := base; j < base+k2; j++ {
					W[j] = float32(s * float64(W[j]))
				}
			}
			B[o] = float32(s*float64(B[o]) + shift)
		}
	}
	return out, nil
}
