// Package datasets gives the image datasets of the VAE and GAN one shape: a Dataset holds N
// images as a float32 tensor [N, C, H, W] with values in [0, 1], one label per image, and the
// class names.
//
// Load accepts a dataset name or a directory:
//
//   - "mnist": the digits, from the GoMNIST module (package datasets/mnist says where the
//     files are found and how to get them);
//   - "fashion-mnist": Fashion-MNIST, from Debian's dataset-fashion-mnist package;
//   - a directory of PNG, JPEG or GIF images: each image is decoded, center-cropped to the
//     target aspect ratio (optional), resized to Options.Height x Options.Width
//     (Catmull-Rom), and converted to grayscale or RGB (Options.Channels). Images in
//     subdirectories take the subdirectory's name as their class (classes sorted by name);
//     images directly in the directory have no class (one class named "").
//
// Splits: MNIST and Fashion-MNIST have "train" (60,000) and "test" (10,000). A folder has no
// split of its own: "train" and "test" are a deterministic 90/10 division of its images
// (every tenth image, in path order, is a test image), and "all" is every image.
//
// Errors start with "datasets: " and name the file at fault; an undecodable image is an error,
// not silently skipped.
package datasets
