package vae

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gendl/gendl/models/imagegen"
	"github.com/gendl/gendl/models/internal/imagemodel"
	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Metadata keys and values of the exported files: gendl's image-generator contract
// (package imagegen).
const (
	MetaModel     = imagegen.MetaModel
	MetaFormat    = imagegen.MetaFormat
	MetaLatentDim = imagegen.MetaLatentDim
	MetaImage     = imagegen.MetaImageShape
	MetaDataset   = imagegen.MetaDataset
	MetaConfig    = imagegen.MetaConfig
	EncoderModel  = string(imagegen.VAEEncoder)
	DecoderModel  = string(imagegen.VAEDecoder)
	FormatVersion = 1
)

// Opset is the default-domain opset of exported files.
const Opset = 17

// Graph value names.
const (
	ImageName   = imagegen.InputImage    // encoder input, decoder output: [N, C, H, W] in [0, 1]
	ZMeanName   = imagegen.OutputZMean   // encoder output [N, latent]
	ZLogVarName = imagegen.OutputZLogVar // encoder output [N, latent]
	ZName       = imagegen.InputZ        // decoder input [N, latent]
	LogitsName  = "logits"               // decoder value before the sigmoid [N, C, H, W]
)

// Export builds the encoder and decoder ONNX models of c with params (copied).
func Export(c Config, p *Params) (enc, dec *onnx.ModelProto, err error) {
	if err := p.Validate(c); err != nil {
		return nil, nil, err
	}
	if enc, err = exportEncoder(c, p); err != nil {
		return nil, nil, err
	}
	if dec, err = exportDecoder(c, p); err != nil {
		return nil, nil, err
	}
	return enc, dec, nil
}

func metadata(b *onnx.Builder, c Config, kind string) error {
	cj, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("vae: encoding the config: %w", err)
	}
	b.Metadata(MetaModel, kind).
		Metadata(MetaFormat, strconv.Itoa(FormatVersion)).
		Metadata(MetaLatentDim, strconv.Itoa(c.LatentDim)).
		Metadata(MetaImage, c.ImageShapeString()).
		Metadata(MetaDataset, c.Dataset).
		Metadata(MetaConfig, string(cj))
	return nil
}

func convAttrs(c Config, stride int, transpose bool) []*onnx.AttributeProto {
	p := c.Pads(stride)
	k, s := int64(c.Kernel), int64(stride)
	attrs := []*onnx.AttributeProto{
		onnx.AttrInts("kernel_shape", k, k),
		onnx.AttrInts("strides", s, s),
		onnx.AttrInts("pads", p[0], p[1], p[2], p[3]),
	}
	if op := c.OutputPadding(stride); transpose && op > 0 {
		attrs = append(attrs, onnx.AttrInts("output_padding", op, op))
	}
	return attrs
}

func exportEncoder(c Config, p *Params) (*onnx.ModelProto, error) {
	shapes := c.ParamShapes()
	b := onnx.NewBuilder("vae_encoder", Opset)
	b.Doc(fmt.Sprintf("gendl VAE encoder: image %s -> z_mean, z_log_var [N, %d]", c.ImageShapeString(), c.LatentDim))
	if err := metadata(b, c, EncoderModel); err != nil {
		return nil, err
	}
	N := onnx.Sym("N")
	C, H, W := int64(c.ImageShape[0]), int64(c.ImageShape[1]), int64(c.ImageShape[2])
	b.InputDims(ImageName, tensor.Float32, N, onnx.Fixed(C), onnx.Fixed(H), onnx.Fixed(W))
	params := p.List()
	for i, s := range shapes {
		if !s.Decoder {
			b.Initializer(s.Name, params[i])
		}
	}
	x := ImageName // [N, C, H, W]
	for i := range c.Filters {
		name := fmt.Sprintf("enc.conv%d", i)
		b.NamedNode(name, "Conv", []string{x, name + ".W", name + ".B"}, []string{name + ".y"}, convAttrs(c, 2, false)...)
		b.NamedNode(name+".relu", "Relu", []string{name + ".y"}, []string{name + ".a"})
		x = name + ".a" // [N, Filters[i], H/2^(i+1), W/2^(i+1)]
	}
	b.NamedNode("enc.flatten", "Flatten", []string{x}, []string{"enc.flat"}, onnx.AttrInt("axis", 1)) // [N, F·h·w]
	b.NamedNode("enc.dense", "Gemm", []string{"enc.flat", "enc.dense.W", "enc.dense.B"}, []string{"enc.dense.y"})
	b.NamedNode("enc.dense.relu", "Relu", []string{"enc.dense.y"}, []string{"enc.hidden"}) // [N, Hidden]
	b.NamedNode("enc.z_mean", "Gemm", []string{"enc.hidden", "enc.z_mean.W", "enc.z_mean.B"}, []string{ZMeanName})
	b.NamedNode("enc.z_log_var", "Gemm", []string{"enc.hidden", "enc.z_log_var.W", "enc.z_log_var.B"}, []string{ZLogVarName})
	L := onnx.Fixed(int64(c.LatentDim))
	b.OutputDims(ZMeanName, tensor.Float32, N, L)
	b.OutputDims(ZLogVarName, tensor.Float32, N, L)
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("vae: encoder export: %w", err)
	}
	return m, nil
}

const reshapeName = "dec.reshape.shape"

func exportDecoder(c Config, p *Params) (*onnx.ModelProto, error) {
	shapes := c.ParamShapes()
	b := onnx.NewBuilder("vae_decoder", Opset)
	b.Doc(fmt.Sprintf("gendl VAE decoder: z [N, %d] -> image %s in [0, 1]", c.LatentDim, c.ImageShapeString()))
	if err := metadata(b, c, DecoderModel); err != nil {
		return nil, err
	}
	N := onnx.Sym("N")
	b.InputDims(ZName, tensor.Float32, N, onnx.Fixed(int64(c.LatentDim)))
	params := p.List()
	for i, s := range shapes {
		if s.Decoder {
			b.Initializer(s.Name, params[i])
		}
	}
	F, h, w := c.Bottleneck()
	b.Initializer(reshapeName, tensor.FromInt64([]int64{-1, int64(F), int64(h), int64(w)}, 4))
	b.NamedNode("dec.dense", "Gemm", []string{ZName, "dec.dense.W", "dec.dense.B"}, []string{"dec.dense.y"})
	b.NamedNode("dec.dense.relu", "Relu", []string{"dec.dense.y"}, []string{"dec.dense.a"}) // [N, F·h·w]
	b.NamedNode("dec.reshape", "Reshape", []string{"dec.dense.a", reshapeName}, []string{"dec.grid"})
	x := "dec.grid" // [N, F, h, w]
	for i := range c.Filters {
		name := fmt.Sprintf("dec.convT%d", i)
		b.NamedNode(name, "ConvTranspose", []string{x, name + ".W", name + ".B"}, []string{name + ".y"}, convAttrs(c, 2, true)...)
		b.NamedNode(name+".relu", "Relu", []string{name + ".y"}, []string{name + ".a"})
		x = name + ".a" // spatial size doubles
	}
	b.NamedNode("dec.out", "ConvTranspose", []string{x, "dec.out.W", "dec.out.B"}, []string{LogitsName}, convAttrs(c, 1, true)...)
	b.NamedNode("dec.sigmoid", "Sigmoid", []string{LogitsName}, []string{ImageName})
	C, H, W := int64(c.ImageShape[0]), int64(c.ImageShape[1]), int64(c.ImageShape[2])
	b.OutputDims(ImageName, tensor.Float32, N, onnx.Fixed(C), onnx.Fixed(H), onnx.Fixed(W))
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("vae: decoder export: %w", err)
	}
	return m, nil
}

// Encoder and decoder file names inside an output directory.
const (
	EncoderFile = "encoder.onnx"
	DecoderFile = "decoder.onnx"
)

// ExportFiles exports both models and writes them atomically to encPath and decPath.
func ExportFiles(encPath, decPath string, c Config, p *Params) error {
	enc, dec, err := Export(c, p)
	if err != nil {
		return err
	}
	if err := imagemodel.EncodeFile(pkg, encPath, enc); err != nil {
		return err
	}
	return imagemodel.EncodeFile(pkg, decPath, dec)
}
