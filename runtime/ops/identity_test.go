package ops

import (
	"math/rand/v2"
	"testing"
)

// TestIdentity copies tensors of every dtype; the output must not share the input's storage.
func TestIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	op := shMustBuild(t, newIdentity, shNode("Identity", 21, []string{"x"}, 1))
	for _, dt := range shAllDTypes {
		x := shRandTensor(rng, dt, 2, 3)
		y, err := shRun1(op, x)
		if err != nil {
			t.Fatal(err)
		}
		shEqual(t, dt.String(), y, x)
		shSet(y, 0, 1)
		shSet(x, 0, 2)
		if scalarAt(y, 0) == scalarAt(x, 0) {
			t.Errorf("%v: output shares the input's storage", dt)
		}
	}
}
