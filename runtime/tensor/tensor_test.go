package tensor

import (
	"errors"
	"testing"
)

func TestResetReusesBuffer(t *testing.T) {
	x := New(Float32, 4, 5)
	p := &x.F32()[0]
	x.Reset(Float32, []int{2, 3})
	if len(x.F32()) != 6 || &x.F32()[0] != p {
		t.Fatalf("Reset to a smaller shape should reuse the array: len %d", len(x.F32()))
	}
	x.Reset(Float32, []int{5, 5})
	if len(x.F32()) != 25 {
		t.Fatalf("len %d, want 25", len(x.F32()))
	}
	x.Reset(Int64, []int{3})
	if x.DType != Int64 || len(x.I64()) != 3 {
		t.Fatalf("Reset to Int64: got %v", x)
	}
	x.Reset(Float32, nil)
	if x.Len() != 1 || len(x.F32()) != 1 {
		t.Fatalf("scalar: Len %d, data %d", x.Len(), len(x.F32()))
	}
}

func TestResetCapsSize(t *testing.T) {
	for _, shape := range [][]int{{-1, 2}, {MaxElements, 2}, {1 << 40, 1 << 40}} {
		func() {
			defer func() {
				r := recover()
				var se *SizeError
				if e, ok := r.(error); !ok || !errors.As(e, &se) {
					t.Errorf("shape %v: want a *SizeError panic, got %v", shape, r)
				}
			}()
			New(Float32, shape...)
		}()
	}
}

func TestCloneIsDeep(t *testing.T) {
	x := FromFloat32([]float32{1, 2, 3}, 3)
	c := x.Clone()
	c.F32()[0] = 9
	if x.F32()[0] != 1 {
		t.Fatal("Clone shares data")
	}
	var y Tensor
	y.CopyFrom(x)
	if !SameShape(y.Shape, x.Shape) || y.F32()[2] != 3 {
		t.Fatalf("CopyFrom: got %v %v", y.Shape, y.F32())
	}
}

// TestResetSameShapeAllocatesNothing pins the steady state of a session: giving an output the
// shape it already has must not allocate (boxing a re-sliced slice into Data would).
func TestResetSameShapeAllocatesNothing(t *testing.T) {
	x := New(Float32, 8, 8)
	shape := []int{8, 8}
	if n := testing.AllocsPerRun(100, func() { x.Reset(Float32, shape) }); n != 0 {
		t.Fatalf("Reset to the same shape: %v allocations per call, want 0", n)
	}
}
