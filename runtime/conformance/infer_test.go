package conformance

import (
	"path/filepath"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/ops"
	"github.com/gendl/gendl/runtime/tensor"
)

// TestEveryOpInfers checks that every registered op, as planned from the passing conformance
// cases, implements ops.Inferer, so planning checks types and shapes for all of them
// (TestManifest then checks the inferred types against what running produced). It also checks
// that the passing cases exercise every registered op.
func TestEveryOpInfers(t *testing.T) {
	m := readManifest(t)
	reg := ops.Default()
	seen := map[string]bool{}
	for name, e := range m {
		if !e.pass {
			continue
		}
		model, err := onnx.DecodeFile(filepath.Join("testdata/node", name, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range model.GetGraph().GetNode() {
			cons, ok := reg.Lookup(n.GetOpType())
			if !ok {
				t.Fatalf("%s: op %s is not registered", name, n.GetOpType())
			}
			node := &ops.Node{Proto: n, Attrs: onnx.NewAttrs(n), Opset: onnx.OpsetVersion(model, ""),
				Consts: make([]*tensor.Tensor, len(n.GetInput())), Limits: onnx.DefaultLimits}
			op, err := cons(node)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, ok := op.(ops.Inferer); !ok && !seen[n.GetOpType()] {
				t.Errorf("op %s (%T) does not implement ops.Inferer", n.GetOpType(), op)
			}
			seen[n.GetOpType()] = true
		}
	}
	for _, name := range reg.Names() {
		if !seen[name] {
			t.Errorf("no passing conformance case exercises %s", name)
		}
	}
}
