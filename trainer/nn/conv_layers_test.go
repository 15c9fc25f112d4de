package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLayersConvNetSameLoss checks that BenchmarkGorgoniaBLAS's two conv builds do equal work:
// from the same parameters and batch (batch 8), the trainer/layers graph and the graph of
// Gorgonia's own ops give the same loss and the same gradients of all six parameters. Both are
// float32 with different summation orders (Gorgonia's im2col and BLAS against gendl's kernels),
// so they agree to rounding: the loss within 1e-5 relative, each gradient element within 1e-4
// of the largest element of that gradient. The layers biases are [M] where Gorgonia's are
// [1, M, 1, 1]: the same values in the same order.
func TestLayersConvNetSameLoss(t *testing.T) {
	defer restoreBLAS()()
	UseGendlBLAS()
	d := newConvData(8, rand.New(rand.NewPCG(8, 9)))
	run := func(build func(convData) (*convNet, error)) (float32, [][]float32, []string) {
		net, err := build(d)
		if err != nil {
			t.Fatal(err)
		}
		defer net.vm.Close()
		loss, err := net.run()
		if err != nil {
			t.Fatal(err)
		}
		var grads [][]float32
		var names []string
		for k, g := range net.grads {
			grads = append(grads, append([]float32(nil), g.Value().Data().([]float32)...))
			names = append(names, net.params[k].Name())
		}
		return loss, grads, names
	}
	wantLoss, wantGrads, wantNames := run(newConvNetFrom)
	gotLoss, gotGrads, gotNames := run(newLayersConvNet)
	if !(wantLoss > 0) || math.IsInf(float64(wantLoss), 0) {
		t.Fatalf("Gorgonia loss %g: want a positive finite cross-entropy", wantLoss)
	}
	if d := math.Abs(float64(gotLoss - wantLoss)); !(d <= 1e-5*math.Abs(float64(wantLoss))) {
		t.Errorf("loss %.8g with trainer/layers, %.8g with Gorgonia's ops", gotLoss, wantLoss)
	}
	if len(gotGrads) != len(wantGrads) {
		t.Fatalf("%d gradients with trainer/layers, %d with Gorgonia's ops", len(gotGrads), len(wantGrads))
	}
	for k, want := range wantGrads {
		if gotNames[k] != wantNames[k] || len(gotGrads[k]) != len(want) {
			t.Fatalf("gradient %d: %s of %d values with trainer/layers, %s of %d with Gorgonia's ops",
				k, gotNames[k], len(gotGrads[k]), wantNames[k], len(want))
		}
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		if scale == 0 {
			t.Fatalf("gradient %s is all zero", wantNames[k])
		}
		for i, v := range gotGrads[k] {
			if d := math.Abs(float64(v) - float64(want[i])); !(d <= 1e-4*scale) {
				t.Fatalf("gradient %s[%d] = %g with trainer/layers, %g with Gorgonia's ops (max |g| %g)", wantNames[k], i, v, want[i], scale)
			}
		}
	}
	t.Logf("loss %.8g (layers) vs %.8g (Gorgonia)", gotLoss, wantLoss)
}
