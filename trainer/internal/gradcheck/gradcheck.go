package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	rt "github.com/gendl/gendl/runtime/tensor"
)

// Check is one gradient check's settings.
type Check struct {
	// Step is the finite difference's half width.
	Step float64
	// Atol and Rtol are the tolerance: |g - fd| <= Atol + Rtol·|fd|.
	Atol, Rtol float64
	// PerTensor is how many random elements of each tensor are checked (all when fewer).
	PerTensor int
	// Rng picks the elements (rng.Perm(len)[:PerTensor] per tensor, in order).
	Rng *rand.Rand
	// Name names tensor k in failures.
	Name func(k int) string
	// Extra, if set, lists more elements of tensor k to check after the random ones.
	Extra func(k int) []int
}

// Run checks grads[k] (the analytic gradient of loss with respect to params[k]) against
// central differences of loss, which must read params: each element is perturbed in place
// and restored. It reports each element off with t.Errorf, logs the count, and returns how
// many elements it checked and how many were off.
func (c Check) Run(t testing.TB, params, grads [][]float64, loss func() (float64, error)) (checked, bad int) {
	t.Helper()
	if len(grads) != len(params) {
		t.Fatalf("gradcheck: %d gradients for %d parameters", len(grads), len(params))
	}
	for k, data := range params {
		if len(grads[k]) != len(data) {
			t.Fatalf("gradcheck: gradient %d has %d values, parameter %d", k, len(grads[k]), len(data))
		}
		picks := c.Rng.Perm(len(data))[:min(len(data), c.PerTensor)]
		if c.Extra != nil {
			picks = append(picks, c.Extra(k)...)
		}
		for _, j := range picks {
			old := data[j]
			data[j] = old + c.Step
			lp, err := loss()
			if err != nil {
				t.Fatal(err)
			}
			data[j] = old - c.Step
			lm, err := loss()
			if err != nil {
				t.Fatal(err)
			}
			data[j] = old
			fd := (lp - lm) / (2 * c.Step)
			checked++
			if g := grads[k][j]; !(math.Abs(g-fd) <= c.Atol+c.Rtol*math.Abs(fd)) {
				bad++
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g", c.name(k), j, g, fd)
			}
		}
	}
	t.Logf("%d gradient elements checked, %d off", checked, bad)
	return checked, bad
}

func (c Check) name(k int) string {
	if c.Name == nil {
		return fmt.Sprintf("parameter %d", k)
	}
	return c.Name(k)
}

// Grads copies the n float64 gradients grad(0..n-1) returns (a graph's GradData).
func Grads(n int, grad func(k int) (any, error)) ([][]float64, error) {
	out := make([][]float64, n)
	for k := range out {
		g, err := grad(k)
		if err != nil {
			return nil, err
		}
		d, ok := g.([]float64)
		if !ok {
			return nil, fmt.Errorf("gradcheck: gradient %d is %T, want []float64", k, g)
		}
		out[k] = append([]float64(nil), d...)
	}
	return out, nil
}

// Data returns the float64 backing of each tensor (aliasing ps).
func Data(ps []*tensor.Dense) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Data().([]float64)
	}
	return out
}

// Float64 converts x to float64.
func Float64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Dense64 converts float32 parameters to float64 Gorgonia tensors of the given (graph)
// shapes.
func Dense64(shapes [][]int, ts []*rt.Tensor) []*tensor.Dense {
	out := make([]*tensor.Dense, len(ts))
	for i, t := range ts {
		out[i] = tensor.New(tensor.WithShape(shapes[i]...), tensor.WithBacking(Float64(t.F32())))
	}
	return out
}
