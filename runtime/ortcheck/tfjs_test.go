//go:build ort

package ortcheck

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/tfjs"
	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// Models converted from TF.js layers models (trainer/tfjs) in gendl and ONNX Runtime.
//
// Tolerances, per element |a - b| <= atol + rtol*|b|, with atol a fraction of the layer's
// largest |value|:
//   - gendl vs ORT: both float32 with their own summation orders and FMA use. Measured on
//     InceptionV3 (ORT 1.30): max|d| <= 1.2e-6 * max|ort| on every layer compared, and
//     <= 1e-6 * max on the hand-made models.
//   - ORT vs TF.js (4.22.0, CPU backend): measured <= 3.6e-6 * max|tfjs|, the same as gendl
//     vs TF.js in trainer/tfjs (<= 3e-6 * max).
//
// Both use the bound 2e-5 * max + 1e-4 * |want|, at least 5x above what was measured.
const (
	tfjsRtol      = 1e-4
	tfjsAtolOfMax = 2e-5
)

// convertTFJS loads a TF.js model and converts it with every layer in outputs declared as a
// graph output (ORT returns only those).
func convertTFJS(tb testing.TB, path string, opt tfjs.Options) *onnx.ModelProto {
	tb.Helper()
	m, err := tfjs.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	model, _, err := tfjs.Convert(m, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return model
}

// compareTFJS checks got against want (both NCHW) and logs the difference.
func compareTFJS(t *testing.T, what, layer string, got, want *tensor.Tensor) {
	t.Helper()
	d0, err := tfjsref.Compare(got, want, 0, 0)
	if err != nil {
		t.Fatalf("%s, %s: %v", what, layer, err)
	}
	d, _ := tfjsref.Compare(got, want, tfjsAtolOfMax*d0.MaxWant, tfjsRtol)
	t.Logf("%-28s %-13s %v %s", what, layer, want.Shape, d)
	if d.Bad > 0 {
		t.Errorf("%s, layer %s: %d of %d elements differ by more than %g*max + %g*|want| (%v)", what, layer, d.Bad, want.Len(), tfjsAtolOfMax, tfjsRtol, d)
	}
}

// TestTFJSTinyVsORT runs the hand-made TF.js models of trainer/tfjs's tests (every supported
// layer type and activation, "same" padding with explicit and SAME_UPPER pads, grouped and
// dilated convolutions, quantised weights), converted, in gendl and ORT, with every layer as a
// graph output, plain and with batch norms folded.
func TestTFJSTinyVsORT(t *testing.T) {
	requireORT(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		name  string
		tm    *tfjsref.TestModel
		sizes [][3]int // batch, height, width
		ch    int
	}{
		{"functional", tfjsref.ModelA(), [][3]int{{2, 11, 10}, {1, 8, 13}, {1, 5, 6}}, 3},
		{"sequential", tfjsref.ModelB(), [][3]int{{3, 7, 6}}, 2},
	} {
		path, _, err := tc.tm.Write(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var layers []string
		for _, l := range tc.tm.Layers {
			if l.Class != "InputLayer" {
				layers = append(layers, l.Name)
			}
		}
		for _, fold := range []bool{false, true} {
			p, err := loadPair(convertTFJS(t, path, tfjs.Options{Outputs: layers, FoldBatchNorm: fold}))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for _, s := range tc.sizes {
				x := tensor.New(tensor.Float32, s[0], tc.ch, s[1], s[2])
				for i := range x.F32() {
					x.F32()[i] = float32(rng.Float64()*2 - 1)
				}
				got, want, err := p.run(map[string]*tensor.Tensor{p.plan.Inputs[0].Name: x})
				if err != nil {
					t.Fatalf("%s %v: %v", tc.name, s, err)
				}
				for i, o := range p.plan.Outputs {
					compareTFJS(t, fmt.Sprintf("%s fold=%v %v gendl/ORT", tc.name, fold, s), o.Name, got[i], want[i])
				}
			}
			p.Destroy()
		}
	}
}

// TestInceptionTFJSVsORT converts nsfwjs's InceptionV3 (scripts/fetch-inception.sh) and runs
// it in ORT: against gendl, and against TensorFlow.js's own outputs (tfjsref), on the test
// images and a random input at 299x299, and through mixed5 on a free-size random input.
// It needs GENDL_TFJS_CHECK=1 (scripts/test.sh sets it), as trainer/tfjs's TF.js test does.
func TestInceptionTFJSVsORT(t *testing.T) {
	requireORT(t)
	if os.Getenv(tfjsref.EnvCheck) != "1" {
		t.Skipf("InceptionV3 against TensorFlow.js: set %s=1 (after scripts/install-tfjs.sh and scripts/fetch-inception.sh)", tfjsref.EnvCheck)
	}
	pkg, modelJSON, err := tfjsref.Paths()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("full", func(t *testing.T) {
		ref, ins, names, err := tfjsref.InceptionReference(pkg, modelJSON)
		if err != nil {
			t.Fatal(err)
		}
		p, err := loadPair(convertTFJS(t, modelJSON, tfjs.Options{Outputs: tfjsref.InceptionLayers}))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Destroy()
		compareInception(t, p, ref, ins, names)
	})
	t.Run("until-mixed5-any-size", func(t *testing.T) {
		ref, x, err := tfjsref.TruncatedReference(pkg, modelJSON)
		if err != nil {
			t.Fatal(err)
		}
		p, err := loadPair(convertTFJS(t, modelJSON, tfjs.Options{Until: "mixed5", Outputs: tfjsref.TruncatedLayers}))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Destroy()
		compareInception(t, p, ref, []*tensor.Tensor{x}, []string{fmt.Sprintf("random %dx%d", tfjsref.AnySize[0], tfjsref.AnySize[1])})
	})
}

func compareInception(t *testing.T, p *pair, ref *tfjsref.Result, ins []*tensor.Tensor, names []string) {
	t.Helper()
	for i, x := range ins {
		got, want, err := p.run(map[string]*tensor.Tensor{p.plan.Inputs[0].Name: tfjsref.ToNCHW(x)})
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range p.plan.Outputs {
			tf, ok := ref.Outputs[i][o.Name]
			if !ok {
				continue
			}
			compareTFJS(t, names[i]+" gendl/ORT", o.Name, got[j], want[j])
			compareTFJS(t, names[i]+" ORT/TF.js", o.Name, want[j], tfjsref.ToNCHW(tf))
		}
	}
}

// BenchmarkInceptionMixed5 times InceptionV3 through mixed5 (DeepDream's forward pass,
// converted from nsfwjs by trainer/tfjs) in gendl and ORT, one thread each, at 299x299 and
// 500x400 (width x height). It needs the fetched model (scripts/fetch-inception.sh), not
// TF.js:
//
//	go test -tags ort ./runtime/ortcheck -run XXX -bench InceptionMixed5 -benchtime 5x
func BenchmarkInceptionMixed5(b *testing.B) {
	requireORT(b)
	_, modelJSON, err := tfjsref.Paths()
	if err != nil {
		b.Skip(err)
	}
	model := convertTFJS(b, modelJSON, tfjs.Options{Until: "mixed5"})
	p, err := loadPair(model)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Destroy()
	for _, hw := range [][2]int{{299, 299}, {400, 500}} {
		feeds := map[string]*tensor.Tensor{"input_1": tfjsref.ToNCHW(tfjsref.RandomInput(3, hw[0], hw[1]))}
		flops := convFLOPs(b, p, feeds)
		b.Run(fmt.Sprintf("%dx%d/gendl", hw[1], hw[0]), func(b *testing.B) {
			timeLoop(b, flops, 1, func() error { _, err := p.sess.Run(feeds); return err })
		})
		b.Run(fmt.Sprintf("%dx%d/ort", hw[1], hw[0]), func(b *testing.B) {
			timeLoop(b, flops, 1, func() error { _, err := p.ort.run(feeds, nil); return err })
		})
	}
}

// convFLOPs counts the convolutions' FLOPs (2 per multiply-add) of p's model on feeds.
func convFLOPs(tb testing.TB, p *pair, feeds map[string]*tensor.Tensor) float64 {
	dims := map[string][]int64{}
	for _, in := range p.model.GetGraph().GetInitializer() {
		dims[in.GetName()] = in.GetDims()
	}
	var convs []string
	for _, n := range p.model.GetGraph().GetNode() {
		if n.GetOpType() == "Conv" {
			convs = append(convs, n.GetOutput()[0])
		}
	}
	out, err := p.sess.Run(feeds, convs...)
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, n := range p.model.GetGraph().GetNode() {
		if n.GetOpType() == "Conv" {
			w := dims[n.GetInput()[1]]
			total += 2 * float64(out[n.GetOutput()[0]].Len()) * float64(w[1]*w[2]*w[3])
		}
	}
	return total
}
