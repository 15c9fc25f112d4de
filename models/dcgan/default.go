package dcgan

import (
	_ "embed"
	"fmt"

	"github.com/gendl/gendl/models/imagegen"
)

// defaultGenerator is the DCGAN generator that `gendl sample gan` uses when no --model is
// given: trained by gendl-train on MNIST. default/README.md gives the exact command, the
// steps and the classifier inception score.
//
//go:embed default/generator.onnx
var defaultGenerator []byte

// DefaultName names the embedded model in messages.
const DefaultName = "embedded default model (MNIST DCGAN generator)"

// Default decodes the embedded default generator.
func Default() (*imagegen.Model, error) {
	g, err := imagegen.Decode(defaultGenerator, DefaultName)
	if err != nil {
		return nil, fmt.Errorf("dcgan: %w", err)
	}
	return g, nil
}
