package dream

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/ops"
	"github.com/gendl/gendl/runtime/tensor"
)

// netMemory is what one forward and backward pass on a tile of one size needs.
type netMemory struct {
	forward int64           // bytes of the values the forward pass keeps
	layers  map[string]Size // spatial size of each loss layer
}

// Memory model. A step keeps every intermediate value of the forward pass (the backward
// needs them) in the engine session's buffers; the backward's gradient buffers come from a
// pool that holds at most as much again (in practice less: about two buffers per layer
// shape); the convolution backward's column matrices are bounded by runtime/grad's 32 MiB
// budget, and the engine's scratch and Go's heap add some more. The image itself is held at
// full size (the original) and at the octave's size several times over (the dream, its
// gradient, the shifted copy and its gradient, the detail being re-injected, the shrunk
// original).
const (
	passOverhead   = 96 << 20 // scratch, column matrices, heap slack
	imageBuffers   = 8        // image-sized float32 [3, H, W] buffers held at once, at most
	bytesPerPixel3 = 3 * 4    // a float32 RGB pixel
)

// EstimateMemory returns the estimated peak memory, in bytes, of Run on an image of size s
// with d's options: the largest forward-and-backward pass over one tile (2x the bytes of the
// forward values, from the model's shapes at that size) plus the image buffers. It also
// fails if the model cannot run on some octave's tiles (too small for its convolutions and
// pools) or if a loss layer is no larger than the border there.
func (d *Dreamer) EstimateMemory(s Size) (int64, error) {
	plans, err := d.octavePlans(s)
	if err != nil {
		return 0, err
	}
	var worst int64
	for k, op := range plans {
		nm, err := d.netMemory(op.tile())
		if err != nil {
			return 0, fmt.Errorf("dream: octave %d/%d (%s): %w", k+1, len(plans), op, err)
		}
		for _, l := range d.opt.Layers {
			ls := nm.layers[l.Name]
			if ls.H <= 2*d.opt.Border || ls.W <= 2*d.opt.Border {
				return 0, fmt.Errorf("dream: octave %d/%d (%s): layer %q is only %s there, not larger than twice the %d-pixel border: use a larger image (--size), fewer --octaves or a larger --tile-size", k+1, len(plans), op, l.Name, ls, d.opt.Border)
			}
		}
		worst = max(worst, 2*nm.forward)
	}
	return worst + passOverhead + imageBuffers*bytesPerPixel3*int64(s.H)*int64(s.W), nil
}

// memoryError explains a run over the cap.
func (d *Dreamer) memoryError(s Size, plans []octavePlan, need int64) error {
	var hint string
	if d.opt.TileSize == 0 || d.opt.TileSize > 512 {
		hint = "; process it in tiles (--tile-size 512) or make it smaller (--size)"
	} else {
		hint = "; use smaller tiles (--tile-size) or a smaller image (--size)"
	}
	last := plans[len(plans)-1]
	return fmt.Errorf("dream: a %s image (largest octave: %s) would need about %s, over the memory cap of %s (--max-memory)%s",
		s, last, FormatBytes(need), FormatBytes(d.opt.MaxMemory), hint)
}

// FormatBytes writes n bytes as "1.5 GiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// netMemory plans the model with its input fixed to [1, 3, t.H, t.W] and sums the sizes of
// the values the forward pass to the loss layers computes. Results are cached per size.
func (d *Dreamer) netMemory(t Size) (netMemory, error) {
	if nm, ok := d.mem[t]; ok {
		return nm, nil
	}
	p, err := d.fixedPlan(t)
	if err != nil {
		return netMemory{}, err
	}
	ids := make([]int, len(d.opt.Layers))
	nm := netMemory{layers: map[string]Size{}}
	for i, l := range d.opt.Layers {
		v, _ := p.ValueID(l.Name)
		ids[i] = v
		typ := p.ValueTypeOf(v)
		if !typ.Known() {
			return netMemory{}, fmt.Errorf("the shape of layer %q at input size %s is unknown", l.Name, t)
		}
		if len(typ.Shape) == 4 {
			nm.layers[l.Name] = Size{typ.Shape[2], typ.Shape[3]}
		} else {
			nm.layers[l.Name] = Size{1 << 30, 1 << 30} // not an image: never cropped
		}
	}
	nodes := p.Nodes()
	for _, ni := range p.NodesFor(ids) {
		for _, v := range nodes[ni].Outputs {
			if v < 0 {
				continue
			}
			typ := p.ValueTypeOf(v)
			if !typ.Known() {
				return netMemory{}, fmt.Errorf("the shape of value %q at input size %s is unknown", p.ValueName(v), t)
			}
			size := typ.DType.Size()
			if size == 0 {
				size = 4
			}
			nm.forward += int64(size) * int64(tensor.Numel(typ.Shape))
		}
	}
	d.mem[t] = nm
	return nm, nil
}

// fixedPlan plans d's model with the input shape fixed to [1, 3, t.H, t.W], so that planning
// infers every value's shape. The new model shares the original's nodes and initializers.
func (d *Dreamer) fixedPlan(t Size) (*engine.Plan, error) {
	src := d.m.Plan.Model
	g := src.GetGraph()
	var inputs []*onnx.ValueInfoProto
	for _, in := range g.GetInput() {
		if in.GetName() != d.m.Input {
			inputs = append(inputs, in)
			continue
		}
		inputs = append(inputs, &onnx.ValueInfoProto{Name: proto.String(in.GetName()), Type: &onnx.TypeProto{
			Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
				ElemType: proto.Int32(int32(tensor.Float32)),
				Shape:    shape(1, 3, int64(t.H), int64(t.W)),
			}}}})
	}
	m := &onnx.ModelProto{IrVersion: proto.Int64(src.GetIrVersion()), OpsetImport: src.GetOpsetImport(),
		Graph: &onnx.GraphProto{Name: proto.String(g.GetName()), Node: g.GetNode(), Initializer: g.GetInitializer(),
			Input: inputs, Output: g.GetOutput()}}
	p, err := engine.New(m, engine.Options{Registry: ops.Default(), BaseDir: d.m.BaseDir})
	if err != nil {
		return nil, fmt.Errorf("the image is too small for the network (use a larger image (--size), fewer --octaves or a larger --tile-size): on a %s input, %s", t, strings.TrimPrefix(err.Error(), "engine: "))
	}
	return p, nil
}

func shape(dims ...int64) *onnx.TensorShapeProto {
	s := &onnx.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return s
}
