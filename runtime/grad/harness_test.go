package grad

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// recorder collects the failures the harness reports.
type recorder struct{ errors []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// scaled wraps a backward and scales what it adds into each input gradient by f.
type scaled struct {
	op gradOp
	f  float32
}

func (s scaled) backward(c *ctx, in, out, dOut, dIn []*tensor.Tensor) error {
	before := make([][]float32, len(dIn))
	for i, d := range dIn {
		if d != nil {
			before[i] = append([]float32{}, d.F32()...)
		}
	}
	if err := s.op.backward(c, in, out, dOut, dIn); err != nil {
		return err
	}
	for i, d := range dIn {
		if d != nil {
			for j, v := range d.F32() {
				d.F32()[j] = before[i][j] + s.f*(v-before[i][j])
			}
		}
	}
	return nil
}

// TestHarnessCatchesWrongGradients: the finite-difference check rejects gradients that are
// 5% off (a Conv, a Sigmoid and an AveragePool whose backward is scaled by 1.05), and passes
// the same cases with the true backward: the tolerances are tight enough to mean something.
func TestHarnessCatchesWrongGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	cases := []fdCase{
		{name: "conv", inputs: []fdInput{wrt("x", randn(rng, 1, 2, 5, 5)), konst("w", randn(rng, 3, 2, 3, 3))},
			nodes: node("Conv", []string{"x", "w"}, []string{"y"})},
		{name: "sigmoid", inputs: []fdInput{wrt("x", randn(rng, 4, 5))}, nodes: node("Sigmoid", []string{"x"}, []string{"y"})},
		{name: "averagepool", inputs: []fdInput{wrt("x", randn(rng, 1, 2, 6, 6))},
			nodes: node("AveragePool", []string{"x"}, []string{"y"}, onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1))},
	}
	for _, c := range cases {
		c.of = []string{"y"}
		ok := &recorder{}
		c.check(ok, rng)
		if len(ok.errors) != 0 {
			t.Errorf("%s: the true gradient fails the check: %v", c.name, ok.errors)
		}
		reg := Default()
		for _, name := range reg.Names() {
			cons, _ := reg.Lookup(name)
			reg.Add(name, func(n *engine.Node, p *engine.Plan, diff []bool) (gradOp, error) {
				op, err := cons(n, p, diff)
				return scaled{op: op, f: 1.05}, err
			})
		}
		c.reg = reg
		bad := &recorder{}
		c.check(bad, rng)
		if len(bad.errors) == 0 {
			t.Errorf("%s: a gradient 5%% too large passes the check", c.name)
		}
	}
}
