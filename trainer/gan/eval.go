package gan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"gonum.org/v1/gonum/mat"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/tensor"
)

// InceptionScore returns the classifier inception score of n predictions given as logits
// [n, k]: exp(E_x KL(p(y|x) || p(y))), p(y|x) the softmax of a row and p(y) the mean of
// p(y|x) over the split, computed on `splits` consecutive equal splits (the remainder left
// out) and returned as the mean and the standard deviation (population, as Salimans et al.'s
// code) over the splits. Sums are in float64. It is 1 when every prediction is the same and k
// when the predictions are certain and the classes equally frequent.
func InceptionScore(logits []float32, n, k, splits int) (mean, std float64, err error) {
	if n < 1 || k < 1 || len(logits) != n*k {
		return 0, 0, fmt.Errorf("gan: inception score: %d logits for %d predictions of %d classes", len(logits), n, k)
	}
	if splits < 1 || splits > n {
		return 0, 0, fmt.Errorf("gan: inception score: %d splits of %d predictions", splits, n)
	}
	p := make([]float64, n*k)
	for i := range n {
		row, out := logits[i*k:(i+1)*k], p[i*k:(i+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			if !finite(float64(v)) {
				return 0, 0, fmt.Errorf("gan: inception score: logit of prediction %d is %v", i, v)
			}
			mx = max(mx, float64(v))
		}
		var s float64
		for j, v := range row {
			out[j] = math.Exp(float64(v) - mx)
			s += out[j]
		}
		for j := range out {
			out[j] /= s
		}
	}
	per := n / splits
	scores := make([]float64, splits)
	py := make([]float64, k)
	for s := range splits {
		clear(py)
		for i := s * per; i < (s+1)*per; i++ {
			for j := range k {
				py[j] += p[i*k+j] / float64(per)
			}
		}
		var kl float64
		for i := s * per; i < (s+1)*per; i++ {
			for j := range k {
				if q := p[i*k+j]; q > 0 {
					kl += q * (math.Log(q) - math.Log(py[j]))
				}
			}
		}
		scores[s] = math.Exp(kl / float64(per))
	}
	for _, v := range scores {
		mean += v / float64(splits)
	}
	for _, v := range scores {
		std += (v - mean) * (v - mean) / float64(splits)
	}
	return mean, math.Sqrt(std), nil
}

// Stats are the mean and covariance of a set of feature vectors.
type Stats struct {
	N    int
	Mean []float64
	Cov  *mat.SymDense
}

// FeatureStats returns the mean and the (unbiased, n-1) covariance of n feature vectors
// [n, d], in float64.
func FeatureStats(f []float32, n, d int) (Stats, error) {
	if n < 2 || d < 1 || len(f) != n*d {
		return Stats{}, fmt.Errorf("gan: feature statistics: %d values for %d vectors of %d (want at least 2 vectors)", len(f), n, d)
	}
	mean := make([]float64, d)
	for i := range n {
		for j, v := range f[i*d : (i+1)*d] {
			if !finite(float64(v)) {
				return Stats{}, fmt.Errorf("gan: feature statistics: feature %d of vector %d is %v", j, i, v)
			}
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j, v := range f[i*d : (i+1)*d] {
			x.Set(i, j, float64(v)-mean[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), x.T())
	return Stats{N: n, Mean: mean, Cov: cov}, nil
}

// FrechetDistance returns the Fréchet distance between the Gaussians fitted to two feature
// sets (Heusel et al. 2017, FID):
//
//	|μa - μb|² + Tr(Σa + Σb - 2 (Σa Σb)^½)
//
// Tr (Σa Σb)^½ is computed as Σ √λ over the eigenvalues λ of the symmetric positive
// semi-definite Σa^½ Σb Σa^½ (the same eigenvalues as Σa Σb); round-off negatives are taken
// as 0.
func FrechetDistance(a, b Stats) (float64, error) {
	d := len(a.Mean)
	if d == 0 || len(b.Mean) != d || a.Cov == nil || b.Cov == nil || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("gan: Fréchet distance: feature sizes %d and %d differ", len(a.Mean), len(b.Mean))
	}
	var m2 float64
	for j := range d {
		m2 += (a.Mean[j] - b.Mean[j]) * (a.Mean[j] - b.Mean[j])
	}
	sa, err := sqrtSym(a.Cov)
	if err != nil {
		return 0, err
	}
	var t mat.Dense
	t.Mul(sa, b.Cov)
	t.Mul(&t, sa)
	m := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			m.SetSym(i, j, (t.At(i, j)+t.At(j, i))/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(m, false) {
		return 0, fmt.Errorf("gan: Fréchet distance: eigendecomposition failed")
	}
	var trSqrt float64
	for _, l := range es.Values(nil) {
		trSqrt += math.Sqrt(max(l, 0))
	}
	return m2 + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*trSqrt, nil
}

// sqrtSym returns the symmetric square root of a positive semi-definite matrix.
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, fmt.Errorf("gan: Fréchet distance: eigendecomposition failed")
	}
	vals := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			scaled.Set(i, j, v.At(i, j)*math.Sqrt(max(vals[j], 0)))
		}
	}
	var out mat.Dense
	out.Mul(scaled, v.T())
	return &out, nil
}

// EvalOptions configure Evaluate.
type EvalOptions struct {
	// Samples is the number of generated images scored (0: 10,000).
	Samples int
	// Splits of the inception score (0: 10).
	Splits int
	// Seed draws the latent points.
	Seed uint64
	// Real is the real image set scored beside the model (typically the test set); nil: none.
	Real *datasets.Dataset
	// Threads of the runtime sessions (0: GOMAXPROCS).
	Threads int
}

// Score is the evaluation of one image set.
type Score struct {
	Images int `json:"images"`
	// IS and ISStd: the classifier inception score, mean and std over the splits.
	IS    float64 `json:"inception_score"`
	ISStd float64 `json:"inception_score_std"`
	// FID is the Fréchet distance of its classifier features to the real set's (nil when
	// there is no real set, or for the real set itself).
	FID *float64 `json:"fid,omitempty"`
	// ClassFractions is the share of images classified as each class (mode coverage).
	ClassFractions []float64 `json:"class_fractions"`
}

// Report is the result of Evaluate.
type Report struct {
	Model Score  `json:"model"`
	Real  *Score `json:"real,omitempty"`
}

// Evaluate scores a generator with a classifier (both following the imagegen contract):
// the classifier inception score of opt.Samples images drawn from N(0, I) with opt.Seed,
// and, with opt.Real, the Fréchet distance between the classifier features of those images
// and of the real ones, and the real set's own inception score.
func Evaluate(gen, clf *imagegen.Model, opt EvalOptions) (Report, error) {
	if err := gen.Expect(imagegen.DCGANGenerator, imagegen.VAEDecoder); err != nil {
		return Report{}, fmt.Errorf("gan: %w", err)
	}
	if err := clf.Expect(imagegen.Classifier); err != nil {
		return Report{}, fmt.Errorf("gan: %w", err)
	}
	gi, ci := gen.Info, clf.Info
	if gi.C != ci.C || gi.H != ci.H || gi.W != ci.W {
		return Report{}, fmt.Errorf("gan: the generator makes %s images, the classifier takes %s", gi.ImageShape(), ci.ImageShape())
	}
	if opt.Samples == 0 {
		opt.Samples = 10000
	}
	if opt.Splits == 0 {
		opt.Splits = 10
	}
	if opt.Threads == 0 {
		opt.Threads = runtime.GOMAXPROCS(0)
	}
	if opt.Samples < opt.Splits || opt.Samples < 2 {
		return Report{}, fmt.Errorf("gan: %d samples for %d splits", opt.Samples, opt.Splits)
	}
	z := tensor.New(tensor.Float32, opt.Samples, gi.LatentDim)
	normals(z.F32(), rand.New(rand.NewPCG(opt.Seed, evalStream)))
	imgs, err := generate(gen, z, opt.Threads)
	if err != nil {
		return Report{}, err
	}
	cs := clf.NewSession(opt.Threads)
	var rep Report
	var realStats *Stats
	if opt.Real != nil {
		d := opt.Real
		if d.C != ci.C || d.H != ci.H || d.W != ci.W {
			return Report{}, fmt.Errorf("gan: the real images (%s) are %dx%dx%d, the classifier takes %s", d.Name, d.C, d.H, d.W, ci.ImageShape())
		}
		s, st, err := scoreImages(cs, d.Images, opt.Splits, nil)
		if err != nil {
			return Report{}, err
		}
		rep.Real, realStats = &s, &st
	}
	if rep.Model, _, err = scoreImages(cs, imgs, opt.Splits, realStats); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// generate runs a generator on z and returns its images in [0, 1] (a DCGAN's [-1, 1] mapped
// by (x+1)/2), clamped.
func generate(gen *imagegen.Model, z *tensor.Tensor, threads int) (*tensor.Tensor, error) {
	x, err := gen.NewSession(threads).Generate(z)
	if err != nil {
		return nil, fmt.Errorf("gan: %w", err)
	}
	if gen.Info.Kind == imagegen.DCGANGenerator {
		for i, v := range x.F32() {
			x.F32()[i] = min(max((v+1)/2, 0), 1)
		}
	}
	return x, nil
}

// scoreImages classifies images [N, C, H, W] in [0, 1] and scores them (FID against real when
// given).
func scoreImages(cs *imagegen.Session, x *tensor.Tensor, splits int, real *Stats) (Score, Stats, error) {
	logits, feats, err := cs.Classify(x)
	if err != nil {
		return Score{}, Stats{}, fmt.Errorf("gan: %w", err)
	}
	n, k, d := logits.Shape[0], logits.Shape[1], feats.Shape[1]
	s := Score{Images: n, ClassFractions: make([]float64, k)}
	if s.IS, s.ISStd, err = InceptionScore(logits.F32(), n, k, min(splits, n)); err != nil {
		return s, Stats{}, err
	}
	for i := range n {
		row := logits.F32()[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		s.ClassFractions[best] += 1 / float64(n)
	}
	st, err := FeatureStats(feats.F32(), n, d)
	if err != nil {
		return s, st, err
	}
	if real != nil {
		f, err := FrechetDistance(st, *real)
		if err != nil {
			return s, st, err
		}
		s.FID = &f
	}
	return s, st, nil
}

// inceptionScore scores the current generator with the run's classifier on EvalSamples
// images from fixed noise: the mean over splits of 1,000 images, as `gendl-train eval gan`'s
// 10,000 in 10 splits (one split under 2,000 samples). The split size matters: each split's
// class marginal comes from its own images, and a small split's is less even than the
// generator's: the embedded default's 10,000 images score 8.536 in splits of 1,000 and 8.421
// in splits of 200.
func (t *Trainer) inceptionScore(averaged bool) (float64, error) {
	g, err := t.exported(averaged)
	if err != nil {
		return 0, err
	}
	splits := max(1, t.cfg.EvalSamples/1000)
	rep, err := Evaluate(g, t.clf, EvalOptions{Samples: t.cfg.EvalSamples, Splits: splits, Seed: t.cfg.Seed})
	if err != nil {
		return 0, err
	}
	return rep.Model.IS, nil
}
