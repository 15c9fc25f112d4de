package datasets

import (
	"strings"
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

func TestCheck(t *testing.T) {
	ok := func() *Dataset {
		return &Dataset{Name: "toy", Images: tensor.FromFloat32(make([]float32, 2*1*2*3), 2, 1, 2, 3),
			Labels: []uint8{0, 1}, Classes: []string{"a", "b"}, N: 2, C: 1, H: 2, W: 3}
	}
	if err := ok().Check(true, []string{"a", "b"}); err != nil {
		t.Fatalf("consistent dataset: %v", err)
	}
	for _, c := range []struct {
		name   string
		mutate func(d *Dataset)
		want   string
	}{
		{"no images", func(d *Dataset) { d.Images = nil }, "2 images of 1x2x3"},
		{"wrong count", func(d *Dataset) { d.N = 3 }, "3 images of 1x2x3"},
		{"empty", func(d *Dataset) { d.N = 0 }, "0 images"},
		{"short labels", func(d *Dataset) { d.Labels = d.Labels[:1] }, "2 images but 1 labels"},
		{"label out of range", func(d *Dataset) { d.Labels[1] = 2 }, "image 1 has label 2, but there are 2 classes"},
	} {
		d := ok()
		c.mutate(d)
		err := d.Check(true, []string{"a", "b"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	d := ok()
	d.Labels = nil
	if err := d.Check(false, nil); err != nil {
		t.Errorf("without labels, a dataset with no labels is fine: %v", err)
	}
}
