package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gendl/gendl/kernels/gonumblas"
	"github.com/gendl/gendl/models/charlstm"
)

// The adapter is what gorgonia.Use and tensor.Use take.
var (
	_ G.BLAS      = gonumblas.Implementation{}
	_ tensor.BLAS = gonumblas.Implementation{}
)

// restoreBLAS returns a function that puts back Gorgonia's and tensor's current BLAS.
func restoreBLAS() func() {
	prevG, prevT := G.WhichBLAS(), tensor.WhichBLAS()
	return func() { G.Use(prevG); tensor.Use(prevT) }
}

func TestUseGendlBLAS(t *testing.T) {
	defer restoreBLAS()()
	UseGendlBLAS()
	if !UsingGendlBLAS() {
		t.Fatalf("after UseGendlBLAS: gorgonia uses %T, tensor %T", G.WhichBLAS(), tensor.WhichBLAS())
	}
	UseGendlBLAS() // idempotent
	if !UsingGendlBLAS() {
		t.Fatal("a second UseGendlBLAS undid the first")
	}
	UseGonumBLAS()
	_, g := G.WhichBLAS().(gonum.Implementation)
	_, tt := tensor.WhichBLAS().(gonum.Implementation)
	if !g || !tt || UsingGendlBLAS() {
		t.Fatalf("after UseGonumBLAS: gorgonia uses %T, tensor %T", G.WhichBLAS(), tensor.WhichBLAS())
	}
}

// TestTrainStepSameWithGendlBLAS runs one float32 training step of a char-LSTM large enough
// that its products are split over threads (gates [256, 96]: 2·256·96·64 > 2 MFLOP) with
// gonum's BLAS and with ours, and compares the loss and every gradient. Both sum in float32 in
// different orders, so they agree to rounding: the loss within 1e-5 relative, each gradient
// element within 1e-4 of the largest element of that gradient.
func TestTrainStepSameWithGendlBLAS(t *testing.T) {
	defer restoreBLAS()()
	for _, target := range []string{charlstm.TargetNext, charlstm.TargetShifted} {
		t.Run(target, func(t *testing.T) {
			cfg := charlstm.Tiny()
			cfg.Vocabulary = ""
			for r := rune(40); len([]rune(cfg.Vocabulary)) < 30; r++ {
				cfg.Vocabulary += string(r)
			}
			cfg.Hidden, cfg.MaxLen, cfg.Target = 64, 5, target
			const batch = 96
			rng := rand.New(rand.NewPCG(5, 6))
			p, err := charlstm.NewParams(cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			// the reference graph: the fused ops call gendl's SGEMM directly, whatever Gorgonia uses
			net, err := New(cfg, DenseParams(cfg, p), Options{Batch: batch, Gradients: true, Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			x, y := blasBatch(cfg, batch, rng)
			run := func() (float64, [][]float32) {
				loss, err := net.Run(x, y)
				if err != nil {
					t.Fatal(err)
				}
				var grads [][]float32
				for k := range net.Grads {
					d, err := net.GradData(k)
					if err != nil {
						t.Fatal(err)
					}
					grads = append(grads, append([]float32(nil), d.([]float32)...))
				}
				return loss, grads
			}
			UseGonumBLAS()
			wantLoss, wantGrads := run()
			UseGendlBLAS()
			gotLoss, gotGrads := run()
			if math.Abs(gotLoss-wantLoss) > 1e-5*math.Abs(wantLoss) {
				t.Errorf("loss %.8g with gendl's BLAS, %.8g with gonum's", gotLoss, wantLoss)
			}
			for k, want := range wantGrads {
				scale := 0.0
				for _, v := range want {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				for i, v := range gotGrads[k] {
					if d := math.Abs(float64(v) - float64(want[i])); !(d <= 1e-4*scale) {
						t.Fatalf("gradient %s[%d] = %g with gendl's BLAS, %g with gonum's (max |g| %g)",
							ParamShapes(cfg)[k].Name, i, v, want[i], scale)
					}
				}
			}
		})
	}
}

// TestConvStepSameWithGendlBLAS does the same for the conv net of BenchmarkGorgoniaBLAS at
// batch 8 (im2col products of 1568×144 by 144×32 and the gradients).
func TestConvStepSameWithGendlBLAS(t *testing.T) {
	defer restoreBLAS()()
	net, err := newConvNet(8, rand.New(rand.NewPCG(8, 9)))
	if err != nil {
		t.Fatal(err)
	}
	defer net.vm.Close()
	run := func() (float32, [][]float32) {
		loss, err := net.run()
		if err != nil {
			t.Fatal(err)
		}
		var grads [][]float32
		for _, g := range net.grads {
			grads = append(grads, append([]float32(nil), g.Value().Data().([]float32)...))
		}
		return loss, grads
	}
	UseGonumBLAS()
	wantLoss, wantGrads := run()
	UseGendlBLAS()
	gotLoss, gotGrads := run()
	if math.Abs(float64(gotLoss-wantLoss)) > 1e-5*math.Abs(float64(wantLoss)) {
		t.Errorf("loss %.8g with gendl's BLAS, %.8g with gonum's", gotLoss, wantLoss)
	}
	for k, want := range wantGrads {
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		if scale == 0 {
			t.Fatalf("gradient %s is all zero", net.params[k].Name())
		}
		for i, v := range gotGrads[k] {
			if d := math.Abs(float64(v) - float64(want[i])); !(d <= 1e-4*scale) {
				t.Fatalf("gradient %s[%d] = %g with gendl's BLAS, %g with gonum's (max |g| %g)", net.params[k].Name(), i, v, want[i], scale)
			}
		}
	}
}
