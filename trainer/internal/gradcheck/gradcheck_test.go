package gradcheck

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// recorder is a testing.TB that keeps the failures.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(f string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(f, args...))
}

// L(a, b) = Σ a³ + a0·b0: the gradient is 3a² (+ b0 for a0) and a0 for b0. A check with
// the right gradient passes on every element; one wrong element is the one reported.
func TestRun(t *testing.T) {
	a, b := []float64{0.5, -1, 2}, []float64{3}
	loss := func() (float64, error) { return a[0]*a[0]*a[0] + a[1]*a[1]*a[1] + a[2]*a[2]*a[2] + a[0]*b[0], nil }
	grads := [][]float64{{3*0.25 + 3, 3, 12}, {0.5}}
	c := Check{Step: 1e-6, Atol: 1e-6, Rtol: 1e-5, PerTensor: 10, Rng: rand.New(rand.NewPCG(1, 1)),
		Name: func(k int) string { return []string{"a", "b"}[k] }}
	r := &recorder{TB: t}
	if checked, bad := c.Run(r, [][]float64{a, b}, grads, loss); checked != 4 || bad != 0 || len(r.errors) != 0 {
		t.Fatalf("right gradients: %d checked, %d off: %v", checked, bad, r.errors)
	}
	if a[0] != 0.5 || a[1] != -1 || a[2] != 2 || b[0] != 3 {
		t.Fatalf("parameters not restored: %v %v", a, b)
	}
	grads[0][2] = 12.01
	c.PerTensor = 1
	c.Extra = func(k int) []int { return []int{2}[:1-k] } // a[2] for a, nothing more for b
	r = &recorder{TB: t}
	checked, bad := c.Run(r, [][]float64{a, b}, grads, loss)
	if checked != 3 || bad != 1 || len(r.errors) != 1 || r.errors[0][:5] != "a[2]:" {
		t.Fatalf("one wrong gradient: %d checked, %d off: %v", checked, bad, r.errors)
	}
}
