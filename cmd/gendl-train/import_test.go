package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/trainer/tfjs"
	"github.com/gendl/gendl/trainer/tfjs/tfjsref"
)

// TestImportTFJS runs `gendl-train import tfjs` on a tiny TF.js layers model written here
// (trainer/tfjs's hand-made model A) and checks that the file it writes is exactly what
// tfjs.Convert makes with the options the flags name, flags given after the model path
// included (urfave/cli stops at the first positional argument; the command re-parses).
func TestImportTFJS(t *testing.T) {
	dir := t.TempDir()
	model, _, err := tfjsref.ModelA().Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "a.onnx")
	args := []string{"gendl-train", "import", "tfjs", model, "--out", out, "--until", "cat",
		"--outputs", "c1, p3", "--opset", "13", "--metadata", "source=model A, hand-made"}
	if err := newApp().Run(args); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfjs.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := tfjs.Convert(m, tfjs.Options{Until: "cat", Outputs: []string{"c1", "p3"}, Opset: 13,
		Metadata: [][2]string{{"source", "model A, hand-made"}}})
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, err := onnx.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantBytes) {
		t.Errorf("the CLI wrote %d bytes that differ from tfjs.Convert's %d", len(got), len(wantBytes))
	}
	dec, err := onnx.DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, o := range dec.GetGraph().GetOutput() {
		outs = append(outs, o.GetName())
	}
	if strings.Join(outs, ",") != "cat,c1,p3" {
		t.Errorf("graph outputs %v, want cat, c1, p3", outs)
	}
	if v := onnx.OpsetVersion(dec, ""); v != 13 {
		t.Errorf("opset %d, want 13", v)
	}
	meta := map[string]string{}
	for _, kv := range dec.GetMetadataProps() {
		meta[kv.GetKey()] = kv.GetValue()
	}
	if meta["source"] != "model A, hand-made" {
		t.Errorf("metadata source = %q, want the --metadata value whole", meta["source"])
	}
}

func TestImportTFJSErrors(t *testing.T) {
	dir := t.TempDir()
	model, _, err := tfjsref.ModelA().Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.onnx")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want one MODEL.json argument, got 0"},
		{[]string{filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{model, "--until", "nosuch"}, "nosuch"},
		{[]string{model, "--opset", "5"}, "opset"},
	} {
		args := append([]string{"gendl-train", "import", "tfjs", "--out", out}, tc.args...)
		err := newApp().Run(args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed import left %s (stat: %v)", out, err)
	}
}
