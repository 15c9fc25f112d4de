// Package dream is DeepDream (Mordvintsev et al., 2015) as Chollet's Deep Learning with
// Python teaches it (1st edition, section 8.2; keras-io's deep_dream example): gradient
// ascent on the input image of a frozen network, usually InceptionV3 converted by
// `gendl-train import tfjs`, to maximise the activations of chosen layers.
//
//	m, _ := dream.LoadModel("inception_v3.onnx")     // one input [N, 3, H, W], range from metadata
//	d, _ := dream.New(m, dream.Defaults())            // the book's settings
//	x, _ := imaging.ToTensor([]image.Image{img}, 3, m.Range)
//	y, report, err := d.Run(x)                        // [1, 3, H, W], same range
//	out, _ := imaging.FromTensor(y, m.Range)          // clamped to 8 bits
//
// # The algorithm
//
// The loss is a weighted sum over layers (default mixed2:0.2, mixed3:3, mixed4:2,
// mixed5:1.5) of LayerLoss: the sum of the squared activations without a border of 2
// pixels, divided by the size of the whole activation, exactly the book's
// coeff * K.sum(K.square(activation[:, 2:-2, 2:-2, :])) / scaling. Its gradient with respect
// to the image comes from runtime/grad; the image moves by step * grad / max(mean|grad|,
// 1e-7) (step 0.01), 20 times per octave, and an octave ends early when the loss before a
// step exceeds the maximum (10). Octaves are the book's sizes, int(side / 1.4^i) for i = 2,
// 1, 0 (OctaveShapes); between them the dream is resized up and the detail lost by shrinking
// is re-injected (LostDetail): resize(original, s) - resize(resize(original, s_prev), s).
// Resizing is bilinear with aligned corners, as the book's scipy.ndimage.zoom(order=1), and
// the tests compare it with SciPy's output. The image stays in float32 in the model's range
// (InceptionV3: x/127.5 - 1) from start to end, unclipped, as in the book.
//
// # Tiles
//
// An octave larger than Options.TileSize on a side (default 512, so the book's images run
// whole) is processed in equal tiles no larger than that, as the TensorFlow DeepDream
// tutorial does: at every step the image is shifted circularly by a random offset (seeded by
// Options.Seed), each tile's loss gradient is computed on its own, weighted by the tile's
// share of the area, the gradients are put together and shifted back. The seams then move
// from step to step and leave no mark, and memory depends on the tile size, not on the image:
// EstimateMemory predicts the peak from the model's shapes at the tile size, and Run refuses
// to start when the estimate exceeds Options.MaxMemory (4 GiB by default), saying how much it
// would need. On a network whose activations depend on their own pixel only, tiles give the
// whole image's loss and gradient exactly (a test checks this).
//
// # Errors
//
// Errors start with "dream: ". A layer the model lacks is reported with every layer name the
// model has; an image too small for the network's strided layers (or whose loss layers would
// be no larger than the border) is reported with the octave at fault, before any work.
package dream
