package tfjs_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/tfjs"
	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// Tolerances against TF.js, per element: |gendl - tfjs| <= atol + rtol*|tfjs|, with atol a
// fraction of the layer's largest |value|. Both sides compute in float32 with different
// summation orders (TF.js's CPU backend sums convolutions in its own loop order; gendl uses
// packed GEMM with FMA), and rounding differences grow through the 50 to 94 conv+BN layers;
// measured: max|d| <= 3e-6 * max|want| on every layer compared (TF.js 4.22.0, this machine),
// about 7x below atol.
const (
	refRtol      = 1e-4
	refAtolOfMax = 2e-5
)

// requireTFJS returns the TF.js package and InceptionV3's model.json when GENDL_TFJS_CHECK=1
// (failing if they are missing), and skips otherwise.
func requireTFJS(tb testing.TB) (string, string) {
	tb.Helper()
	if os.Getenv(tfjsref.EnvCheck) != "1" {
		tb.Skipf("comparison with TensorFlow.js: set %s=1 (after scripts/install-tfjs.sh and scripts/fetch-inception.sh)", tfjsref.EnvCheck)
	}
	pkg, model, err := tfjsref.Paths()
	if err != nil {
		tb.Fatalf("%s=1: %v", tfjsref.EnvCheck, err)
	}
	return pkg, model
}

// compareLayers runs the plan on each input and compares the named layers with TF.js's.
func compareLayers(t *testing.T, plan *engine.Plan, ref *tfjsref.Result, ins []*tensor.Tensor, names, layers []string) {
	sess := plan.NewSession(engine.SessionOptions{Threads: 1})
	for i, x := range ins {
		got, err := sess.Run(map[string]*tensor.Tensor{plan.Inputs[0].Name: tfjsref.ToNCHW(x)}, layers...)
		if err != nil {
			t.Fatal(err)
		}
		for _, layer := range layers {
			want := tfjsref.ToNCHW(ref.Outputs[i][layer])
			d0, err := tfjsref.Compare(got[layer], want, 0, 0)
			if err != nil {
				t.Fatalf("%s, %s: %v", names[i], layer, err)
			}
			d, _ := tfjsref.Compare(got[layer], want, refAtolOfMax*d0.MaxWant, refRtol)
			t.Logf("%-16s %-13s %v %s", names[i], layer, want.Shape, d)
			if d.Bad > 0 {
				t.Errorf("%s, layer %s: %d of %d elements differ from TF.js by more than %g*max|want| + %g*|want| (%v)",
					names[i], layer, d.Bad, want.Len(), refAtolOfMax, refRtol, d)
			}
		}
	}
}

// TestInceptionVsTFJS converts nsfwjs's InceptionV3 and compares gendl's outputs with
// TensorFlow.js's on the test images and a random input at 299x299 (whole model), and on a
// random non-square input through mixed5 (truncated model, free input size).
func TestInceptionVsTFJS(t *testing.T) {
	pkg, modelJSON := requireTFJS(t)
	m, err := tfjs.Load(modelJSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, missing, _ := tfjsref.ReferenceInputs(); len(missing) > 0 {
		t.Logf("images not found, compared on the others and a random input: %v", missing)
	}

	t.Run("full", func(t *testing.T) {
		ref, ins, names, err := tfjsref.InceptionReference(pkg, modelJSON)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("TF.js %s (CPU backend), %v CPU (0: cached)", ref.Version, ref.CPU)
		model, sum, err := tfjs.Convert(m, tfjs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.UnusedWeights != 0 {
			t.Errorf("%d weights unused by the whole model", sum.UnusedWeights)
		}
		plan, err := engine.New(model, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		compareLayers(t, plan, ref, ins, names, tfjsref.InceptionLayers)
	})

	t.Run("until-mixed5-any-size", func(t *testing.T) {
		ref, x, err := tfjsref.TruncatedReference(pkg, modelJSON)
		if err != nil {
			t.Fatal(err)
		}
		for _, fold := range []bool{false, true} {
			model, sum, err := tfjs.Convert(m, tfjs.Options{Until: "mixed5", FoldBatchNorm: fold})
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{-1, 3, -1, -1}; !equalInts(sum.InputShape, want) {
				t.Errorf("input shape %v, want %v (free size)", sum.InputShape, want)
			}
			if fold && sum.Folded != 50 {
				t.Errorf("folded %d batch norms, want 50", sum.Folded)
			}
			plan, err := engine.New(model, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			layers := tfjsref.TruncatedLayers
			if fold {
				layers = layers[1:] // activation_1 still exists, but check the blocks
			}
			t.Logf("fold batch norms: %v", fold)
			compareLayers(t, plan, ref, []*tensor.Tensor{x}, []string{fmt.Sprintf("random %dx%d", tfjsref.AnySize[0], tfjsref.AnySize[1])}, layers)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkInceptionMixed5 times gendl on InceptionV3 through mixed5 (DeepDream's forward
// pass) at 299x299 and 500x400 (width x height), one thread, with and without the batch norms
// folded into the convolutions, and reports the process's CPU time per run beside the wall
// time (runtime/ortcheck's BenchmarkInceptionMixed5 compares with ONNX Runtime). It needs the converted model (scripts/fetch-inception.sh;
// GENDL_INCEPTION_TFJS locates model.json) but not TF.js:
//
//	go test ./trainer/tfjs -run XXX -bench InceptionMixed5 -benchtime 5x
func BenchmarkInceptionMixed5(b *testing.B) {
	_, model, err := tfjsref.Paths()
	if err != nil {
		b.Skip(err)
	}
	m, err := tfjs.Load(model)
	if err != nil {
		b.Fatal(err)
	}
	for _, fold := range []bool{false, true} {
		onnxModel, _, err := tfjs.Convert(m, tfjs.Options{Until: "mixed5", FoldBatchNorm: fold})
		if err != nil {
			b.Fatal(err)
		}
		plan, err := engine.New(onnxModel, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, hw := range [][2]int{{299, 299}, {400, 500}} {
			b.Run(fmt.Sprintf("%dx%d/fold=%v", hw[1], hw[0], fold), func(b *testing.B) {
				sess := plan.NewSession(engine.SessionOptions{Threads: 1})
				feeds := map[string]*tensor.Tensor{"input_1": tfjsref.ToNCHW(tfjsref.RandomInput(3, hw[0], hw[1]))}
				if _, err := sess.Run(feeds); err != nil { // warm-up: buffers
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := processCPU(b)
				b.ResetTimer()
				for range b.N {
					if _, err := sess.Run(feeds); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64((processCPU(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// processCPU is the process's user+system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
