package gan

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/trainer/layers"
)

// randomBN returns batch-normalisation parameters with gamma around 1 and beta around 0.
func randomBN(c dcgan.Config, seed uint64) dcgan.Params {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := initBN(c)
	for i, t := range p {
		for j := range t.F32() {
			t.F32()[j] += float32(0.3 * rng.NormFloat64())
			if i%2 == 0 && t.F32()[j] < 0.2 { // gamma: keep it away from 0
				t.F32()[j] = 0.2
			}
		}
	}
	return p
}

func withBN(gen, bn dcgan.Params) dcgan.Params {
	return append(append(dcgan.Params(nil), gen...), bn...)
}

// The generator's loss through the discriminator with batch normalisation, with respect to
// G's parameters including gamma and beta, against central differences in float64.
func TestGeneratorGradientsBatchNorm(t *testing.T) {
	c := dcgan.Tiny()
	gen, disc := randomParams(c, 12)
	shapes := append(c.GenShapes(), BNShapes(c)...)
	gp, dp := to64(shapes, withBN(gen, randomBN(c, 12))), to64(c.DiscShapes(), disc)
	const B = 3
	net, err := NewNetWith(c, GANStep, B, gp, dp, NetOptions{GenBatchNorm: true})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if len(net.Grads) != len(gp) || len(net.BN) != 1+len(c.GenFilters) {
		t.Fatalf("%d gradients and %d statistics, want %d and %d", len(net.Grads), len(net.BN), len(gp), 1+len(c.GenFilters))
	}
	rng := rand.New(rand.NewPCG(14, 14))
	net.Dropout().Resample(rng)
	fdCheck(t, net, gp, shapes, normals64(B*c.LatentDim, rng), []float64{1, 1, 1})
}

// Folding a batch's own statistics into the weights reproduces the training graph's output on
// that batch (batch normalisation in training mode) from the exported file, which has no
// batch normalisation nodes: the fold is exact up to float32 rounding.
func TestFoldBatchNorm(t *testing.T) {
	for _, c := range []dcgan.Config{dcgan.Tiny(), dcgan.DefaultConfig()} {
		gen, _ := randomParams(c, 15)
		bn := randomBN(c, 15)
		const B = 6
		net, err := NewNetWith(c, GenOnly, B, DenseParams(append(c.GenShapes(), BNShapes(c)...), withBN(gen, bn)), nil, NetOptions{GenBatchNorm: true})
		if err != nil {
			t.Fatal(err)
		}
		z := make([]float32, B*c.LatentDim)
		normals(z, rand.New(rand.NewPCG(16, 16)))
		if _, err := net.Run(z, nil); err != nil {
			t.Fatal(err)
		}
		imgs, err := net.ImagesData()
		if err != nil {
			t.Fatal(err)
		}
		want := append([]float32(nil), imgs.([]float32)...)
		var ps popStats
		if err := ps.add(net.BN); err != nil {
			t.Fatal(err)
		}
		net.Close()
		mean, vr := ps.result()
		folded, err := foldBN(c, gen, bn, mean, vr)
		if err != nil {
			t.Fatal(err)
		}
		got := runExport(t, c, folded, z)
		var maxDiff, spread float64
		for i, v := range got.F32() {
			maxDiff = max(maxDiff, math.Abs(float64(v-want[i])))
			spread = max(spread, math.Abs(float64(want[i]-want[0])))
		}
		t.Logf("%v: max |folded export - training graph| = %.3g (outputs spread %.3g)", c.ImageShape, maxDiff, spread)
		if maxDiff > 2e-5 || math.IsNaN(maxDiff) {
			t.Errorf("%v: max |folded export - training graph| = %.3g, want <= 2e-5", c.ImageShape, maxDiff)
		}
		if spread < 0.01 {
			t.Errorf("%v: the images hardly vary (%.3g): the test would not see a wrong fold", c.ImageShape, spread)
		}
	}
}

// popStats over k equal batches gives the mean and biased variance of all their values
// together; on the generator, the first batch normalisation's statistics over k batches of B
// equal those of one batch of k·B (deeper layers' inputs depend on the batch through the
// normalisations before them, so only the first is comparable this way).
func TestPopulationStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	const k, n, chans = 5, 7, 3
	vals := make([][]float64, chans)
	var ps popStats
	for range k {
		st := &layers.BNStats{Mean: make([]float64, chans), Var: make([]float64, chans)}
		for ch := range chans {
			batch := make([]float64, n)
			for i := range batch {
				batch[i] = 3*rng.NormFloat64() + float64(ch) + rng.Float64()
			}
			vals[ch] = append(vals[ch], batch...)
			st.Mean[ch], st.Var[ch] = meanVar(batch)
		}
		if err := ps.add([]*layers.BNStats{st}); err != nil {
			t.Fatal(err)
		}
	}
	mean, vr := ps.result()
	for ch := range chans {
		m, v := meanVar(vals[ch])
		if math.Abs(mean[0][ch]-m) > 1e-12*(1+math.Abs(m)) || math.Abs(vr[0][ch]-v) > 1e-12*(1+v) {
			t.Errorf("channel %d: population %v, %v; all values %v, %v", ch, mean[0][ch], vr[0][ch], m, v)
		}
	}
	if err := ps.add([]*layers.BNStats{{Mean: []float64{1}, Var: []float64{1}}}); err == nil {
		t.Error("statistics of another channel count were accepted")
	}

	c := dcgan.Tiny()
	gen, _ := randomParams(c, 17)
	bn := randomBN(c, 17)
	shapes := append(c.GenShapes(), BNShapes(c)...)
	const B = 4
	z := make([]float32, k*B*c.LatentDim)
	normals(z, rand.New(rand.NewPCG(18, 18)))
	run := func(batch int, zs []float32) []*layers.BNStats {
		net, err := NewNetWith(c, GenOnly, batch, DenseParams(shapes, withBN(gen, bn)), nil, NetOptions{GenBatchNorm: true})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		if _, err := net.Run(zs, nil); err != nil {
			t.Fatal(err)
		}
		return net.BN
	}
	whole := run(k*B, z)
	var pn popStats
	L := c.LatentDim
	for i := range k {
		if err := pn.add(run(B, z[i*B*L:(i+1)*B*L])); err != nil {
			t.Fatal(err)
		}
	}
	mean, vr = pn.result()
	s := whole[0]
	for ch := range s.Mean {
		if d := math.Abs(mean[0][ch] - s.Mean[ch]); d > 1e-5*(1+math.Abs(s.Mean[ch])) {
			t.Errorf("channel %d: mean %v, one batch %v", ch, mean[0][ch], s.Mean[ch])
		}
		if d := math.Abs(vr[0][ch] - s.Var[ch]); d > 1e-5*(1+s.Var[ch]) {
			t.Errorf("channel %d: variance %v, one batch %v", ch, vr[0][ch], s.Var[ch])
		}
	}
}

func meanVar(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, v / float64(len(x))
}

// A trainer with batch normalisation and EMA trains, exports a file whose generator equals
// GeneratorParams (folded), and resumes exactly.
func TestTrainBatchNorm(t *testing.T) {
	full := tinyConfig(t)
	full.Optimizer, full.EMA, full.GenBatchNorm = Adam, 0.9, true
	full.Out = t.TempDir() + "/full.onnx"
	if err := Train(full); err != nil {
		t.Fatal(err)
	}
	part := tinyConfig(t)
	part.Optimizer, part.EMA, part.GenBatchNorm, part.MaxSteps = Adam, 0.9, true, 3
	if err := Train(part); err != nil {
		t.Fatal(err)
	}
	resumed := part
	resumed.MaxSteps, resumed.Resume, resumed.GenBatchNorm = 0, true, false // the stored setting wins
	resumed.Out = t.TempDir() + "/resumed.onnx"
	tr, err := NewTrainer(resumed)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if !tr.cfg.GenBatchNorm || len(tr.bn) == 0 {
		t.Fatal("resume lost the batch normalisation setting")
	}
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Export(resumed.Out); err != nil {
		t.Fatal(err)
	}
	if !sameExports(t, full.Out, resumed.Out) {
		t.Error("resumed generator differs from the uninterrupted one")
	}
	g, err := tr.Generator()
	if err != nil {
		t.Fatal(err)
	}
	b, err := dcgan.LoadFile(resumed.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(g.Slices(), b.Params.Slices()) {
		t.Error("the exported generator is not GeneratorParams(true)")
	}
	live, err := tr.GeneratorParams(false)
	if err != nil {
		t.Fatal(err)
	}
	if equal(live.Slices(), g.Slices()) {
		t.Error("the live and the averaged generators are equal")
	}
}
