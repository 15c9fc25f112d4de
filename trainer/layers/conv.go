package layers

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d is ONNX's Conv (2-D, dilation 1, group 1) with bias:
//
//	x [N, C, H, W], w [M, C, kh, kw], b [M] -> [N, M, OH, OW]
func Conv2d(x, w, b *G.Node, s ConvSpec) (*G.Node, error) {
	xs, ws, err := convShapes("Conv2d", x, w, b)
	if err != nil {
		return nil, err
	}
	if ws[1] != xs[1] {
		return nil, fmt.Errorf("layers: Conv2d: input has %d channels, weights [M, C, kh, kw] %v want %d", xs[1], ws, ws[1])
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	oh, ow, err := ConvOutput(xs[2], xs[3], ws[2], ws[3], s)
	if err != nil {
		return nil, err
	}
	sh, sw := s.strides()
	g := convGeom{N: xs[0], C: xs[1], H: xs[2], W: xs[3], M: ws[0], OH: oh, OW: ow, KH: ws[2], KW: ws[3], SH: sh, SW: sw, PadT: s.Pads[0], PadL: s.Pads[1]}
	return G.ApplyOp(convOp{kind: kindConv, g: g}, x, w, b)
}

// ConvTranspose2d is ONNX's ConvTranspose (2-D, dilation 1, group 1) with bias:
//
//	x [N, C, H, W], w [C, M, kh, kw], b [M] -> [N, M, OH, OW]
//
// OH = strideH·(H-1) + kh - padTop - padBottom + outputPadH. It is the adjoint of the
// convolution from [N, M, OH, OW] to [N, C, H, W] with the same weights and geometry.
func ConvTranspose2d(x, w, b *G.Node, s ConvSpec) (*G.Node, error) {
	xs, ws, err := convShapes("ConvTranspose2d", x, w, b)
	if err != nil {
		return nil, err
	}
	if ws[0] != xs[1] {
		return nil, fmt.Errorf("layers: ConvTranspose2d: input has %d channels, weights [C, M, kh, kw] %v want %d", xs[1], ws, ws[0])
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	oh, ow, err := ConvTransposeOutput(xs[2], xs[3], ws[2], ws[3], s)
	if err != nil {
		return nil, err
	}
	sh, sw := s.strides()
	// The image side of the geometry is the output y; the column side is the input x.
	g := convGeom{N: xs[0], C: ws[1], H: oh, W: ow, M: xs[1], OH: xs[2], OW: xs[3], KH: ws[2], KW: ws[3], SH: sh, SW: sw, PadT: s.Pads[0], PadL: s.Pads[1]}
	// The convolution from y back to x must have exactly x's size: with the end pads implied
	// by OH, it does (ONNX's output size formula inverted), output_padding included.
	return G.ApplyOp(convOp{kind: kindConvT, g: g}, x, w, b)
}

func convShapes(name string, x, w, b *G.Node) (xs, ws tensor.Shape, err error) {
	xs, ws = x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 {
		return nil, nil, fmt.Errorf("layers: %s: input %v and weights %v must both be 4-D", name, xs, ws)
	}
	bs := b.Shape()
	wantB := ws[0]
	if name == "ConvTranspose2d" {
		wantB = ws[1]
	}
	if len(bs) != 1 || bs[0] != wantB {
		return nil, nil, fmt.Errorf("layers: %s: bias shape %v, want [%d]", name, bs, wantB)
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() {
		return nil, nil, fmt.Errorf("layers: %s: dtypes %v, %v, %v differ", name, x.Dtype(), w.Dtype(), b.Dtype())
	}
	return xs, ws, nil
}

type convKind uint8

const (
	kindConv    convKind = iota // (image, W, b) -> cols: Conv2d
	kindConvT                   // (cols, W, b) -> image: ConvTranspose2d
	kindToCols                  // (image, W) -> cols: ConvTranspose2d's input gradient
	kindToImage                 // (cols, W) -> image: Conv2d's input gradient
	kindFilter                  // (image, cols) -> W: both filter gradients
)

var kindNames = [...]string{"Conv2d", "ConvTranspose2d", "ConvTranspose2dInputGrad", "Conv2dInputGrad", "ConvFilterGrad"}

// convOp is every convolution op and gradient op of the package, on one geometry.
type convOp struct {
	kind convKind
	g    convGeom
}

func (op convOp) String() string { return fmt.Sprintf("%s{%v}", kindNames[op.kind], op.g) }

func (op convOp) Arity() int {
	if op.kind == kindConv || op.kind == kindConvT {
		return 3
	}
	return 2
}

func (op convOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := G.TensorType{Dims: 4, Of: a}
	if op.Arity() == 3 {
		return hm.NewFnType(t4, t4, G.TensorType{Dims: 1, Of: a}, t4)
	}
	return hm.NewFnType(t4, t4, t4)
}

// shapes of the inputs and the output.
func (op convOp) shapes() (in [][]int, out []int) {
	g := op.g
	switch op.kind {
	case kindConv:
		return [][]int{g.imageShape(), g.weightShape(), {g.M}}, g.colsShape()
	case kindConvT:
		return [][]int{g.colsShape(), g.weightShape(), {g.C}}, g.imageShape()
	case kindToCols:
		return [][]int{g.imageShape(), g.weightShape()}, g.colsShape()
	case kindToImage:
		return [][]int{g.colsShape(), g.weightShape()}, g.imageShape()
	default:
		return [][]int{g.imageShape(), g.colsShape()}, g.weightShape()
	}
}

func (op convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	want, out := op.shapes()
	for i, s := range want {
		if err := checkShape(op, in, i, s); err != nil {
			return nil, err
		}
	}
	return tensor.Shape(out).Clone(), nil
}

func (op convOp) Do(in ...G.Value) (G.Value, error) {
	want, out := op.shapes()
	if len(in) != len(want) {
		return nil, fmt.Errorf("layers: %v: %d inputs, want %d", op, len(in), len(want))
	}
	data := make([]any, len(in))
	var dt tensor.Dtype
	for i, v := range in {
		d, t, err := valueData(op, v, want[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && t != dt {
			return nil, fmt.Errorf("layers: %v: mixed dtypes %v and %v", op, dt, t)
		}
		data[i], dt = d, t
	}
	switch data[0].(type) {
	case []float32:
		return dense(doConv[float32](op, data), out), nil
	default:
		return dense(doConv[float64](op, data), out), nil
	}
}

func doConv[F float](op convOp, data []any) []F {
	a, b := data[0].([]F), data[1].([]F)
	switch op.kind {
	case kindConv:
		return batchToCols(op.g, a, b, data[2].([]F))
	case kindConvT:
		return batchToImage(op.g, a, b, data[2].([]F))
	case kindToCols:
		return batchToCols(op.g, a, b, nil)
	case kindToImage:
		return batchToImage(op.g, a, b, nil)
	default:
		return batchFilter(op.g, a, b)
	}
}

func (op convOp) ReturnsPtr() bool      { return false }
func (op convOp) CallsExtern() bool     { return false }
func (op convOp) OverwritesInput() int  { return -1 }
func (op convOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convOp) Hashcode() uint32      { return hashString(op.String()) }

func (op convOp) DiffWRT(n int) []bool {
	d := op.kind == kindConv || op.kind == kindConvT
	out := make([]bool, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// SymDiff: for Conv2d (x image, y cols) dx = toImage(dy, W), dW = filter(x, dy); for
// ConvTranspose2d (x cols, y image) dx = toCols(dy, W), dW = filter(dy, x); db sums dy over
// images and positions.
func (op convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("layers: %v is not differentiable", op)
	}
	x, w := in[0], in[1]
	var dx, dw, db *G.Node
	var err error
	g := op.g
	switch op.kind {
	case kindConv:
		if dx, err = G.ApplyOp(convOp{kind: kindToImage, g: g}, grad, w); err != nil {
			return nil, err
		}
		if dw, err = G.ApplyOp(convOp{kind: kindFilter, g: g}, x, grad); err != nil {
			return nil, err
		}
		db, err = G.ApplyOp(biasGradOp{shape: g.colsShape()}, grad)
	case kindConvT:
		if dx, err = G.ApplyOp(convOp{kind: kindToCols, g: g}, grad, w); err != nil {
			return nil, err
		}
		if dw, err = G.ApplyOp(convOp{kind: kindFilter, g: g}, grad, x); err != nil {
			return nil, err
		}
		db, err = G.ApplyOp(biasGradOp{shape: g.imageShape()}, grad)
	default:
		return nil, fmt.Errorf("layers: %v is not differentiable", op)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// biasGradOp sums y [N, C, ...] over everything but the channel axis: [C].
type biasGradOp struct{ shape []int }

func (op biasGradOp) String() string { return fmt.Sprintf("BiasGrad{%v}", op.shape) }
func (op biasGradOp) Arity() int     { return 1 }
func (op biasGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: len(op.shape), Of: a}, G.TensorType{Dims: 1, Of: a})
}
func (op biasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if err := checkShape(op, in, 0, op.shape); err != nil {
		return nil, err
	}
	return tensor.Shape{op.shape[1]}, nil
}
func (op biasGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("layers: %v: %d inputs, want 1", op, len(in))
	}
	d, _, err := valueData(op, in[0], op.shape)
	if err != nil {
		return nil, err
	}
	N, C := op.shape[0], op.shape[1]
	S := tensor.Shape(op.shape).TotalSize() / max(N*C, 1)
	switch y := d.(type) {
	case []float32:
		return dense(channelSums(y, N, C, S), []int{C}), nil
	default:
		return dense(channelSums(y.([]float64), N, C, S), []int{C}), nil
	}
}
func (op biasGradOp) ReturnsPtr() bool      { return false }
func (op biasGradOp) CallsExtern() bool     { return false }
func (op biasGradOp) OverwritesInput() int  { return -1 }
func (op biasGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op biasGradOp) Hashcode() uint32      { return hashString(op.String()) }
func (op biasGradOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op biasGradOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("layers: %v is not differentiable", op)
}
