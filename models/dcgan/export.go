package dcgan

import (
	"fmt"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Opset is the default-domain opset of exported files.
const Opset = 17

// Graph value names.
const (
	ZName     = imagegen.InputZ      // input [N, latent]
	ImageName = imagegen.OutputImage // output [N, C, H, W] in [-1, 1]
	// PreTanhName is the value before the final Tanh, readable by name.
	PreTanhName = "gen.out.y"
)

const reshapeName = "gen.reshape.shape"

// Info returns the contract metadata of c's generator.
func (c Config) Info() (imagegen.Info, error) {
	return imagemodel.Info(pkg, imagegen.Info{Kind: imagegen.DCGANGenerator, LatentDim: c.LatentDim,
		C: c.ImageShape[0], H: c.ImageShape[1], W: c.ImageShape[2], Dataset: c.Dataset}, c)
}

// Export builds the generator's ONNX model of c with params p (copied; GenShapes order).
func Export(c Config, p Params) (*onnx.ModelProto, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	shapes := c.GenShapes()
	if err := p.Validate(shapes); err != nil {
		return nil, err
	}
	info, err := c.Info()
	if err != nil {
		return nil, err
	}
	b := onnx.NewBuilder("dcgan_generator", Opset)
	b.Doc(fmt.Sprintf("gendl DCGAN generator: z [N, %d] ~ N(0, I) -> image %s in [-1, 1]", c.LatentDim, c.ImageShapeString()))
	if err := info.Apply(b); err != nil {
		return nil, fmt.Errorf("dcgan: %w", err)
	}
	N := onnx.Sym("N")
	b.InputDims(ZName, tensor.Float32, N, onnx.Fixed(int64(c.LatentDim)))
	for i, s := range shapes {
		b.Initializer(s.Name, p[i])
	}
	F, h, w := c.Base()
	b.Initializer(reshapeName, tensor.FromInt64([]int64{-1, int64(F), int64(h), int64(w)}, 4))
	alpha := onnx.AttrFloat("alpha", float32(c.Alpha))
	b.NamedNode("gen.dense", "Gemm", []string{ZName, "gen.dense.W", "gen.dense.B"}, []string{"gen.dense.y"}) // [N, F·h·w]
	b.NamedNode("gen.dense.act", "LeakyRelu", []string{"gen.dense.y"}, []string{"gen.dense.a"}, alpha)
	b.NamedNode("gen.reshape", "Reshape", []string{"gen.dense.a", reshapeName}, []string{"gen.base"}) // [N, F, h, w]
	x := "gen.base"
	k := int64(c.Kernel)
	for i := range c.GenFilters {
		name := fmt.Sprintf("gen.convT%d", i)
		pb, pe := SamePads(2*h, c.Kernel, Stride) // the pads of the convolution it transposes
		b.NamedNode(name, "ConvTranspose", []string{x, name + ".W", name + ".B"}, []string{name + ".y"},
			onnx.AttrInts("kernel_shape", k, k), onnx.AttrInts("strides", Stride, Stride),
			onnx.AttrInts("pads", int64(pb), int64(pb), int64(pe), int64(pe)))
		b.NamedNode(name+".act", "LeakyRelu", []string{name + ".y"}, []string{name + ".a"}, alpha)
		x = name + ".a" // [N, GenFilters[i], 2h, 2w]
		h *= 2
	}
	ok := int64(c.OutKernel)
	pb, pe := SamePads(h, c.OutKernel, 1)
	b.NamedNode("gen.out", "Conv", []string{x, "gen.out.W", "gen.out.B"}, []string{PreTanhName},
		onnx.AttrInts("kernel_shape", ok, ok), onnx.AttrInts("strides", 1, 1),
		onnx.AttrInts("pads", int64(pb), int64(pb), int64(pe), int64(pe)))
	b.NamedNode("gen.tanh", "Tanh", []string{PreTanhName}, []string{ImageName})
	C, H, W := int64(c.ImageShape[0]), int64(c.ImageShape[1]), int64(c.ImageShape[2])
	b.OutputDims(ImageName, tensor.Float32, N, onnx.Fixed(C), onnx.Fixed(H), onnx.Fixed(W))
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("dcgan: export: %w", err)
	}
	return m, nil
}

// ExportFile exports the generator and writes it to path atomically.
func ExportFile(path string, c Config, p Params) error {
	m, err := Export(c, p)
	if err != nil {
		return err
	}
	return imagemodel.EncodeFile(pkg, path, m)
}
