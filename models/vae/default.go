package vae

import (
	_ "embed"
	"fmt"

	"github.com/gendl/gendl/models/imagegen"
)

// The VAE that `gendl sample vae` uses when no --model is given: trained by gendl-train on
// MNIST with a 2-D latent space (the book's figure). default/README.md gives the exact
// command, the epochs and the test negative ELBO.
var (
	//go:embed default/decoder.onnx
	defaultDecoder []byte
	//go:embed default/encoder.onnx
	defaultEncoder []byte
)

// DefaultName names the embedded model in messages.
const DefaultName = "embedded default model (MNIST VAE, 2-D latent)"

// Default decodes the embedded default decoder and encoder.
func Default() (decoder, encoder *imagegen.Model, err error) {
	if decoder, err = imagegen.Decode(defaultDecoder, DefaultName+" decoder"); err != nil {
		return nil, nil, fmt.Errorf("vae: %w", err)
	}
	if encoder, err = imagegen.Decode(defaultEncoder, DefaultName+" encoder"); err != nil {
		return nil, nil, fmt.Errorf("vae: %w", err)
	}
	return decoder, encoder, nil
}
