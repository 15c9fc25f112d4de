package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// TestGatherColsIsOneHotProduct checks gatherCols and its gradient scatterCols against the
// products they replace, W·X and G·Xᵀ with X the one-hot [V, B] of the indices (-1: a zero
// column), on a random W and G. Every entry is one product by 1 plus zeros, so they must be
// equal exactly.
func TestGatherColsIsOneHotProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows, V = 6, 5
	idx := []int32{3, -1, 0, 3, 4, 1, -1}
	B := len(idx)
	w, g := make([]float32, rows*V), make([]float32, rows*B)
	for i := range w {
		w[i] = rng.Float32() - 0.5
	}
	for i := range g {
		g[i] = rng.Float32() - 0.5
	}
	wantOut, wantDW := make([]float32, rows*B), make([]float32, rows*V)
	for j := range rows {
		for k, c := range idx {
			for v := range V {
				if int(c) == v { // X[v, k] = 1
					wantOut[j*B+k] += w[j*V+v]
					wantDW[j*V+v] += g[j*B+k]
				}
			}
		}
	}
	op := gatherCols{idx: idx, rows: rows, cols: V}
	out, err := op.Do(tensor.New(tensor.WithShape(rows, V), tensor.WithBacking(w)))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Data().([]float32); !slices.Equal(got, wantOut) {
		t.Errorf("gather (-want +got):\n-%v\n+%v", wantOut, got)
	}
	dw, err := scatterCols{op}.Do(tensor.New(tensor.WithShape(rows, B), tensor.WithBacking(g)))
	if err != nil {
		t.Fatal(err)
	}
	if got := dw.Data().([]float32); !slices.Equal(got, wantDW) {
		t.Errorf("scatter (-want +got):\n-%v\n+%v", wantDW, got)
	}
	if _, err := op.Do(tensor.New(tensor.WithShape(V, rows), tensor.WithBacking(w))); err == nil {
		t.Error("gather of a [V, rows] input: no error")
	}
}
