// Package imagegen is the ONNX contract between gendl-train's image models (the VAE, the
// DCGAN and the MNIST classifier that scores the GAN) and the runtime that samples them:
// the names, shapes, value ranges and metadata_props that exporters write and that Load
// checks, plus sessions that run such models in batches. It holds no Gorgonia code.
//
// # The contract
//
// Every model carries metadata_props gendl.model (its Kind), gendl.format (FormatVersion),
// gendl.image_shape ("C,H,W", e.g. "1,28,28"), and where it applies gendl.latent_dim;
// gendl.dataset (e.g. "mnist") and gendl.config (the trainer's configuration as JSON) are
// optional. Tensors are float32, N is the batch dimension (symbolic in exported files):
//
//	kind             inputs                       outputs
//	vae-decoder      z [N, latent]                image [N, C, H, W] in [0, 1] (sigmoid)
//	vae-encoder      image [N, C, H, W] in [0,1]  z_mean [N, latent], z_log_var [N, latent]
//	dcgan-generator  z [N, latent] ~ N(0, I)      image [N, C, H, W] in [-1, 1] (tanh)
//	classifier       image [N, C, H, W] in [0,1]  logits [N, classes], features [N, F]
//
// The classifier's features are its penultimate layer, for the Fréchet distance; its class
// names may be given in gendl.classes (a JSON list of strings).
//
// Load (LoadFile, FromProto, Decode) checks the metadata and the declared graph: the inputs
// and outputs above exist with that element type, rank and, where the file fixes them, those
// sizes; the model has no other inputs to feed. A decoder whose input is not a latent vector
// [N, latent] is an error that says what it is instead. Sizes the file leaves symbolic are
// checked on every run. A model exported with a fixed batch size (e.g. 1, as some converters
// do) runs in chunks of that size.
//
// # Running
//
// Model.NewSession returns a Session (one engine session, not safe for concurrent use) with
// Generate (decoders, generators), Encode (encoders) and Classify (classifiers); inputs of any
// batch size run in chunks of Session.Batch. Outputs are checked: shape as declared, values
// finite. Images converts generated tensors to images in the kind's value range.
//
// Errors start with "imagegen: ".
package imagegen
