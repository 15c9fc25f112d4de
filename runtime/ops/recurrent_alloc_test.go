package ops

import (
	"testing"

	"github.com/gendl/gendl/runtime/tensor"
)

// TestRecurrentNoAllocs checks that LSTM, GRU and RNN allocate nothing once their Ctx and
// outputs have been sized (a session's steady state): batch 1 (the sampling case, small-M
// products only) and batch 3 with sequence_lens, bidirectional, every input and output.
func TestRecurrentNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	for _, c := range []struct {
		op          string
		gates, acts int
		cons        Constructor
		cell        bool
	}{
		{"LSTM", 4, 3, newLSTM, true},
		{"GRU", 3, 2, newGRU, false},
		{"RNN", 1, 1, newRNN, false},
	} {
		for _, batch := range []int{1, 3} {
			p := &rnnProblem{op: c.op, gates: c.gates, seq: 1, batch: batch, input: 60, hidden: 128,
				direction: "forward", opset: 14}
			if batch > 1 {
				p.seq, p.direction = 5, "bidirectional"
				p.lens = []int32{5, 2, 0}
			}
			dirs, gh := p.dirs(), c.gates*p.hidden
			p.x = make([]float32, p.seq*p.batch*p.input)
			p.w = make([]float32, dirs*gh*p.input)
			p.r = make([]float32, dirs*gh*p.hidden)
			p.b = make([]float32, dirs*2*gh)
			p.h0 = make([]float32, dirs*p.batch*p.hidden)
			p.outputs = []bool{true, true}
			if c.cell {
				p.c0 = make([]float32, dirs*p.batch*p.hidden)
				p.outputs = append(p.outputs, true)
			}
			np, in := p.node()
			op, err := rnnPlan(c.cons, np, p.opset, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := &Ctx{Threads: 1}
			out := []*tensor.Tensor{{}, {}, {}}[:len(p.outputs)]
			run := func() {
				if err := op.Run(ctx, in, out); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if a := testing.AllocsPerRun(50, run); a > 0 {
				t.Errorf("%s batch %d: %v allocations per Run, want 0", c.op, batch, a)
			}
		}
	}
}
