// Package imagemodel holds what the image-model packages (dcgan, vae, classifier) share:
// parameter shapes and their checks, reading parameters back from initializers, reading a
// model's configuration from the image-generator contract's metadata (package imagegen),
// Keras "same" padding, and writing an exported file.
//
// Every function takes the calling package's name (pkg) and prefixes its errors with it,
// so a caller's errors read as its own ("dcgan: initializer \"gen.dense.W\" is missing").
// Input read from files is untrusted: it gives errors, never panics.
package imagemodel
