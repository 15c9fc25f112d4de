package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// awayFromZero moves every element of d at least 0.05 from 0, so that finite differences of
// step fdStep never straddle LeakyReLU's kink.
func awayFromZero(d *tensor.Dense) {
	x := d.Data().([]float64)
	for i, v := range x {
		if math.Abs(v) < 0.05 {
			x[i] = math.Copysign(0.05+math.Abs(v), v)
		}
	}
}

func TestLeakyReLUGradients(t *testing.T) {
	for _, alpha := range []float64{0, 0.2} {
		rng := rand.New(rand.NewPCG(1, 2))
		vals := []*tensor.Dense{randomDense(tensor.Float64, []int{3, 4, 5}, rng, 1)}
		awayFromZero(vals[0])
		grad := []bool{true}
		n := newNet(t, vals, grad, func(in []*G.Node) (*G.Node, error) { return LeakyReLU(in[0], alpha) }, 1)
		checkGradients(t, n, vals, grad, 1000)
		n.run(t)
		x, y := vals[0].Data().([]float64), n.out.Value().Data().([]float64)
		for i := range x {
			want := x[i]
			if want <= 0 {
				want *= alpha
			}
			if y[i] != want {
				t.Fatalf("alpha %g: LeakyReLU(%g) = %g, want %g", alpha, x[i], y[i], want)
			}
		}
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 2), G.WithName("x"))
	if _, err := LeakyReLU(x, 1.5); err == nil {
		t.Error("alpha 1.5: no error")
	}
}

// SigmoidBCESum against its definition -Σ t·log σ(l) + (1-t)·log(1-σ(l)) in float64 (moderate
// logits, where the definition is accurate), its gradient against finite differences, and its
// value at logits where σ rounds to 0 or 1 in float32 (finite; Gorgonia's BinaryXent is not).
func TestSigmoidBCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	logits := randomDense(tensor.Float64, []int{4, 6}, rng, 3)
	targets := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(4, 6))
	for i := range targets.Data().([]float64) {
		targets.Data().([]float64)[i] = rng.Float64()
	}
	vals := []*tensor.Dense{logits, targets}
	grad := []bool{true, false}
	n := newNet(t, vals, grad, func(in []*G.Node) (*G.Node, error) { return SigmoidBCESum(in[0], in[1]) }, 1)
	got := n.run(t)
	var want float64
	for i, l := range logits.Data().([]float64) {
		tt := targets.Data().([]float64)[i]
		p := 1 / (1 + math.Exp(-l))
		want -= tt*math.Log(p) + (1-tt)*math.Log(1-p)
	}
	if math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("SigmoidBCESum = %.12g, definition %.12g", got, want)
	}
	checkGradients(t, n, vals, grad, 1000)

	// extreme logits in float32: loss |l| for a wrong sign, about e^-|l| for the right one
	l32 := tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float32{-120, 120, 40, -40}))
	t32 := tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float32{1, 0, 1, 0}))
	n32 := newNet(t, []*tensor.Dense{l32, t32}, []bool{true, false}, func(in []*G.Node) (*G.Node, error) { return SigmoidBCESum(in[0], in[1]) }, 1)
	v := n32.run(t)
	if math.Abs(v-240) > 1e-3 {
		t.Errorf("float32 BCE at logits ±120 (wrong side) and ±40 (right side) = %g, want 240", v)
	}
	gr := n32.grads[0].Value().Data().([]float32)
	for i, w := range []float32{-1, 1, 0, 0} {
		if math.Abs(float64(gr[i]-w)) > 1e-6 {
			t.Errorf("gradient %d = %g, want %g", i, gr[i], w)
		}
	}
}

func TestDenseGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := []*tensor.Dense{
		randomDense(tensor.Float64, []int{5, 7}, rng, 1),
		randomDense(tensor.Float64, []int{7, 3}, rng, 1),
		randomDense(tensor.Float64, BiasRow(3), rng, 1),
	}
	grad := []bool{true, true, true}
	n := newNet(t, vals, grad, func(in []*G.Node) (*G.Node, error) { return Dense(in[0], in[1], in[2]) }, 2)
	checkGradients(t, n, vals, grad, 1000)
	n.run(t)
	x, w, b := vals[0].Data().([]float64), vals[1].Data().([]float64), vals[2].Data().([]float64)
	y := n.out.Value().Data().([]float64)
	for i := range 5 {
		for j := range 3 {
			want := b[j]
			for k := range 7 {
				want += x[i*7+k] * w[k*3+j]
			}
			if math.Abs(y[i*3+j]-want) > 1e-12 {
				t.Fatalf("Dense[%d,%d] = %g, want %g", i, j, y[i*3+j], want)
			}
		}
	}
}

// A conv -> LeakyReLU -> flatten -> dense -> BCE chain: the gradients through Reshape and the
// custom ops compose (finite differences on every input).
func TestChainGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	vals := []*tensor.Dense{
		randomDense(tensor.Float64, []int{2, 2, 6, 6}, rng, 1),
		randomDense(tensor.Float64, []int{3, 2, 3, 3}, rng, 0.5),
		randomDense(tensor.Float64, []int{3}, rng, 0.1),
		randomDense(tensor.Float64, []int{27, 4}, rng, 0.3),
		randomDense(tensor.Float64, BiasRow(4), rng, 0.1),
		randomDense(tensor.Float64, []int{2, 4}, rng, 0.3),
	}
	sp := ConvSpec{Stride: [2]int{2, 2}, Pads: SamePads([2]int{6, 6}, [2]int{3, 3}, [2]int{2, 2})}
	build := func(in []*G.Node) (*G.Node, error) {
		h, err := Conv2d(in[0], in[1], in[2], sp)
		if err != nil {
			return nil, err
		}
		if h, err = LeakyReLU(h, 0.2); err != nil {
			return nil, err
		}
		if h, err = Flatten(h); err != nil {
			return nil, err
		}
		if h, err = Dense(h, in[3], in[4]); err != nil {
			return nil, err
		}
		return SigmoidBCESum(h, in[5])
	}
	grad := []bool{true, true, true, true, true, false}
	n := newNet(t, vals, grad, build, 3)
	checkGradients(t, n, vals, grad, 40)
}

func TestDropout(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(100, 100), G.WithName("x"), G.WithInit(G.Ones()))
	d, err := NewDropout(x, 0.25, "mask")
	if err != nil {
		t.Fatal(err)
	}
	y, err := d.Apply(x)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := G.Sum(y)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	var sums []float32
	for seed := range uint64(2) {
		d.Resample(rand.New(rand.NewPCG(seed, 0)))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum.Value().Data().(float32))
		kept := 0
		for _, v := range y.Value().Data().([]float32) {
			switch v {
			case 0:
			case 1 / 0.75:
				kept++
			default:
				t.Fatalf("dropout output %g, want 0 or 1/0.75", v)
			}
		}
		// 10,000 Bernoulli(0.75) draws: standard deviation sqrt(10000·0.75·0.25) = 43; 5 sigma
		if math.Abs(float64(kept)-7500) > 5*43 {
			t.Errorf("kept %d of 10000, want about 7500", kept)
		}
		vm.Reset()
	}
	if sums[0] == sums[1] {
		t.Error("two seeds gave the same mask")
	}
	if _, err := NewDropout(x, 1, "m2"); err == nil {
		t.Error("rate 1: no error")
	}
}

func TestInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	w := make([]float32, 64*32*9)
	in, out := Fans([]int{64, 32, 3, 3})
	if in != 288 || out != 576 {
		t.Fatalf("Fans(conv [64 32 3 3]) = %d, %d, want 288, 576", in, out)
	}
	GlorotUniform(w, in, out, rng)
	limit := math.Sqrt(6.0 / (288 + 576))
	var ss float64
	for _, v := range w {
		if math.Abs(float64(v)) > limit {
			t.Fatalf("Glorot value %g outside ±%g", v, limit)
		}
		ss += float64(v) * float64(v)
	}
	// uniform in ±a has variance a²/3; 18,432 draws: relative error of the mean square ~1%
	if got, want := ss/float64(len(w)), limit*limit/3; math.Abs(got-want) > 0.05*want {
		t.Errorf("Glorot variance %g, want %g", got, want)
	}
	HeNormal(w, in, rng)
	ss = 0
	for _, v := range w {
		ss += float64(v) * float64(v)
	}
	if got, want := ss/float64(len(w)), 2.0/288; math.Abs(got-want) > 0.05*want {
		t.Errorf("He variance %g, want %g", got, want)
	}
}
