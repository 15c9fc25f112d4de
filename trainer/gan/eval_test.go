package gan

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gendl/gendl/datasets"
	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func TestInceptionScoreHand(t *testing.T) {
	// identical predictions: p(y|x) = p(y), every KL is 0, the score is exp(0) = 1
	uniform := make([]float32, 30*10)
	if m, s, err := InceptionScore(uniform, 30, 10, 3); err != nil || math.Abs(m-1) > 1e-12 || s > 1e-12 {
		t.Errorf("uniform: %v ± %v (%v), want 1 ± 0", m, s, err)
	}
	// certain predictions, classes equally frequent: KL = log K, the score is K (logit margin
	// 60: the softmax is one-hot within e^-60)
	const K = 4
	sure := make([]float32, 8*K)
	for i := range 8 {
		sure[i*K+i%K] = 60
	}
	if m, _, err := InceptionScore(sure, 8, K, 2); err != nil || math.Abs(m-K) > 1e-9 {
		t.Errorf("certain and balanced: %v (%v), want %d", m, err, K)
	}
	// by hand: p1 = (0.8, 0.2), p2 = (0.2, 0.8), p(y) = (0.5, 0.5); KL = 0.8 ln 1.6 + 0.2 ln 0.4
	// = 0.19274475702175... for both, IS = exp(KL) = 1.2125732532083...
	l := []float32{float32(math.Log(0.8)), float32(math.Log(0.2)), float32(math.Log(0.2)), float32(math.Log(0.8))}
	want := math.Exp(0.8*math.Log(1.6) + 0.2*math.Log(0.4))
	if m, _, err := InceptionScore(l, 2, 2, 1); err != nil || math.Abs(m-want) > 1e-6 {
		t.Errorf("hand case: %v (%v), want %v", m, err, want)
	}
	// two splits scoring 1 (uniform) and 2 (certain, balanced): mean 1.5, std 0.5
	two := []float32{0, 0, 0, 0, 60, 0, 0, 60}
	if m, s, err := InceptionScore(two, 4, 2, 2); err != nil || math.Abs(m-1.5) > 1e-9 || math.Abs(s-0.5) > 1e-9 {
		t.Errorf("two splits: %v ± %v (%v), want 1.5 ± 0.5", m, s, err)
	}
	for _, bad := range []struct {
		l        []float32
		n, k, sp int
		want     string
	}{
		{uniform, 30, 9, 1, "logits for"},
		{uniform, 30, 10, 0, "splits"},
		{uniform, 30, 10, 31, "splits"},
		{[]float32{0, float32(math.NaN())}, 1, 2, 1, "NaN"},
	} {
		if _, _, err := InceptionScore(bad.l, bad.n, bad.k, bad.sp); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v", bad.want, err)
		}
	}
}

func diagStats(mean, variances []float64) Stats {
	c := mat.NewSymDense(len(variances), nil)
	for i, v := range variances {
		c.SetSym(i, i, v)
	}
	return Stats{N: 100, Mean: mean, Cov: c}
}

func TestFrechetDistanceHand(t *testing.T) {
	// diagonal covariances: FID = |Δμ|² + Σ (σa - σb)²; here (1-3)² + (2-1)² + (1-3)² + (2-1)²
	// = 4 + 1 + 4 + 1 = 10
	a, b := diagStats([]float64{1, 2}, []float64{1, 4}), diagStats([]float64{3, 1}, []float64{9, 1})
	if d, err := FrechetDistance(a, b); err != nil || math.Abs(d-10) > 1e-9 {
		t.Errorf("diagonal: %v (%v), want 10", d, err)
	}
	// identical feature sets: 0
	rng := rand.New(rand.NewPCG(1, 1))
	f := make([]float32, 200*6)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
	}
	s, err := FeatureStats(f, 200, 6)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := FrechetDistance(s, s); err != nil || math.Abs(d) > 1e-9 {
		t.Errorf("identical sets: %v (%v), want 0", d, err)
	}
	// shifting every vector by v adds |v|² and nothing else
	g := append([]float32(nil), f...)
	v := []float32{1, -2, 0.5, 0, 0, 3}
	for i := range g {
		g[i] += v[i%6]
	}
	s2, err := FeatureStats(g, 200, 6)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := FrechetDistance(s, s2); err != nil || math.Abs(d-14.25) > 1e-4 {
		t.Errorf("shifted set: %v (%v), want |v|² = 14.25", d, err)
	}
	// general covariances, against an independent route: Tr (Σa Σb)^½ = Σ √λ(Σa Σb) from the
	// non-symmetric eigendecomposition of the product
	h := make([]float32, 300*6)
	for i := range h {
		h[i] = float32(rng.NormFloat64()*float64(1+i%3)) + float32(i%6)*0.1*f[i%len(f)]
	}
	s3, err := FeatureStats(h, 300, 6)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FrechetDistance(s, s3)
	if err != nil {
		t.Fatal(err)
	}
	var prod mat.Dense
	prod.Mul(s.Cov, s3.Cov)
	var eig mat.Eigen
	if !eig.Factorize(&prod, mat.EigenNone) {
		t.Fatal("eigen failed")
	}
	var tr float64
	for _, l := range eig.Values(nil) {
		tr += math.Sqrt(math.Max(real(l), 0))
	}
	var m2 float64
	for j := range s.Mean {
		m2 += (s.Mean[j] - s3.Mean[j]) * (s.Mean[j] - s3.Mean[j])
	}
	want := m2 + mat.Trace(s.Cov) + mat.Trace(s3.Cov) - 2*tr
	if math.Abs(got-want) > 1e-9*math.Max(1, want) {
		t.Errorf("general case: %v, want %v", got, want)
	}
	// FeatureStats: the unbiased covariance of (0,0), (2,0), (0,2), (2,2) is diag(4/3, 4/3)
	st, err := FeatureStats([]float32{0, 0, 2, 0, 0, 2, 2, 2}, 4, 2)
	if err != nil || st.Mean[0] != 1 || st.Mean[1] != 1 || math.Abs(st.Cov.At(0, 0)-4.0/3) > 1e-12 || st.Cov.At(0, 1) != 0 {
		t.Errorf("stats: %+v %v", st, err)
	}
	if _, err := FeatureStats([]float32{1, 2}, 1, 2); err == nil {
		t.Error("one vector: no error")
	}
	if _, err := FrechetDistance(s, diagStats([]float64{0}, []float64{1})); err == nil {
		t.Error("different sizes: no error")
	}
}

// Evaluate end to end on tiny contract models: the real set is the generator's own images,
// so the Fréchet distance is 0 and both inception scores agree.
func TestEvaluate(t *testing.T) {
	load := func(kind imagegen.Kind, opt imagegen.TinyOptions) *imagegen.Model {
		m, err := imagegen.Tiny(kind, opt)
		if err != nil {
			t.Fatal(err)
		}
		mm, err := imagegen.FromProto(m, string(kind), engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return mm
	}
	gen := load(imagegen.DCGANGenerator, imagegen.TinyOptions{LatentDim: 3, Seed: 1})
	clf := load(imagegen.Classifier, imagegen.TinyOptions{Seed: 2})
	opt := EvalOptions{Samples: 200, Splits: 4, Seed: 7, Threads: 1}
	z := tensor.New(tensor.Float32, opt.Samples, 3)
	normals(z.F32(), rand.New(rand.NewPCG(opt.Seed, evalStream)))
	x, err := generate(gen, z, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range x.F32() {
		if v < 0 || v > 1 {
			t.Fatalf("generated pixel %v outside [0, 1]", v)
		}
	}
	opt.Real = &datasets.Dataset{Name: "self", Images: x, N: opt.Samples, C: 1, H: 4, W: 4}
	rep, err := Evaluate(gen, clf, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Real == nil || rep.Model.FID == nil || math.Abs(*rep.Model.FID) > 1e-6 || math.Abs(rep.Model.IS-rep.Real.IS) > 1e-9 {
		t.Errorf("self-evaluation: %+v, want FID 0 and equal scores", rep)
	}
	if rep.Model.IS < 1 || rep.Model.IS > 10 {
		t.Errorf("IS %v outside [1, 10]", rep.Model.IS)
	}
	var sum float64
	for _, f := range rep.Model.ClassFractions {
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("class fractions sum to %v", sum)
	}
	// mismatched models
	big := load(imagegen.Classifier, imagegen.TinyOptions{C: 1, H: 8, W: 8})
	if _, err := Evaluate(gen, big, EvalOptions{Samples: 10, Splits: 1}); err == nil || !strings.Contains(err.Error(), "takes 1,8,8") {
		t.Errorf("shape mismatch: %v", err)
	}
	if _, err := Evaluate(clf, clf, EvalOptions{}); err == nil || !strings.Contains(err.Error(), "want a dcgan-generator") {
		t.Errorf("classifier as generator: %v", err)
	}
}
