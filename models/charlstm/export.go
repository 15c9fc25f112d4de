package charlstm

import (
	"encoding/json"
	"fmt"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/tensor"
)

// Metadata keys and values of an exported model.
const (
	MetaModel     = "gendl.model"
	MetaFormat    = "gendl.format"
	MetaConfig    = "gendl.config"
	ModelName     = "charlstm"
	FormatVersion = 1
)

// Opset is the default-domain opset of exported models.
const Opset = 17

// Graph value names of an exported model.
const (
	InputName  = "x"      // [T, N, V] one-hot characters
	ProbsName  = "probs"  // [T, N, V]
	LogitsName = "logits" // [T, N, V]
)

// H0Name is the initial hidden state input of layer l, [1, N, H].
func H0Name(l int) string { return fmt.Sprintf("h0_%d", l) }

// C0Name is the initial cell state input of layer l, [1, N, H].
func C0Name(l int) string { return fmt.Sprintf("c0_%d", l) }

// HName is the final hidden state output of layer l (the LSTM's Y_h), [1, N, H].
func HName(l int) string { return fmt.Sprintf("h_%d", l) }

// CName is the final cell state output of layer l (the LSTM's Y_c), [1, N, H].
func CName(l int) string { return fmt.Sprintf("c_%d", l) }

// Initializer names of layer l's weights and of the head.
func wName(l int) string { return fmt.Sprintf("lstm%d.W", l) }
func rName(l int) string { return fmt.Sprintf("lstm%d.R", l) }
func bName(l int) string { return fmt.Sprintf("lstm%d.B", l) }

const (
	headWtName  = "head.Wt" // [H, V]: HeadW transposed, for MatMul
	headBName   = "head.b"  // [V]
	squeezeAxes = "axis1"   // int64 [1] = {1}: Squeeze's axes input
)

// Export builds the ONNX model of cfg with params (see the package documentation for the
// graph). The parameters are copied.
func Export(cfg Config, params *Params) (*onnx.ModelProto, error) {
	if err := params.Validate(cfg); err != nil {
		return nil, err
	}
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("charlstm: encoding the config: %w", err)
	}
	V, H := int64(cfg.VocabSize()), int64(cfg.Hidden)
	T, N := onnx.Sym("T"), onnx.Sym("N")

	b := onnx.NewBuilder("charlstm", Opset)
	b.Doc(fmt.Sprintf("gendl char-LSTM: %d layer(s) of %d units over %d characters; sample with `gendl sample text --model FILE`", cfg.Layers, cfg.Hidden, V))
	b.Metadata(MetaModel, ModelName).
		Metadata(MetaFormat, fmt.Sprint(FormatVersion)).
		Metadata(MetaConfig, string(cj))

	b.InputDims(InputName, tensor.Float32, T, N, onnx.Fixed(V))
	for l := range cfg.Layers {
		b.InputDims(H0Name(l), tensor.Float32, onnx.Fixed(1), N, onnx.Fixed(H))
		b.InputDims(C0Name(l), tensor.Float32, onnx.Fixed(1), N, onnx.Fixed(H))
	}
	b.Initializer(squeezeAxes, tensor.FromInt64([]int64{1}, 1))

	x := InputName // [T, N, in]
	for l, ly := range params.Layers {
		b.Initializer(wName(l), ly.W).Initializer(rName(l), ly.R).Initializer(bName(l), ly.B)
		y := fmt.Sprintf("lstm%d.Y", l) // [T, 1, N, H]
		b.NamedNode(fmt.Sprintf("lstm%d", l), "LSTM",
			[]string{x, wName(l), rName(l), bName(l), "", H0Name(l), C0Name(l)},
			[]string{y, HName(l), CName(l)},
			onnx.AttrInt("hidden_size", H))
		sq := fmt.Sprintf("lstm%d.out", l) // [T, N, H]
		b.NamedNode(fmt.Sprintf("lstm%d.squeeze", l), "Squeeze", []string{y, squeezeAxes}, []string{sq})
		x = sq
	}

	// head: [T, N, H] · [H, V] + [V] -> [T, N, V]
	wt := tensor.New(tensor.Float32, int(H), int(V))
	src, dst := params.HeadW.F32(), wt.F32()
	for v := range int(V) {
		for h := range int(H) {
			dst[h*int(V)+v] = src[v*int(H)+h]
		}
	}
	b.Initializer(headWtName, wt).Initializer(headBName, params.HeadB)
	b.NamedNode("head.matmul", "MatMul", []string{x, headWtName}, []string{"head.xw"})
	b.NamedNode("head.add", "Add", []string{"head.xw", headBName}, []string{LogitsName})
	b.NamedNode("softmax", "Softmax", []string{LogitsName}, []string{ProbsName}, onnx.AttrInt("axis", -1))

	b.OutputDims(ProbsName, tensor.Float32, T, N, onnx.Fixed(V))
	b.OutputDims(LogitsName, tensor.Float32, T, N, onnx.Fixed(V))
	for l := range cfg.Layers {
		b.OutputDims(HName(l), tensor.Float32, onnx.Fixed(1), N, onnx.Fixed(H))
		b.OutputDims(CName(l), tensor.Float32, onnx.Fixed(1), N, onnx.Fixed(H))
	}
	m, err := b.Model()
	if err != nil {
		return nil, fmt.Errorf("charlstm: export: %w", err)
	}
	return m, nil
}

// ExportFile exports the model and writes it to path atomically.
func ExportFile(path string, cfg Config, params *Params) error {
	m, err := Export(cfg, params)
	if err != nil {
		return err
	}
	return onnx.EncodeFile(path, m)
}
