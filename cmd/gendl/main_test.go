package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gendl/gendl/runtime/ops"
)

const caseDir = "../../runtime/conformance/testdata/node/"

func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(interspersed(app, append([]string{"gendl"}, args...)))
	return out.String(), err
}

func TestInspect(t *testing.T) {
	out, err := runApp(t, "inspect", caseDir+"test_relu/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ai.onnx 14", "x: float32[3 4 5]", "Relu", "unsupported  none"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

// TestRunAssert runs a conformance case through the CLI with flags after the model (the form
// the README uses), then checks that a wrong expectation fails with a non-nil error.
func TestRunAssert(t *testing.T) {
	d := caseDir + "test_relu/"
	tmp := t.TempDir()
	out, err := runApp(t, "run", d+"model.onnx", "--inputs", d+"test_data_set_0", "--assert-outputs", d+"test_data_set_0", "--output-dir", tmp)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "ok") {
		t.Errorf("want an ok line, got:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "output_0.pb")); err != nil {
		t.Errorf("--output-dir: %v", err)
	}
	// The written output must itself pass as the expectation.
	if _, err := runApp(t, "run", d+"model.onnx", "--inputs", d+"test_data_set_0", "--assert-outputs", tmp); err != nil {
		t.Errorf("written outputs do not match: %v", err)
	}
	// Relu's outputs compared with Neg's expected outputs must mismatch.
	_, err = runApp(t, "run", d+"model.onnx", "--inputs", d+"test_data_set_0", "--assert-outputs", caseDir+"test_neg/test_data_set_0")
	if err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("want a mismatch error, got %v", err)
	}
}

func TestBadModel(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("this is not protobuf"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"inspect", bad}, {"run", bad, "--inputs", "."}} {
		if _, err := runApp(t, args...); err == nil || !strings.Contains(err.Error(), "bad.onnx") {
			t.Errorf("%v: want an error naming the file, got %v", args, err)
		}
	}
}

// TestNoGorgonia enforces the dependency rule: the runtime binary never links Gorgonia.
func TestNoGorgonia(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "gorgonia.org") {
			t.Fatalf("cmd/gendl depends on %s; only trainer/... and cmd/gendl-train may import Gorgonia", dep)
		}
	}
	if !strings.Contains(string(out), "github.com/gendl/gendl/runtime/engine") {
		t.Fatalf("go list -deps output does not look right:\n%s", out)
	}
}

// TestReadmeListsEveryOp keeps the README's op table true: every registered op is named in it.
func TestReadmeListsEveryOp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ops.Default().Names() {
		if !regexp.MustCompile(`[ |,]` + name + `[,| ]`).Match(readme) {
			t.Errorf("README.md's op table does not list %s", name)
		}
	}
}

// TestHelpAfterArguments: `gendl sample text --help` shows the command's help.
func TestHelpAfterArguments(t *testing.T) {
	out, err := runApp(t, "sample", "text", "--help")
	if err != nil || !strings.Contains(out, "--temperature") {
		t.Fatalf("want the sample command's help, got %v:\n%s", err, out)
	}
}
