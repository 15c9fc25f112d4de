package ops

// What the recurrent ops LSTM, GRU and RNN share (ONNX opsets 7 and 14; float32): the
// attributes common to all three (direction, hidden_size, layout, clip, activations with
// activation_alpha and activation_beta), the validation of the inputs X, W, R, B,
// sequence_lens and initial_h, and the index arithmetic of the two layouts.
//
// Conventions the three ops follow, after the spec and ONNX Runtime:
//   - Gate blocks of W [dirs, gates*H, in], R [dirs, gates*H, H] and B [dirs, 2*gates*H] are
//     stacked per direction; direction 0 is forward (or the only, reversed, direction when
//     direction is "reverse"), direction 1 is the backward half of "bidirectional".
//   - clip bounds every gate's pre-activation to [-clip, clip] (LSTM: not the cell state
//     before h).
//   - A batch entry of length L (sequence_lens) runs L steps: time 0..L-1 forwards, L-1..0
//     backwards. Y is zero at times >= L, and Y_h (Y_c) hold the state after the last step
//     run. An entry of length 0 runs no step: its Y rows, Y_h and Y_c are zero (the spec
//     leaves this case open; zeros match the entry's all-zero Y).

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gendl/gendl/kernels"
	"github.com/gendl/gendl/runtime/tensor"
)

// rnnActKind names an activation function of the recurrent ops.
type rnnActKind int

const (
	rnnActRelu rnnActKind = iota
	rnnActTanh
	rnnActSigmoid
	rnnActAffine
	rnnActLeakyRelu
	rnnActThresholdedRelu
	rnnActScaledTanh
	rnnActHardSigmoid
	rnnActElu
	rnnActSoftsign
	rnnActSoftplus
)

// rnnActSpec describes an activation name: its kind, which of activation_alpha and
// activation_beta it consumes, and the defaults (those of the ONNX operator of that name)
// used when the lists run out.
type rnnActSpec struct {
	kind                rnnActKind
	usesAlpha, usesBeta bool
	alpha, beta         float32
}

// rnnActSpecs lists the activation functions of the recurrent ops' spec, keyed by lower-case
// name (names are matched without regard to case, as ONNX Runtime does).
var rnnActSpecs = map[string]rnnActSpec{
	"relu":            {kind: rnnActRelu},
	"tanh":            {kind: rnnActTanh},
	"sigmoid":         {kind: rnnActSigmoid},
	"affine":          {kind: rnnActAffine, usesAlpha: true, usesBeta: true, alpha: 1, beta: 0},
	"leakyrelu":       {kind: rnnActLeakyRelu, usesAlpha: true, alpha: 0.01},
	"thresholdedrelu": {kind: rnnActThresholdedRelu, usesAlpha: true, alpha: 1},
	"scaledtanh":      {kind: rnnActScaledTanh, usesAlpha: true, usesBeta: true, alpha: 1, beta: 1},
	"hardsigmoid":     {kind: rnnActHardSigmoid, usesAlpha: true, usesBeta: true, alpha: 0.2, beta: 0.5},
	"elu":             {kind: rnnActElu, usesAlpha: true, alpha: 1},
	"softsign":        {kind: rnnActSoftsign},
	"softplus":        {kind: rnnActSoftplus},
}

// rnnAct is one activation function of a recurrent op with its parameters.
type rnnAct struct {
	kind        rnnActKind
	alpha, beta float32
}

// apply replaces every element of x by the activation of it. Sigmoid and Tanh (and
// ScaledTanh's tanh) go through the float32 slice kernels (kernels.SigmoidF32, TanhF32:
// within 2 ulp of the exact result); the rarer functions use float64 math.
func (a rnnAct) apply(x []float32) {
	switch a.kind {
	case rnnActRelu:
		for i, v := range x {
			x[i] = max(v, 0)
		}
	case rnnActTanh:
		kernels.TanhF32(x, x)
	case rnnActSigmoid:
		kernels.SigmoidF32(x, x)
	case rnnActAffine:
		for i, v := range x {
			x[i] = a.alpha*v + a.beta
		}
	case rnnActLeakyRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = a.alpha * v
			}
		}
	case rnnActThresholdedRelu:
		// The recurrent ops' spec: x if x >= alpha else 0.
		for i, v := range x {
			if v < a.alpha {
				x[i] = 0
			}
		}
	case rnnActScaledTanh:
		for i, v := range x {
			x[i] = a.beta * v
		}
		kernels.TanhF32(x, x)
		for i, v := range x {
			x[i] = a.alpha * v
		}
	case rnnActHardSigmoid:
		for i, v := range x {
			x[i] = min(max(a.alpha*v+a.beta, 0), 1)
		}
	case rnnActElu:
		for i, v := range x {
			if v < 0 {
				x[i] = a.alpha * float32(math.Expm1(float64(v)))
			}
		}
	case rnnActSoftsign:
		for i, v := range x {
			x[i] = v / (1 + float32(math.Abs(float64(v))))
		}
	case rnnActSoftplus:
		for i, v := range x {
			// log(1+e^x), computed without overflow for large x.
			f := float64(v)
			if f > 0 {
				x[i] = float32(f + math.Log1p(math.Exp(-f)))
			} else {
				x[i] = float32(math.Log1p(math.Exp(f)))
			}
		}
	}
}

// applyTo sets dst to the activation of src (same length; not overlapping unless the same).
func (a rnnAct) applyTo(dst, src []float32) {
	switch a.kind {
	case rnnActTanh:
		kernels.TanhF32(dst, src)
	case rnnActSigmoid:
		kernels.SigmoidF32(dst, src)
	default:
		copy(dst, src)
		a.apply(dst)
	}
}

// rnnClip bounds every element of x to [-c, c]; c <= 0 means no clip.
func rnnClip(x []float32, c float32) {
	if c <= 0 {
		return
	}
	for i, v := range x {
		x[i] = min(max(v, -c), c)
	}
}

// recurrent holds what LSTM, GRU and RNN nodes share once planned.
type recurrent struct {
	gates   int  // gate blocks per direction in W and R: LSTM 4, GRU 3, RNN 1
	nActs   int  // activation functions per direction: LSTM 3, GRU 2, RNN 1
	dirs    int  // 1, or 2 when bidirectional
	reverse bool // direction is "reverse": the only direction runs backwards
	hidden  int  // the hidden_size attribute, 0 when absent (then R gives it)
	layout  int  // 0: X [seq, batch, in]; 1: X [batch, seq, in] (opset 14)
	clip    float32
	acts    []rnnAct // nActs per direction, direction-major
	outputs int      // output slots of the node: Y, Y_h (and Y_c for LSTM)
}

// newRecurrent reads the attributes the recurrent ops share. gates is the number of gate
// blocks per direction and defaultActs the spec's activations for one direction. Bad values
// are recorded in n.Attrs and returned.
func newRecurrent(n *Node, gates int, defaultActs []string) (recurrent, error) {
	a := n.Attrs
	c := recurrent{gates: gates, nActs: len(defaultActs), dirs: 1, outputs: n.NumOutputs()}
	switch dir := a.String("direction", "forward"); dir {
	case "forward":
	case "reverse":
		c.reverse = true
	case "bidirectional":
		c.dirs = 2
	default:
		a.Errorf("direction", "want forward, reverse or bidirectional, got %q", dir)
	}
	if a.Has("hidden_size") {
		h := a.Int("hidden_size", 0)
		if h <= 0 || h > math.MaxInt32 {
			a.Errorf("hidden_size", "want a positive value, got %d", h)
		}
		c.hidden = int(h)
	}
	if a.Has("layout") && n.Opset < 14 {
		a.Errorf("layout", "arrived in opset 14, the model imports opset %d", n.Opset)
	}
	switch l := a.Int("layout", 0); l {
	case 0, 1:
		c.layout = int(l)
	default:
		a.Errorf("layout", "want 0 or 1, got %d", l)
	}
	if a.Has("clip") {
		c.clip = a.Float("clip", 0)
		if !(c.clip > 0) || math.IsInf(float64(c.clip), 1) {
			a.Errorf("clip", "want a positive finite threshold, got %v", c.clip)
		}
	}

	names := a.Strings("activations", nil)
	if names == nil {
		for range c.dirs {
			names = append(names, defaultActs...)
		}
	} else if len(names) != c.nActs*c.dirs {
		a.Errorf("activations", "want %d names (%d per direction), got %d", c.nActs*c.dirs, c.nActs, len(names))
	}
	// activation_alpha and activation_beta are consumed in order by the activations that
	// take a parameter (ONNX Runtime's reading); missing values take the defaults.
	alphas := a.Floats("activation_alpha", nil)
	betas := a.Floats("activation_beta", nil)
	for _, name := range names {
		s, ok := rnnActSpecs[strings.ToLower(name)]
		if !ok {
			a.Errorf("activations", "unsupported activation %q (want one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)", name)
			continue
		}
		act := rnnAct{kind: s.kind, alpha: s.alpha, beta: s.beta}
		if s.usesAlpha && len(alphas) > 0 {
			act.alpha, alphas = alphas[0], alphas[1:]
		}
		if s.usesBeta && len(betas) > 0 {
			act.beta, betas = betas[0], betas[1:]
		}
		c.acts = append(c.acts, act)
	}
	return c, a.Err()
}

// act returns activation k (0-based, in the spec's order) of direction dir.
func (c *recurrent) act(dir, k int) rnnAct { return c.acts[dir*c.nActs+k] }

// backward reports whether direction dir runs from the last time step to the first.
func (c *recurrent) backward(dir int) bool { return dir == 1 || c.reverse }

// rnnDims are the sizes of one run.
type rnnDims struct {
	seq, batch, input, hidden int
}

// rnnInput returns input slot i, or nil when the node does not have it.
func rnnInput(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// rnnInputs are the names of the recurrent ops' inputs in slot order; GRU and RNN have the
// first six.
var rnnInputs = [8]string{"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"}

// seqLensSlot is the slot of sequence_lens, the one integer input.
const seqLensSlot = 4

// The dtypes the recurrent ops support: sequence_lens is an integer, every other input float32.
var (
	rnnFloatDTypes  = []tensor.DType{tensor.Float32}
	rnnSeqLenDTypes = []tensor.DType{tensor.Int32, tensor.Int64}
)

// rnnDTypes returns the dtypes input slot i supports.
func rnnDTypes(i int) []tensor.DType {
	if i == seqLensSlot {
		return rnnSeqLenDTypes
	}
	return rnnFloatDTypes
}

// rnnCheckDType checks the dtype of input slot i.
func rnnCheckDType(i int, t *tensor.Tensor) error {
	if want := rnnDTypes(i); !slices.Contains(want, t.DType) {
		return fmt.Errorf("input %q: unsupported dtype %v (want %v)", rnnInputs[i], t.DType, want)
	}
	return nil
}

// weights checks the shapes of W, R and B (b nil when absent) against each other and the
// attributes, and returns the input and hidden sizes. Dimensions of -1 are unknown (plan
// time; see pool_geometry.go), and so are the sizes they leave open.
func (c *recurrent) weights(w, r, b []int) (input, hidden int, err error) {
	if len(w) != 3 {
		return 0, 0, fmt.Errorf("input \"W\": want rank 3 [num_directions, %d*hidden_size, input_size], got shape %s", c.gates, dimsString(w))
	}
	if len(r) != 3 {
		return 0, 0, fmt.Errorf("input \"R\": want rank 3 [num_directions, %d*hidden_size, hidden_size], got shape %s", c.gates, dimsString(r))
	}
	hidden = r[2]
	if c.hidden > 0 {
		if hidden >= 0 && hidden != c.hidden {
			return 0, 0, fmt.Errorf("input \"R\": want shape %s (hidden_size %d), got %s", dimsString([]int{c.dirs, c.gates * c.hidden, c.hidden}), c.hidden, dimsString(r))
		}
		hidden = c.hidden
	}
	if hidden < 0 {
		// Plan time: the gate blocks of R, W or B may tell.
		hidden = hiddenFromBlocks(r[1], c.gates)
		hidden = mergeDim(hidden, hiddenFromBlocks(w[1], c.gates))
		if len(b) == 2 {
			hidden = mergeDim(hidden, hiddenFromBlocks(b[1], 2*c.gates))
		}
	}
	gh := mulDim(c.gates, hidden)
	if err := wantDims("R", r, c.dirs, gh, hidden); err != nil {
		return 0, 0, err
	}
	input = w[2]
	if err := wantDims("W", w, c.dirs, gh, input); err != nil {
		return 0, 0, err
	}
	if b != nil {
		if err := wantDims("B", b, c.dirs, mulDim(2, gh)); err != nil {
			return 0, 0, err
		}
	}
	return input, hidden, nil
}

// hiddenFromBlocks is hidden_size from the size of blocks stacked gate blocks of hidden_size
// rows each, or -1 if size is unknown or not a multiple of blocks.
func hiddenFromBlocks(size, blocks int) int {
	if size < 0 || size%blocks != 0 {
		return -1
	}
	return size / blocks
}

// checkConstWeights validates W, R and B at plan time when they are constants.
func (c *recurrent) checkConstWeights(n *Node) error {
	if len(n.Consts) < 3 || n.Consts[1] == nil || n.Consts[2] == nil {
		return nil
	}
	var b *tensor.Tensor
	if len(n.Consts) > 3 {
		b = n.Consts[3]
		if b == nil && n.Proto.GetInput()[3] != "" {
			return nil // B is computed at run time
		}
	}
	for i, t := range []*tensor.Tensor{n.Consts[1], n.Consts[2], b} {
		if t == nil {
			continue
		}
		if err := rnnCheckDType(i+1, t); err != nil {
			return n.Errorf("%v", err)
		}
	}
	if _, _, err := c.weights(n.Consts[1].Shape, n.Consts[2].Shape, shapeOf(b)); err != nil {
		return n.Errorf("%v", err)
	}
	return nil
}

// dims validates the inputs (slots X, W, R, B, sequence_lens, initial_h and, for LSTM,
// initial_c and P) and returns the sizes of the run.
func (c *recurrent) dims(in []*tensor.Tensor) (rnnDims, error) {
	if in[0] == nil || in[1] == nil || in[2] == nil {
		return rnnDims{}, fmt.Errorf("inputs X, W and R are required")
	}
	var shapes [len(rnnInputs)][]int
	for i := range min(len(in), len(rnnInputs)) {
		if t := in[i]; t != nil {
			if err := rnnCheckDType(i, t); err != nil {
				return rnnDims{}, err
			}
			shapes[i] = shapeOf(t)
		}
	}
	d, err := c.shapeDims(&shapes)
	if err != nil {
		return d, err
	}
	if sl := rnnInput(in, seqLensSlot); sl != nil {
		for b := range d.batch {
			if v := seqLenAt(sl, b); v < 0 || v > int64(d.seq) {
				return d, fmt.Errorf("input \"sequence_lens\": entry %d is %d, want 0 to seq_length %d", b, v, d.seq)
			}
		}
	}
	return d, nil
}

// shapeDims checks the shapes of the inputs against each other and the attributes and
// returns the sizes of the run. s holds the shapes in slot order (see rnnInputs), nil for
// absent inputs; X, W and R must be there. Dimensions of -1 are unknown (plan time): the
// checks that need them are skipped, and sizes nothing gives are -1.
func (c *recurrent) shapeDims(s *[len(rnnInputs)][]int) (rnnDims, error) {
	var d rnnDims
	x, w := s[0], s[1]
	if len(x) != 3 {
		return d, fmt.Errorf("input \"X\": want rank 3, got shape %s", dimsString(x))
	}
	var err error
	if d.input, d.hidden, err = c.weights(w, s[2], s[3]); err != nil {
		return d, err
	}
	d.seq, d.batch = x[0], x[1]
	if c.layout == 1 {
		d.seq, d.batch = d.batch, d.seq
	}
	if x[2] >= 0 && d.input >= 0 && x[2] != d.input {
		return d, fmt.Errorf("input \"X\": input_size %d does not match W's %d (X shape %s, W shape %s)", x[2], d.input, dimsString(x), dimsString(w))
	}
	d.input = mergeDim(d.input, x[2])
	if sl := s[seqLensSlot]; sl != nil {
		if err := wantDims("sequence_lens", sl, d.batch); err != nil {
			return d, err
		}
		d.batch = mergeDim(d.batch, sl[0])
	}
	batchAxis := 1 // of a state: [dirs, batch, H], or [batch, dirs, H] in layout 1
	if c.layout == 1 {
		batchAxis = 0
	}
	for i := 5; i <= 6; i++ { // initial_h, initial_c
		if st := s[i]; st != nil {
			if err := wantDims(rnnInputs[i], st, c.stateShape(d)...); err != nil {
				return d, err
			}
			d.batch, d.hidden = mergeDim(d.batch, st[batchAxis]), mergeDim(d.hidden, st[2])
		}
	}
	if p := s[7]; p != nil {
		if err := wantDims("P", p, c.dirs, mulDim(3, d.hidden)); err != nil {
			return d, err
		}
	}
	return d, nil
}

// infer is the plan-time dims: it checks the dtypes and what is known of the shapes of the
// inputs, and returns the types of the outputs, Y and then the states (Y_h, Y_c), float32
// with -1 for the sizes the inputs leave open.
func (c *recurrent) infer(in []Type) ([]Type, error) {
	var shapes [len(rnnInputs)][]int
	for i := range min(len(in), len(rnnInputs)) {
		if err := CheckDType(rnnInputs[i], in[i], rnnDTypes(i)...); err != nil {
			return nil, err
		}
		shapes[i] = optShape(in[i])
	}
	for i := range 3 { // X, W and R are required and have rank 3
		shapes[i] = shapeOr(inType(in, i), 3)
	}
	d, err := c.shapeDims(&shapes)
	if err != nil {
		return nil, err
	}
	out := make([]Type, c.outputs)
	for i := range out {
		shape := c.stateShape(d)
		if i == 0 {
			shape = c.yShape(d)
		}
		out[i] = Type{DType: tensor.Float32, Shape: shape, Ranked: true}
	}
	return out, nil
}

// seqLenAt returns sequence_lens[b] of an int32 or int64 tensor.
func seqLenAt(t *tensor.Tensor, b int) int64 {
	if t.DType == tensor.Int32 {
		return int64(t.I32()[b])
	}
	return t.I64()[b]
}

// seqLen returns the number of steps batch entry b runs: sequence_lens[b], or seq when
// sequence_lens (sl) is absent. dims has validated the values.
func seqLen(sl *tensor.Tensor, b, seq int) int {
	if sl == nil {
		return seq
	}
	return int(seqLenAt(sl, b))
}

// maxSeqLen is the number of steps the longest batch entry runs.
func maxSeqLen(sl *tensor.Tensor, d rnnDims) int {
	if sl == nil {
		return d.seq
	}
	m := 0
	for b := range d.batch {
		m = max(m, seqLen(sl, b, d.seq))
	}
	return m
}

// yShape is the shape of output Y.
func (c *recurrent) yShape(d rnnDims) []int {
	if c.layout == 1 {
		return []int{d.batch, d.seq, c.dirs, d.hidden}
	}
	return []int{d.seq, c.dirs, d.batch, d.hidden}
}

// stateShape is the shape of initial_h, initial_c, Y_h and Y_c.
func (c *recurrent) stateShape(d rnnDims) []int {
	if c.layout == 1 {
		return []int{d.batch, c.dirs, d.hidden}
	}
	return []int{c.dirs, d.batch, d.hidden}
}

// xRow is the row of X viewed as a [seq*batch, input] matrix (and of its projection) that
// holds time t of batch entry b.
func (c *recurrent) xRow(d rnnDims, t, b int) int {
	if c.layout == 1 {
		return b*d.seq + t
	}
	return t*d.batch + b
}

// yOff is the offset in Y of the hidden vector of time t, direction dir, batch entry b.
func (c *recurrent) yOff(d rnnDims, t, dir, b int) int {
	if c.layout == 1 {
		return ((b*d.seq+t)*c.dirs + dir) * d.hidden
	}
	return ((t*c.dirs+dir)*d.batch + b) * d.hidden
}

// stateOff is the offset in a state tensor (initial_h, Y_h, ...) of direction dir, entry b.
func (c *recurrent) stateOff(d rnnDims, dir, b int) int {
	if c.layout == 1 {
		return (b*c.dirs + dir) * d.hidden
	}
	return (dir*d.batch + b) * d.hidden
}

// loadState fills state [batch, H] with direction dir of init (zeros when init is nil).
func (c *recurrent) loadState(state []float32, init *tensor.Tensor, dir int, d rnnDims) {
	if init == nil {
		clear(state)
		return
	}
	src := init.F32()
	for b := range d.batch {
		o := c.stateOff(d, dir, b)
		copy(state[b*d.hidden:(b+1)*d.hidden], src[o:o+d.hidden])
	}
}

// storeState writes state [batch, H] as direction dir of dst (skipped when dst is nil);
// entries of length 0 get zeros.
func (c *recurrent) storeState(dst *tensor.Tensor, state []float32, sl *tensor.Tensor, dir int, d rnnDims) {
	if dst == nil {
		return
	}
	out := dst.F32()
	for b := range d.batch {
		o := c.stateOff(d, dir, b)
		row := out[o : o+d.hidden]
		if seqLen(sl, b, d.seq) == 0 {
			clear(row)
			continue
		}
		copy(row, state[b*d.hidden:(b+1)*d.hidden])
	}
}

// stepTime reports whether batch entry b runs step s (0-based) of direction dir, and the
// time step it processes then.
func (c *recurrent) stepTime(d rnnDims, sl *tensor.Tensor, dir, s, b int) (t int, ok bool) {
	n := seqLen(sl, b, d.seq)
	if s >= n {
		return 0, false // this entry has finished; its state stays
	}
	if c.backward(dir) {
		return n - 1 - s, true
	}
	return s, true
}

// resetOutputs gives the outputs present among Y (slot 0) and the state outputs (slots 1
// and up to nState <= 2) their dtype and shape, and returns them (nil when absent). Y is zeroed
// when sequence_lens leaves padding in it.
func (c *recurrent) resetOutputs(out []*tensor.Tensor, d rnnDims, sl *tensor.Tensor, nState int) (y *tensor.Tensor, states [2]*tensor.Tensor) {
	if len(out) > 0 && out[0] != nil {
		y = out[0]
		y.Reset(tensor.Float32, c.yShape(d))
		if minSeqLen(sl, d) < d.seq {
			y.Zero()
		}
	}
	for i := 1; i <= nState; i++ {
		var t *tensor.Tensor
		if i < len(out) && out[i] != nil {
			t = out[i]
			t.Reset(tensor.Float32, c.stateShape(d))
		}
		states[i-1] = t
	}
	return y, states
}

// minSeqLen is the number of steps the shortest batch entry runs.
func minSeqLen(sl *tensor.Tensor, d rnnDims) int {
	if sl == nil || d.batch == 0 {
		return d.seq
	}
	m := d.seq
	for b := range d.batch {
		m = min(m, seqLen(sl, b, d.seq))
	}
	return m
}

// project computes xw = X · W[dir]ᵀ + Wb[dir] + Rb[dir] for all time steps at once: X viewed
// as [seq*batch, input], xw as [seq*batch, gates*H]. The recurrent bias is folded in here
// (except for the blocks listed in keepRb, whose Rb the op must add inside its cell).
func (c *recurrent) project(xw []float32, in []*tensor.Tensor, dir int, d rnnDims, keepRb int) {
	c.projectThreads(1, xw, in, dir, d, keepRb)
}

// projectThreads is project with the product on threads goroutines.
func (c *recurrent) projectThreads(threads int, xw []float32, in []*tensor.Tensor, dir int, d rnnDims, keepRb int) {
	gh := c.gates * d.hidden
	rows := d.seq * d.batch
	wd := in[1].F32()[dir*gh*d.input : (dir+1)*gh*d.input]
	// xw: [seq*batch, gates*H] = X [seq*batch, input] · W[dir]ᵀ [input, gates*H]
	sgemmThreads(threads, false, true, rows, gh, d.input, 1, in[0].F32(), max(d.input, 1), wd, max(d.input, 1), 0, xw, max(gh, 1))
	b := rnnInput(in, 3)
	if b == nil {
		return
	}
	bd := b.F32()[dir*2*gh : (dir+1)*2*gh]
	wb, rb := bd[:gh], bd[gh:]
	// The bias of the last keepRb gate blocks stays out of Rb's sum.
	split := gh - keepRb*d.hidden
	for row := range rows {
		r := xw[row*gh : (row+1)*gh]
		for j := range r[:split] {
			r[j] += wb[j] + rb[j]
		}
		for j := split; j < gh; j++ {
			r[j] += wb[j]
		}
	}
}
