// Package imaging is gendl's image I/O: decoding PNG, JPEG and GIF files with clear errors,
// resizing (golang.org/x/image/draw's Catmull-Rom and approximate bilinear filters),
// converting images to and from float32 NCHW tensors (runtime/tensor) in a chosen value
// range, saving PNG and JPEG files atomically, tiling a batch into a grid, and writing
// animated GIFs with a good palette. Everything is pure Go.
//
// # Tensors
//
// A batch of N images of C channels (1: grayscale, 3: RGB) and H x W pixels is a float32
// tensor [N, C, H, W]. A Range maps 8-bit pixel values p to tensor values per channel:
// v = (p/255)*Scale[c] + Shift[c]. Unit gives [0, 1] (the VAE's decoder output), Signed
// [-1, 1] (a tanh GAN generator), MeanStd the ImageNet-style (p/255 - mean)/std. Converting
// back clamps to the 8-bit range and rounds to nearest, so a round trip through a tensor
// returns the same pixels. Color images become grayscale with the ITU-R BT.601 luma weights
// (image/color.GrayModel); grayscale becomes RGB by repeating the channel. Transparent pixels
// are composited onto black.
//
// # Files
//
// Image files are untrusted: Decode checks the declared size (MaxPixels) before decoding, and
// every error names the file and what is wrong with it ("imaging: x.txt: not a PNG, JPEG or
// GIF image"). Files are written atomically: a temporary file in the same directory, synced,
// then renamed, so a reader never sees half an image. Errors start with "imaging: ".
//
// # Animated GIFs
//
// GIF frames hold at most 256 colors. Grayscale frames use the exact 256-level gray palette;
// color frames share one palette built by median cut (Heckbert 1982) over the pixels of all
// frames, with Floyd-Steinberg dithering.
package imaging
