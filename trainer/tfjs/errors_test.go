package tfjs_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/trainer/tfjs"
	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// editJSON rewrites model.json through f on its decoded form.
func editJSON(t *testing.T, path string, f func(m map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// layersOf returns the layer list of a written functional model.json.
func layersOf(m map[string]any) []any {
	return m["modelTopology"].(map[string]any)["model_config"].(map[string]any)["config"].(map[string]any)["layers"].([]any)
}

func layerCfg(m map[string]any, name string) map[string]any {
	for _, l := range layersOf(m) {
		if l.(map[string]any)["name"] == name {
			return l.(map[string]any)
		}
	}
	panic(name)
}

func specs(m map[string]any) []any {
	return m["weightsManifest"].([]any)[0].(map[string]any)["weights"].([]any)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, dir, path string)
		until string
		want  []string // all must appear in the error
	}{
		{"unsupported layers, all listed", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				layerCfg(m, "c3")["class_name"] = "Conv3D"
				layerCfg(m, "c4")["class_name"] = "Lambda"
				layerCfg(m, "d1")["config"].(map[string]any)["activation"] = "gelu"
			})
		}, "", []string{`Conv3D (layer "c3")`, `Lambda (layer "c4")`, `activation "gelu" (layer "d1")`, "supported: "}},
		{"missing weight file", func(t *testing.T, dir, path string) {
			os.Remove(filepath.Join(dir, "group1-shard2of3.bin"))
		}, "", []string{"group1-shard2of3.bin", "no such file"}},
		{"truncated weight file", func(t *testing.T, dir, path string) {
			p := filepath.Join(dir, "group1-shard3of3.bin")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		}, "", []string{`weight "d2/kernel"`, "truncated or missing weight file"}},
		{"extra bytes", func(t *testing.T, dir, path string) {
			p := filepath.Join(dir, "group1-shard3of3.bin")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, 0), 0o644)
		}, "", []string{"hold", "wrong or extra weight file"}},
		{"bad JSON", func(t *testing.T, dir, path string) {
			b, _ := os.ReadFile(path)
			os.WriteFile(path, append([]byte("{\n\"format\": \"layers-model\",\n\"x\": [1,,2],"), b[1:]...), 0o644)
		}, "", []string{"model.json: line 3, column 9", "invalid character ','"}},
		{"truncated JSON", func(t *testing.T, dir, path string) {
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)/2], 0o644)
		}, "", []string{"model.json", "ends early", "truncated"}},
		{"graph model", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) { m["format"] = "graph-model" })
		}, "", []string{`format "graph-model"`, "layers-model"}},
		{"weight shape mismatch", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				for _, s := range specs(m) {
					if s.(map[string]any)["name"] == "c1/kernel" {
						s.(map[string]any)["shape"] = []int{3, 3, 4, 3}
					}
				}
			})
		}, "", []string{`layer "c1" (Conv2D)`, `weight "c1/kernel" has shape [3 3 4 3]`, "needs [3 3 3 4]"}},
		{"missing weight", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				for _, s := range specs(m) {
					if s.(map[string]any)["name"] == "c1/bias" {
						s.(map[string]any)["name"] = "c1/bias_renamed"
					}
				}
			})
		}, "", []string{`layer "c1" (Conv2D)`, `weight "c1/bias" is not in the weights manifest`}},
		{"concatenate shape mismatch", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				l := layerCfg(m, "cat")
				l["config"].(map[string]any)["axis"] = 1
				l["inbound_nodes"].([]any)[0].([]any)[1].([]any)[0] = "b1" // 4 channels, p1 has 6
			})
		}, "cat", []string{`layer "cat" (Concatenate)`, "differ in axis 3"}},
		{"path outside the directory", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				m["weightsManifest"].([]any)[0].(map[string]any)["paths"].([]any)[0] = "../group1-shard1of3.bin"
			})
		}, "", []string{`"../group1-shard1of3.bin"`, "inside the model's directory"}},
		{"shared layer", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				l := layerCfg(m, "c3")
				calls := l["inbound_nodes"].([]any)
				l["inbound_nodes"] = append(calls, calls[0])
			})
		}, "", []string{`layer "c3" is called 2 times`}},
		{"unknown --until layer", nil, "mixed99", []string{`no layer "mixed99"`, "in, c1, b1"}},
		{"quantization without scale", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				delete(specs(m)[0].(map[string]any)["quantization"].(map[string]any), "scale")
			})
		}, "", []string{`weight "c1/kernel"`, "uint8 quantization without min and scale"}},
		{"negative shape", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) { specs(m)[1].(map[string]any)["shape"] = []int{-4} })
		}, "", []string{`weight "c1/bias"`, "negative"}},
		{"bad config value", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				layerCfg(m, "c1")["config"].(map[string]any)["strides"] = []any{2, "x"}
			})
		}, "", []string{`layer "c1" (Conv2D): config "strides"`, "want 2 integers"}},
		{"unknown padding", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				layerCfg(m, "c1")["config"].(map[string]any)["padding"] = "causal"
			})
		}, "", []string{`layer "c1" (Conv2D)`, `padding "causal"`}},
		{"channels_first", func(t *testing.T, dir, path string) {
			editJSON(t, path, func(m map[string]any) {
				layerCfg(m, "p1")["config"].(map[string]any)["data_format"] = "channels_first"
			})
		}, "", []string{`layer "p1" (MaxPooling2D)`, "channels_last"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, _ := writeModel(t, tfjsref.ModelA(), dir)
			if tc.edit != nil {
				tc.edit(t, dir, path)
			}
			m, err := tfjs.Load(path)
			if err == nil {
				_, _, err = tfjs.Convert(m, tfjs.Options{Until: tc.until})
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "tfjs: ") {
				t.Errorf("error %q is not prefixed with the package name", err)
			}
		})
	}
}

// TestFixedSizeErrors covers checks that need known spatial sizes: a "valid" window larger
// than its input and a Dense whose kernel does not fit the flattened size.
func TestFixedSizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(tm *tfjsref.TestModel)
		want string
	}{
		{"window larger than input", func(tm *tfjsref.TestModel) {
			tm.Layers[0].Cfg["batch_input_shape"] = []any{nil, 2, 6, 2}
			tm.Layers[0].Cfg["padding"] = "valid"
		}, `layer "s1" (Conv2D): input size [2, 6] is smaller than the window (3)`},
		{"dense after flatten", func(tm *tfjsref.TestModel) {
			tm.Layers[0].Cfg["batch_input_shape"] = []any{nil, 9, 6, 2}
		}, `weight "s4/kernel" has shape [36 5], the layer needs [45 5]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := tfjsref.ModelB()
			tc.edit(tm)
			path, _ := writeModel(t, tm, t.TempDir())
			m, err := tfjs.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err = tfjs.Convert(m, tfjs.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMutationsNoPanic feeds thousands of corrupted model.json files (structured edits of
// the decoded JSON and raw byte edits) through Parse, Convert and the planner: each must give
// a model or an error, never a panic.
func TestMutationsNoPanic(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeModel(t, tfjsref.ModelA(), dir)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, name := range []string{"group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	replacements := []any{nil, -1.0, 0.0, 1.0, 2.5, 1e12, "x", "same", "relu", true, []any{}, []any{1.0}, []any{nil, 3.0}, map[string]any{}}
	run := func(data []byte) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		m, err := tfjs.Parse(data, fsys, dir)
		if err != nil {
			return nil
		}
		model, _, err := tfjs.Convert(m, tfjs.Options{})
		if err != nil {
			return nil
		}
		_, _ = engine.New(model, engine.Options{})
		return nil
	}
	const mutations = 2000
	valid := 0
	for i := range mutations {
		var data []byte
		if i%4 == 3 { // raw bytes: cut or overwrite
			data = append([]byte{}, orig...)
			if rng.IntN(2) == 0 {
				data = data[:rng.IntN(len(data))]
			} else {
				for range 1 + rng.IntN(4) {
					data[rng.IntN(len(data))] = "0123456789,:[]{}\"-.ex"[rng.IntN(21)]
				}
			}
		} else {
			var m any
			json.Unmarshal(orig, &m)
			for range 1 + rng.IntN(3) {
				mutate(rng, m, replacements)
			}
			data, _ = json.Marshal(m)
		}
		if err := run(data); err != nil {
			t.Fatalf("mutation %d: %v\n%s", i, err, data)
		}
		if m, err := tfjs.Parse(data, fsys, dir); err == nil {
			if _, _, err := tfjs.Convert(m, tfjs.Options{}); err == nil {
				valid++
			}
		}
	}
	t.Logf("%d of %d mutated models still converted", valid, mutations)
}

// mutate replaces one randomly chosen value inside v (an object field or list element at any
// depth) by one of the replacements.
func mutate(rng *rand.Rand, v any, repl []any) {
	for depth := 0; ; depth++ {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(6) == 0 || !isContainer(x[k]) {
				x[k] = repl[rng.IntN(len(repl))]
				return
			}
			v = x[k]
		case []any:
			if len(x) == 0 {
				return
			}
			i := rng.IntN(len(x))
			if rng.IntN(6) == 0 || !isContainer(x[i]) {
				x[i] = repl[rng.IntN(len(repl))]
				return
			}
			v = x[i]
		default:
			return
		}
	}
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}
