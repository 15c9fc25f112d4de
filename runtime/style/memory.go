package style

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// Memory is an estimate of what a style transfer at one image size needs, in bytes.
type Memory struct {
	// Weights are the network's constants (the feature extractor's, for VGG19).
	Weights int64
	// Activations are the forward values kept for the backward pass: every value computed
	// on the way to the deepest layer the losses read.
	Activations int64
	// Gradients is the gradient buffer pool of the backward pass: about two buffers per
	// distinct value shape (runtime/grad's pool), plus the input's gradient.
	Gradients int64
	// Scratch covers the convolution backward's column bands (32 MiB per thread), the
	// targets, the Gram matrices and the loss seeds.
	Scratch int64
	// Optimizer is the optimizer's state: L-BFGS's float64 copies of the image, its
	// gradient and 2·Corrections vectors; Adam's two moment vectors.
	Optimizer int64
	// Total is the sum, plus a quarter for the garbage between collections: `gendl style`
	// runs with GOGC=25 (unless GOGC is set), so the heap peaks near 1.25 x the live memory.
	Total int64
}

func (m Memory) String() string {
	return fmt.Sprintf("%s (activations %s, gradients %s, weights %s, optimizer %s, scratch %s)",
		Bytes(m.Total), Bytes(m.Activations), Bytes(m.Gradients), Bytes(m.Weights), Bytes(m.Optimizer), Bytes(m.Scratch))
}

// Bytes formats a byte count in binary units.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// EstimateMemory estimates the memory a Transfer of net at h x w pixels needs with threads
// threads and the optimizer of opt, from the shapes the planner infers for that input size
// (the network is planned again with the size fixed; no activation is allocated). An image
// too small for the network is an error naming the layer that would be empty.
func EstimateMemory(net *Network, h, w, threads int, opt Options) (Memory, error) {
	var mem Memory
	if h < 1 || w < 1 {
		return mem, fmt.Errorf("style: image size %dx%d", w, h)
	}
	p, err := fixedPlan(net, h, w)
	if err != nil {
		return mem, err
	}
	of := dedup(append([]string{net.Content}, net.Style...))
	var ids []int
	for _, name := range of {
		v, ok := p.ValueID(name)
		if !ok {
			return mem, fmt.Errorf("style: no layer %q", name)
		}
		ids = append(ids, v)
	}
	for v := range p.NumValues() {
		if c := p.Constant(v); c != nil {
			mem.Weights += int64(c.Len()) * int64(c.DType.Size())
		}
	}
	byShape := map[string]int64{}
	nodes := p.Nodes()
	for _, ni := range p.NodesFor(ids) {
		n := nodes[ni]
		for _, v := range n.Outputs {
			if v < 0 {
				continue
			}
			t := p.ValueTypeOf(v)
			if !t.Known() {
				return mem, fmt.Errorf("style: %s: cannot tell the size of value %q at a %dx%d image", n.Desc, p.ValueName(v), w, h)
			}
			b := int64(4)
			for _, d := range t.Shape {
				b *= int64(d)
			}
			if b == 0 && t.DType == tensor.Float32 {
				return mem, fmt.Errorf("style: a %dx%d image is too small for the network: value %q of %s is empty", w, h, p.ValueName(v), n.Desc)
			}
			mem.Activations += b
			key := fmt.Sprint(t.Shape)
			byShape[key] = max(byShape[key], b)
		}
	}
	img := int64(3*h*w) * 4
	for _, b := range byShape {
		mem.Gradients += 2 * b
	}
	mem.Gradients += img
	mem.Scratch = int64(max(threads, 1)) * 32 << 20
	for _, v := range ids {
		t := p.ValueTypeOf(v)
		c, n := int64(t.Shape[1]), int64(t.Shape[2]*t.Shape[3])
		mem.Scratch += 2*c*c*4 + 2*c*n*4 // target (or content copy) and Gram scratch; the seed
	}
	mem.Scratch += 4 * img // the feed, x, dx, the content and style images
	switch opt.Optimizer {
	case Adam:
		mem.Optimizer = 2 * img * 2 // two float64 moments
	default:
		m := int64(opt.Corrections)
		if m == 0 {
			m = 10
		}
		// x, cached x and gradient, the method's x, gradient, direction and line-search
		// locations (about 8), and 2m corrections; float64 each.
		mem.Optimizer = (8 + 2*m) * img * 2
	}
	sum := mem.Weights + mem.Activations + mem.Gradients + mem.Scratch + mem.Optimizer
	mem.Total = sum + sum/4
	return mem, nil
}

// fixedPlan plans net's model again with its input fixed to [1, 3, h, w].
func fixedPlan(net *Network, h, w int) (*engine.Plan, error) {
	m := net.Plan.Model
	g := m.GetGraph()
	var inputs []*onnx.ValueInfoProto
	for _, vi := range g.GetInput() {
		if vi.GetName() != net.Input {
			inputs = append(inputs, vi)
			continue
		}
		shape := &onnx.TensorShapeProto{}
		for _, d := range []int{1, 3, h, w} {
			shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		}
		inputs = append(inputs, &onnx.ValueInfoProto{Name: proto.String(vi.GetName()), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(tensor.Float32)), Shape: shape}}}})
	}
	fg := &onnx.GraphProto{Name: proto.String(g.GetName()), Node: g.GetNode(), Initializer: g.GetInitializer(), Input: inputs, Output: g.GetOutput()}
	fm := &onnx.ModelProto{IrVersion: proto.Int64(m.GetIrVersion()), OpsetImport: m.GetOpsetImport(), Graph: fg}
	p, err := engine.New(fm, engine.Options{BaseDir: net.baseDir, Limits: net.limits})
	if err != nil {
		return nil, fmt.Errorf("style: the network cannot run on a %dx%d image, too small for it: %w", w, h, err)
	}
	return p, nil
}

// ParseBytes reads a byte count: a number with an optional unit (B, K/KiB, M/MiB, G/GiB,
// T/TiB; binary multiples, case-insensitive), such as "8GiB" or "512M".
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
		{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("style: %q is not a byte count (such as 8GiB or 512MiB)", s)
	}
	return int64(f * float64(mult)), nil
}
