//go:build ort

package ortcheck

import (
	"path/filepath"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/testset"
)

// TestExamplesVsORT checks the committed example models (examples/*, the README's first
// command) with ONNX Runtime: ORT, run on the stored inputs, must reproduce the stored expected
// outputs that scripts/genexample computed with gendl. Tolerance: the random-net tolerance
// (netATol, netRTol; see randomnets_test.go), since these are the same kind of conv nets.
func TestExamplesVsORT(t *testing.T) {
	requireORT(t)
	models, err := filepath.Glob("../../examples/*/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if len(models) == 0 {
		t.Fatal("no examples/*/model.onnx")
	}
	for _, path := range models {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := onnx.DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := loadPair(m)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Destroy()
			ds := filepath.Join(dir, "test_data_set_0")
			feeds, err := testset.Feeds(p.plan, ds)
			if err != nil {
				t.Fatal(err)
			}
			wants, _, err := testset.ReadDir(ds, "output")
			if err != nil {
				t.Fatal(err)
			}
			_, ortGot, err := p.run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			if len(ortGot) != len(wants) {
				t.Fatalf("ORT gave %d outputs, %d stored", len(ortGot), len(wants))
			}
			for i, w := range wants {
				if r := testset.Compare(p.plan.Outputs[i].Name, ortGot[i], w, netRTol, netATol); r.Err != nil {
					t.Errorf("ORT vs stored: %v", r.Err)
				}
			}
		})
	}
}
