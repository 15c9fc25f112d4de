package tfjs_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/trainer/tfjs"
	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// Tolerance of gendl (float32) against the float64 reference on the hand-made models:
// |got - want| <= refAtol + refRtolTiny*|want|. Values are O(1) and every sum has at most ~100
// terms, so float32 rounding stays below 1e-5; 1e-4 leaves room for transcendental functions.
const (
	refAtol     = 1e-4
	refRtolTiny = 1e-4
)

func randArr(rng *rand.Rand, shape ...int) *arr {
	a := newArr(shape...)
	for i := range a.d {
		a.d[i] = rng.Float64()*2 - 1
	}
	return a
}

// toNCHW converts a reference NHWC array to a float32 NCHW tensor (rank 2 as is).
func toNCHW(a *arr) *tensor.Tensor {
	if len(a.shape) != 4 {
		v := make([]float32, len(a.d))
		for i, x := range a.d {
			v[i] = float32(x)
		}
		return tensor.FromFloat32(v, a.shape...)
	}
	n, h, w, c := a.shape[0], a.shape[1], a.shape[2], a.shape[3]
	t := tensor.New(tensor.Float32, n, c, h, w)
	for b := range n {
		for y := range h {
			for x := range w {
				for ch := range c {
					t.F32()[((b*c+ch)*h+y)*w+x] = float32(a.at4(b, y, x, ch))
				}
			}
		}
	}
	return t
}

// convertFile loads and converts a written model.
func convertFile(t *testing.T, path string, opt tfjs.Options) (*engine.Plan, *tfjs.Summary) {
	t.Helper()
	m, err := tfjs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	model, sum, err := tfjs.Convert(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through the wire format, as a file would.
	data, err := onnx.Encode(model)
	if err != nil {
		t.Fatal(err)
	}
	back, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.New(back, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan, sum
}

// checkLayers runs every layer of tm through gendl and compares with the reference.
func checkLayers(t *testing.T, tm *tfjsref.TestModel, plan *engine.Plan, w map[string][]float64, x *arr, skip ...string) {
	t.Helper()
	want := refEval(tm, w, x)
	var names []string
	for _, l := range tm.Layers {
		if l.Class != "InputLayer" && !slices.Contains(skip, l.Name) {
			names = append(names, l.Name)
		}
	}
	got, err := plan.NewSession(engine.SessionOptions{}).Run(map[string]*tensor.Tensor{plan.Inputs[0].Name: toNCHW(x)}, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		wt := toNCHW(want[n])
		g := got[n]
		if !tensor.SameShape(g.Shape, wt.Shape) {
			t.Errorf("layer %s: shape %v, want %v", n, g.Shape, wt.Shape)
			continue
		}
		worst, at := 0.0, -1
		for i, v := range wt.F32() {
			d := math.Abs(float64(g.F32()[i]) - float64(v))
			if d > refAtol+refRtolTiny*math.Abs(float64(v)) && d > worst {
				worst, at = d, i
			}
		}
		if at >= 0 {
			t.Errorf("layer %s %v: element %d = %g, want %g (|d| %.3g > %g + %g|want|)", n, wt.Shape, at, g.F32()[at], wt.F32()[at], worst, refAtol, refRtolTiny)
		}
	}
}

func TestConvertMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t.Run("functional-free-size", func(t *testing.T) {
		tm := tfjsref.ModelA()
		path, w := writeModel(t, tm, t.TempDir())
		plan, sum := convertFile(t, path, tfjs.Options{})
		if got := plan.Inputs[0].DimNames; !slices.Equal(got, []string{"N", "", "H", "W"}) {
			t.Errorf("input dims %v, want N, 3, H, W", got)
		}
		if sum.UnusedWeights != 0 || len(sum.Layers) != len(tm.Layers) {
			t.Errorf("summary: %d layers, %d unused weights", len(sum.Layers), sum.UnusedWeights)
		}
		// Two sizes: the stride-2 "same" convolution and pools pad asymmetrically at odd and
		// even sizes (auto_pad SAME_UPPER, the size being free).
		for _, hw := range [][2]int{{11, 10}, {8, 13}} {
			checkLayers(t, tm, plan, w, randArr(rng, 2, hw[0], hw[1], 3))
		}
	})
	t.Run("sequential-fixed-size", func(t *testing.T) {
		tm := tfjsref.ModelB()
		path, w := writeModel(t, tm, t.TempDir())
		plan, _ := convertFile(t, path, tfjs.Options{})
		if got := plan.Inputs[0].Shape; !slices.Equal(got[1:], []int{2, 7, 6}) {
			t.Errorf("input shape %v, want [N 2 7 6] (fixed by the Flatten)", got)
		}
		checkLayers(t, tm, plan, w, randArr(rng, 3, 7, 6, 2))
	})
}

// TestPadsExplicit pins how "same" padding is written: explicit asymmetric pads when the size
// is known, SAME_UPPER when it is not and the stride is above 1, explicit symmetric pads for
// stride 1.
func TestPadsExplicit(t *testing.T) {
	attr := func(m *onnx.ModelProto, node, name string) *onnx.AttributeProto {
		for _, n := range m.GetGraph().GetNode() {
			if n.GetName() == node {
				for _, a := range n.GetAttribute() {
					if a.GetName() == name {
						return a
					}
				}
			}
		}
		return nil
	}
	for _, tc := range []struct {
		tm         *tfjsref.TestModel
		node       string
		pads       []int64
		autoPadded bool
	}{
		{tfjsref.ModelB(), "s1", []int64{1, 0, 1, 1}, false}, // 7 -> 4: total 2 (1+1); 6 -> 3: total 1 (0+1)
		{tfjsref.ModelB(), "s2", []int64{0, 0, 1, 1}, false}, // pool 2, stride 1: total 1 at the end
		{tfjsref.ModelA(), "c1", nil, true},                  // stride 2, free size
		{tfjsref.ModelA(), "c2", []int64{0, 2, 1, 2}, false}, // kernel 2x3, dilation 1x2: total 1 and 4
	} {
		dir := t.TempDir()
		path, _ := writeModel(t, tc.tm, dir)
		m, err := tfjs.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		model, _, err := tfjs.Convert(m, tfjs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a := attr(model, tc.node, "pads"); !slices.Equal(a.GetInts(), tc.pads) {
			t.Errorf("%s: pads %v, want %v", tc.node, a.GetInts(), tc.pads)
		}
		if a := attr(model, tc.node, "auto_pad"); (a != nil) != tc.autoPadded || (a != nil && string(a.GetS()) != "SAME_UPPER") {
			t.Errorf("%s: auto_pad %q, want SAME_UPPER: %v", tc.node, a.GetS(), tc.autoPadded)
		}
	}
}

func TestDequantize(t *testing.T) {
	tm := &tfjsref.TestModel{
		Inputs: []string{"in"}, Outputs: []string{"in"},
		Layers: []tfjsref.KL{{Name: "in", Class: "InputLayer", Cfg: map[string]any{"batch_input_shape": []any{nil, 2}}}},
	}
	dir := t.TempDir()
	path, _ := writeModel(t, tm, dir)
	// Replace the manifest with hand-written weights of known codes.
	b, _ := os.ReadFile(path)
	s := strings.Replace(string(b), `"weights": null`, `"weights": [
	  {"name": "u8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1, "scale": 0.5}},
	  {"name": "u16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "min": 0.25, "scale": 0.001}},
	  {"name": "f16", "shape": [3], "dtype": "float32", "quantization": {"dtype": "float16"}},
	  {"name": "f32", "shape": [1], "dtype": "float32"}]`, 1)
	if s == string(b) {
		t.Fatal("manifest not replaced")
	}
	os.WriteFile(path, []byte(s), 0o644)
	data := []byte{0, 1, 255, 0, 0, 0xe8, 0x03, 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0, 0, 0xc0, 0x3f}
	os.WriteFile(filepath.Join(dir, "group1-shard1of1.bin"), data, 0o644)
	m, err := tfjs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{
		"u8":  {-1, -0.5, 126.5},                           // q*0.5 - 1
		"u16": {0.25, float32(float64(1000)*0.001 + 0.25)}, // q*0.001 + 0.25, rounded once
		"f16": {1, -2, 65504},                              // 0x3c00, 0xc000, 0x7bff
		"f32": {1.5},                                       // 0x3fc00000
	} {
		if got := m.Weights[name].Float32(); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestUntilAndOutputs(t *testing.T) {
	tm := tfjsref.ModelA()
	// A layer the truncated graph does not need may be of any class.
	tm.Layers = append(tm.Layers, tfjsref.KL{Name: "lam", Class: "Lambda", Cfg: map[string]any{"function": "x"}, In: []string{"d2"}})
	tm.Outputs = append(tm.Outputs, "lam")
	path, w := writeModel(t, tm, t.TempDir())
	m, err := tfjs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tfjs.Convert(m, tfjs.Options{}); err == nil || !strings.Contains(err.Error(), `Lambda (layer "lam")`) {
		t.Errorf("whole model with a Lambda: %v", err)
	}
	model, sum, err := tfjs.Convert(m, tfjs.Options{Until: "cat", Outputs: []string{"c1", "p3"}})
	if err != nil {
		t.Fatal(err)
	}
	wantLayers := []string{"in", "c1", "b1", "c2", "a2", "p1", "p2", "p3", "cat"} // config order
	if !slices.Equal(sum.Layers, wantLayers) {
		t.Errorf("layers %v, want %v", sum.Layers, wantLayers)
	}
	if !slices.Equal(sum.Outputs, []string{"cat", "c1", "p3"}) {
		t.Errorf("outputs %v", sum.Outputs)
	}
	if sum.UnusedWeights != len(tm.Weights)-7 {
		t.Errorf("%d unused weights, want %d", sum.UnusedWeights, len(tm.Weights)-7)
	}
	meta := map[string]string{}
	for _, kv := range model.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if meta["keras_layers"] != strings.Join(wantLayers, ",") || !strings.Contains(meta["layout"], "NCHW") {
		t.Errorf("metadata %v", meta)
	}
	plan, err := engine.New(model, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmCut := *tm
	tmCut.Layers = tm.Layers[:11] // through cat
	checkLayers(t, &tmCut, plan, w, randArr(rand.New(rand.NewPCG(3, 3)), 1, 9, 9, 3), "c2g", "p4")
}

func TestFoldBatchNorm(t *testing.T) {
	tm := tfjsref.ModelA()
	// c1 has an activation, so b1 cannot be folded into it; add a linear conv + BN pair.
	rng := rand.New(rand.NewPCG(4, 4))
	wts := tfjsref.Wts
	tm.Layers = append(tm.Layers,
		tfjsref.KL{Name: "cf", Class: "Conv2D", Cfg: map[string]any{"filters": 3, "kernel_size": 3, "padding": "same", "use_bias": true}, In: []string{"b1"}},
		tfjsref.KL{Name: "bf", Class: "BatchNormalization", Cfg: map[string]any{"epsilon": 0.001, "scale": false}, In: []string{"cf"}},
	)
	tm.Weights = append(tm.Weights,
		wts(rng, "cf/kernel", "", 0.5, false, 3, 3, 4, 3), wts(rng, "cf/bias", "", 0.5, false, 3),
		wts(rng, "bf/beta", "", 0.5, false, 3), wts(rng, "bf/moving_mean", "", 0.5, false, 3),
		wts(rng, "bf/moving_variance", "", 0.5, true, 3))
	tm.Outputs = append(tm.Outputs, "bf")
	path, w := writeModel(t, tm, t.TempDir())
	plan, sum := convertFile(t, path, tfjs.Options{FoldBatchNorm: true})
	if sum.Folded != 1 || sum.Ops["BatchNormalization"] != 2 {
		t.Errorf("folded %d, %d BatchNormalization nodes left; want 1 and 2", sum.Folded, sum.Ops["BatchNormalization"])
	}
	checkLayers(t, tm, plan, w, randArr(rng, 1, 9, 8, 3), "cf")
	// A convolution asked for as an output is not folded.
	_, sum = convertFile(t, path, tfjs.Options{FoldBatchNorm: true, Outputs: []string{"cf"}})
	if sum.Folded != 0 {
		t.Errorf("folded %d with cf as an output", sum.Folded)
	}
}

// writeModel writes tm into dir and returns model.json's path and the dequantised weights.
func writeModel(t testing.TB, tm *tfjsref.TestModel, dir string) (string, map[string][]float64) {
	t.Helper()
	path, w, err := tm.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	return path, w
}
