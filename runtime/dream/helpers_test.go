package dream

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// tinyModel plans TinyModel(opt).
func tinyModel(t testing.TB, opt TinyOptions) *Model {
	t.Helper()
	mp, err := TinyModel(opt)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.New(mp, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randImage is a [1, 3, h, w] image with smooth structure plus noise, in [-1, 1].
func randImage(h, w int, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := tensor.New(tensor.Float32, 1, 3, h, w)
	d := x.F32()
	for c := range 3 {
		fy, fx := 1+rng.Float64()*3, 1+rng.Float64()*3
		for y := range h {
			for i := range w {
				v := 0.6*math.Sin(fy*float64(y)/float64(h)*math.Pi+float64(c))*math.Cos(fx*float64(i)/float64(w)*math.Pi) + 0.3*(rng.Float64()*2-1)
				d[(c*h+y)*w+i] = float32(v)
			}
		}
	}
	return x
}

// newDreamer builds a Dreamer on m with one thread and the given changes to the defaults.
func newDreamer(t testing.TB, m *Model, change func(*Options)) *Dreamer {
	t.Helper()
	opt := Defaults()
	opt.Threads = 1
	if change != nil {
		change(&opt)
	}
	d, err := New(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// lossGrad evaluates the loss and gradient of img as one step of Run would (whole image or
// tiles, per d's options) and returns copies.
func lossGrad(t testing.TB, d *Dreamer, img *tensor.Tensor, seed uint64) (float64, *tensor.Tensor) {
	t.Helper()
	plans, err := d.octavePlans(Size{img.Shape[2], img.Shape[3]})
	if err != nil {
		t.Fatal(err)
	}
	op := plans[len(plans)-1]
	st := d.newOctave(op, img, rand.New(rand.NewPCG(seed, 2)))
	l, err := st.lossAndGrad()
	if err != nil {
		t.Fatal(err)
	}
	return l, st.grad.Clone()
}

// closeTo reports |got-want| <= atol + rtol*|want|.
func closeTo(got, want, atol, rtol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}
