package layers

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestFill(t *testing.T) {
	dst := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(make([]float32, 4)))
	if err := Fill(dst, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if got := dst.Data().([]float32); got[3] != 4 {
		t.Errorf("after Fill: %v, want [1 2 3 4]", got)
	}
	for _, bad := range []any{[]float32{1, 2, 3}, []float64{1, 2, 3, 4}, nil} {
		err := Fill(dst, bad)
		if err == nil || !strings.Contains(err.Error(), "want 4 float32 values") {
			t.Errorf("Fill(%T of wrong length or type) = %v, want an error naming 4 float32 values", bad, err)
		}
	}
}

func TestScalar(t *testing.T) {
	f32 := G.F32(2.5)
	for _, tc := range []struct {
		v    G.Value
		want float64
	}{
		{&f32, 2.5},
		{tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{-3})), -3},
		{tensor.New(tensor.FromScalar(float32(7))), 7},
	} {
		got, err := Scalar(tc.v)
		if err != nil || got != tc.want {
			t.Errorf("Scalar(%v) = %v, %v, want %v", tc.v, got, err, tc.want)
		}
	}
	if _, err := Scalar(tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))); err == nil {
		t.Error("Scalar of a 2-element tensor: no error")
	}
}
