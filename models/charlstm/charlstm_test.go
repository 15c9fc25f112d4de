package charlstm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// probTol bounds |gendl - reference| per probability: the 1e-5. float32 LSTM steps
// round at about 6e-8 relative per operation; a few dozen steps stay far below it.
const probTol = 1e-5

// refForward is a naive float64 forward pass over params: seq[n][t] are the characters of
// sequence n, h0/c0[l][n][H] the initial states (nil: zeros). It returns probs[t][n][V] and the
// final states h[l][n][H], c[l][n][H].
func refForward(cfg Config, p *Params, seq [][]int, h0, c0 [][][]float64) (probs [][][]float64, hs, cs [][][]float64) {
	V, H, N, T := cfg.VocabSize(), cfg.Hidden, len(seq), len(seq[0])
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	// xs[t][n] is the input of the current layer.
	xs := make([][][]float64, T)
	for t := range T {
		xs[t] = make([][]float64, N)
		for n := range N {
			xs[t][n] = make([]float64, V)
			xs[t][n][seq[n][t]] = 1
		}
	}
	for l, ly := range p.Layers {
		in := len(xs[0][0])
		W, R, B := ly.W.F32(), ly.R.F32(), ly.B.F32()
		h, c := make([][]float64, N), make([][]float64, N)
		for n := range N {
			h[n], c[n] = make([]float64, H), make([]float64, H)
			if h0 != nil {
				copy(h[n], h0[l][n])
				copy(c[n], c0[l][n])
			}
		}
		ys := make([][][]float64, T)
		for t := range T {
			ys[t] = make([][]float64, N)
			for n := range N {
				g := make([]float64, 4*H)
				for j := range 4 * H {
					s := float64(B[j]) + float64(B[4*H+j])
					for k := range in {
						s += float64(W[j*in+k]) * xs[t][n][k]
					}
					for k := range H {
						s += float64(R[j*H+k]) * h[n][k]
					}
					g[j] = s
				}
				for j := range H {
					i := sig(g[GateI*H+j])
					o := sig(g[GateO*H+j])
					f := sig(g[GateF*H+j])
					cc := math.Tanh(g[GateC*H+j])
					c[n][j] = f*c[n][j] + i*cc
					h[n][j] = o * math.Tanh(c[n][j])
				}
				ys[t][n] = append([]float64{}, h[n]...)
			}
		}
		xs = ys
		hs, cs = append(hs, h), append(cs, c)
	}
	Wh, bh := p.HeadW.F32(), p.HeadB.F32()
	probs = make([][][]float64, T)
	for t := range T {
		probs[t] = make([][]float64, N)
		for n := range N {
			z := make([]float64, V)
			m := math.Inf(-1)
			for v := range V {
				s := float64(bh[v])
				for k := range H {
					s += float64(Wh[v*H+k]) * xs[t][n][k]
				}
				z[v] = s
				m = max(m, s)
			}
			var sum float64
			for v := range V {
				z[v] = math.Exp(z[v] - m)
				sum += z[v]
			}
			for v := range V {
				z[v] /= sum
			}
			probs[t][n] = z
		}
	}
	return probs, hs, cs
}

// testParams returns initialised params with random biases too (NewParams zeroes most of
// them), so that every term of the forward pass matters.
func testParams(t *testing.T, cfg Config, seed uint64) *Params {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	p, err := NewParams(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, ly := range p.Layers {
		for i := range ly.B.F32() {
			ly.B.F32()[i] += float32(rng.NormFloat64() * 0.5)
		}
	}
	for i := range p.HeadB.F32() {
		p.HeadB.F32()[i] = float32(rng.NormFloat64())
	}
	return p
}

func oneHot(seq [][]int, V int) *tensor.Tensor {
	N, T := len(seq), len(seq[0])
	x := tensor.New(tensor.Float32, T, N, V)
	for n := range N {
		for t := range T {
			x.F32()[(t*N+n)*V+seq[n][t]] = 1
		}
	}
	return x
}

func states(cfg Config, st [][][]float64, N int) []*tensor.Tensor {
	var out []*tensor.Tensor
	for l := range cfg.Layers {
		t := tensor.New(tensor.Float32, 1, N, cfg.Hidden)
		if st != nil {
			for n := range N {
				for j := range cfg.Hidden {
					t.F32()[n*cfg.Hidden+j] = float32(st[l][n][j])
				}
			}
		}
		out = append(out, t)
	}
	return out
}

func randStates(cfg Config, N int, rng *rand.Rand) [][][]float64 {
	st := make([][][]float64, cfg.Layers)
	for l := range st {
		st[l] = make([][]float64, N)
		for n := range N {
			st[l][n] = make([]float64, cfg.Hidden)
			for j := range st[l][n] {
				st[l][n][j] = rng.Float64()*2 - 1
			}
		}
	}
	return st
}

func session(t *testing.T, m *onnx.ModelProto) *engine.Session {
	t.Helper()
	p, err := engine.New(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p.NewSession(engine.SessionOptions{})
}

// TestExportMatchesReference runs the exported graph in gendl's engine and compares probs
// and the final states with refForward, for 1 and 2 layers, batch 3, random initial states.
func TestExportMatchesReference(t *testing.T) {
	for _, layers := range []int{1, 2} {
		cfg := Tiny()
		cfg.Layers, cfg.Hidden = layers, 6
		p := testParams(t, cfg, uint64(layers))
		m, err := Export(cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		s := session(t, m)
		rng := rand.New(rand.NewPCG(7, uint64(layers)))
		const T, N = 7, 3
		V := cfg.VocabSize()
		seq := make([][]int, N)
		for n := range seq {
			for range T {
				seq[n] = append(seq[n], rng.IntN(V))
			}
		}
		h0, c0 := randStates(cfg, N, rng), randStates(cfg, N, rng)
		want, wh, wc := refForward(cfg, p, seq, h0, c0)

		feeds := map[string]*tensor.Tensor{InputName: oneHot(seq, V)}
		hs, cs := states(cfg, h0, N), states(cfg, c0, N)
		for l := range layers {
			feeds[H0Name(l)], feeds[C0Name(l)] = hs[l], cs[l]
		}
		out, err := s.Run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		if got := out[ProbsName].Shape; !tensor.SameShape(got, []int{T, N, V}) {
			t.Fatalf("%d layers: probs shape %v, want [%d %d %d]", layers, got, T, N, V)
		}
		var maxErr float64
		pr := out[ProbsName].F32()
		for tt := range T {
			for n := range N {
				for v := range V {
					maxErr = max(maxErr, math.Abs(float64(pr[(tt*N+n)*V+v])-want[tt][n][v]))
				}
			}
		}
		for l := range layers {
			H := cfg.Hidden
			for n := range N {
				for j := range H {
					maxErr = max(maxErr, math.Abs(float64(out[HName(l)].F32()[n*H+j])-wh[l][n][j]))
					maxErr = max(maxErr, math.Abs(float64(out[CName(l)].F32()[n*H+j])-wc[l][n][j]))
				}
			}
		}
		if maxErr > probTol {
			t.Errorf("%d layers: max |gendl - reference| = %.3g over probs and states, want <= %g", layers, maxErr, probTol)
		}
		t.Logf("%d layers: max |gendl - reference| = %.3g", layers, maxErr)
	}
}

// TestStepwiseEqualsWhole checks what makes sampling O(1) per character: running a sequence
// one character at a time, feeding h_<l>/c_<l> back as h0_<l>/c0_<l>, gives the same probs at
// every step as running it at once.
func TestStepwiseEqualsWhole(t *testing.T) {
	cfg := Tiny()
	cfg.Layers, cfg.Hidden = 2, 8
	p := testParams(t, cfg, 3)
	m, err := Export(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	s := session(t, m)
	v, _ := cfg.Vocab()
	idx, err := v.Encode("the hats test. \nshe sat.")
	if err != nil {
		t.Fatal(err)
	}
	V, T := cfg.VocabSize(), len(idx)
	zero := func(feeds map[string]*tensor.Tensor) {
		for l := range cfg.Layers {
			feeds[H0Name(l)] = tensor.New(tensor.Float32, 1, 1, cfg.Hidden)
			feeds[C0Name(l)] = tensor.New(tensor.Float32, 1, 1, cfg.Hidden)
		}
	}
	feeds := map[string]*tensor.Tensor{InputName: oneHot([][]int{idx}, V)}
	zero(feeds)
	whole, err := s.Run(feeds, ProbsName)
	if err != nil {
		t.Fatal(err)
	}
	zero(feeds)
	var maxErr float64
	for tt, c := range idx {
		feeds[InputName] = oneHot([][]int{{c}}, V)
		out, err := s.Run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		for j := range V {
			maxErr = max(maxErr, math.Abs(float64(out[ProbsName].F32()[j]-whole[ProbsName].F32()[tt*V+j])))
		}
		for l := range cfg.Layers {
			feeds[H0Name(l)], feeds[C0Name(l)] = out[HName(l)], out[CName(l)]
		}
	}
	// Both paths do the same float32 operations in the same order but for the input
	// projection's grouping; 1e-6 is a few float32 ulps of values below 1.
	if maxErr > 1e-6 {
		t.Errorf("stepwise vs whole: max abs diff %.3g over %d steps, want <= 1e-6", maxErr, T)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	cfg := Tiny()
	cfg.Lowercase = true
	cfg.Train = []byte(`{"optimizer":"rmsprop","lr":0.01}`)
	p := testParams(t, cfg, 5)
	path := t.TempDir() + "/m.onnx"
	if err := ExportFile(path, cfg, p); err != nil {
		t.Fatal(err)
	}
	mm, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if mm.Config.Vocabulary != cfg.Vocabulary || mm.Config.Layers != cfg.Layers || !mm.Config.Lowercase ||
		string(mm.Config.Train) != string(cfg.Train) || mm.Config.Corpus != cfg.Corpus {
		t.Errorf("config round trip: got %+v, want %+v", mm.Config, cfg)
	}
	md := Metadata(mm.Proto)
	if md[MetaModel] != "charlstm" || md[MetaFormat] != "1" {
		t.Errorf("metadata %v", md)
	}
	back, err := ParamsFromModel(mm.Proto, mm.Config)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, a, b *tensor.Tensor) {
		if !tensor.SameShape(a.Shape, b.Shape) {
			t.Fatalf("%s: shape %v, want %v", name, b.Shape, a.Shape)
		}
		for i := range a.F32() {
			if a.F32()[i] != b.F32()[i] {
				t.Fatalf("%s: element %d: %v, want %v", name, i, b.F32()[i], a.F32()[i])
			}
		}
	}
	for l := range p.Layers {
		same("W", p.Layers[l].W, back.Layers[l].W)
		same("R", p.Layers[l].R, back.Layers[l].R)
		same("B", p.Layers[l].B, back.Layers[l].B)
	}
	same("head W", p.HeadW, back.HeadW)
	same("head b", p.HeadB, back.HeadB)
}

func TestLoadErrors(t *testing.T) {
	cfg := Tiny()
	p := testParams(t, cfg, 1)
	good, err := Export(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	withMeta := func(edit func(md map[string]string)) *onnx.ModelProto {
		m, _ := Export(cfg, p)
		md := Metadata(m)
		edit(md)
		m.MetadataProps = nil
		for _, k := range []string{MetaModel, MetaFormat, MetaConfig} {
			if v, ok := md[k]; ok {
				k, v := k, v
				m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: &k, Value: &v})
			}
		}
		return m
	}
	two := cfg
	two.Layers = 2
	twoJSON := `{"vocabulary":"\n .aehst","layers":2,"hidden":8,"maxlen":10,"step":3,"target":"next"}`
	for _, c := range []struct {
		name string
		m    *onnx.ModelProto
		want string
	}{
		{"no config", withMeta(func(md map[string]string) { delete(md, MetaConfig) }), "model has no gendl.config metadata: not a gendl char-LSTM"},
		{"other model", withMeta(func(md map[string]string) { md[MetaModel] = "vae" }), `gendl "vae" model, not a char-LSTM`},
		{"newer format", withMeta(func(md map[string]string) { md[MetaFormat] = "2" }), "upgrade gendl"},
		{"bad json", withMeta(func(md map[string]string) { md[MetaConfig] = "{" }), "not a valid config"},
		{"bad vocab", withMeta(func(md map[string]string) {
			md[MetaConfig] = `{"vocabulary":"aa","layers":1,"hidden":8,"maxlen":1,"step":1,"target":"next"}`
		}), `holds 'a' twice`},
		{"bad target", withMeta(func(md map[string]string) { md[MetaConfig] = strings.Replace(md[MetaConfig], `"next"`, `"prev"`, 1) }), `target = "prev"`},
		{"layers mismatch", withMeta(func(md map[string]string) { md[MetaConfig] = twoJSON }), `no input "h0_1"`},
		{"hidden mismatch", withMeta(func(md map[string]string) {
			md[MetaConfig] = strings.Replace(md[MetaConfig], `"hidden":8`, `"hidden":9`, 1)
		}), "config implies 9"},
	} {
		_, err := Load(c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	if _, err := Load(good); err != nil {
		t.Errorf("good model: %v", err)
	}
	if _, err := ParamsFromModel(good, two); err == nil || !strings.Contains(err.Error(), `no initializer "lstm1.W"`) {
		t.Errorf("ParamsFromModel with a 2-layer config: got %v", err)
	}
}

func TestNewParams(t *testing.T) {
	cfg := Tiny()
	cfg.Layers, cfg.Hidden = 2, 16
	p, err := NewParams(cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	H := cfg.Hidden
	for l, ly := range p.Layers {
		// R [4H, H] has orthonormal columns: RᵀR = I within float32 rounding.
		R := ly.R.F32()
		for a := range H {
			for b := range H {
				var dot float64
				for i := range 4 * H {
					dot += float64(R[i*H+a]) * float64(R[i*H+b])
				}
				want := 0.0
				if a == b {
					want = 1
				}
				if math.Abs(dot-want) > 1e-5 {
					t.Fatalf("layer %d: (RᵀR)[%d,%d] = %v, want %v", l, a, b, dot, want)
				}
			}
		}
		B := ly.B.F32()
		for j := range 8 * H {
			want := float32(0)
			if j >= GateF*H && j < (GateF+1)*H {
				want = 1
			}
			if B[j] != want {
				t.Fatalf("layer %d: B[%d] = %v, want %v (forget-gate input bias 1, others 0)", l, j, B[j], want)
			}
		}
		in := cfg.layerIn(l)
		limit := float32(math.Sqrt(6 / float64(in+4*H)))
		for _, w := range ly.W.F32() {
			if w < -limit || w > limit {
				t.Fatalf("layer %d: W value %v outside the Glorot limit %v", l, w, limit)
			}
		}
	}
	// Validate names the offending tensor.
	p.Layers[1].R = tensor.New(tensor.Float32, 1, 4*H, H+1)
	if err := p.Validate(cfg); err == nil || !strings.Contains(err.Error(), "layer 1 R has shape [1 64 17], want [1 64 16]") {
		t.Errorf("Validate: got %v", err)
	}
	p.Layers[1].R = nil
	if err := p.Validate(cfg); err == nil || !strings.Contains(err.Error(), "layer 1 R is missing") {
		t.Errorf("Validate: got %v", err)
	}
	if _, err := Export(cfg, p); err == nil {
		t.Error("Export of invalid params: want an error")
	}
}

func TestVocab(t *testing.T) {
	v, err := NewVocab("abc .", true)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := v.Encode("A cab.")
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{0, 3, 2, 0, 1, 4}; !equalInts(idx, got) {
		t.Errorf("Encode: %v, want %v", idx, got)
	}
	s, err := v.Decode(idx)
	if err != nil || s != "a cab." {
		t.Errorf("Decode: %q, %v", s, err)
	}
	if _, err := v.Encode("ab\u00e9c"); err == nil || !strings.Contains(err.Error(), `character 'é' at position 2 (byte 2)`) {
		t.Errorf("Encode outside the vocabulary: got %v", err)
	}
	if _, err := v.Encode("ab\xffc"); err == nil || !strings.Contains(err.Error(), "not valid UTF-8 at character 2 (byte 2)") {
		t.Errorf("Encode invalid UTF-8: got %v", err)
	}
	if _, err := v.Decode([]int{0, 5}); err == nil || !strings.Contains(err.Error(), "index 5 at position 1") {
		t.Errorf("Decode out of range: got %v", err)
	}
	for _, bad := range []string{"", "aba", "a\xff"} {
		if _, err := NewVocab(bad, false); err == nil {
			t.Errorf("NewVocab(%q): want an error", bad)
		}
	}
	if _, err := NewVocab("aB", true); err == nil {
		t.Error("NewVocab with an upper-case rune in a lower-case vocabulary: want an error")
	}
	fv, err := VocabFromText("Hello, World", true)
	if err != nil || fv.String() != " ,dehlorw" {
		t.Errorf("VocabFromText: %q, %v", fv.String(), err)
	}
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
