package charlstm

import (
	_ "embed"
	"fmt"

	"github.com/gendl/gendl/onnx"
)

// defaultModel is the char-LSTM that `gendl sample text` uses when no --model is given:
// trained by gendl-train on the default corpus (Newton's Opticks) with the book's settings.
// default/README.md gives the exact command, the epochs and the validation loss.
//
//go:embed default/opticks.onnx
var defaultModel []byte

// DefaultName names the embedded model in messages.
const DefaultName = "embedded default model (Opticks char-LSTM)"

// Default decodes and loads the embedded default model.
func Default() (*Model, error) {
	m, err := onnx.Decode(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("charlstm: %s: %w", DefaultName, err)
	}
	model, err := Load(m)
	if err != nil {
		return nil, fmt.Errorf("charlstm: %s: %w", DefaultName, err)
	}
	return model, nil
}
