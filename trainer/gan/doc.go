// Package gan trains the book's DCGAN (models/dcgan) with Gorgonia and exports its generator
// to ONNX; it also scores generators with a classifier (the classifier inception score and
// the Fréchet distance on the classifier's features).
//
// # Training (the book's recipe)
//
// Three graphs are built once over the same parameter memory: the generator alone
// (z [B, L] -> images, for the fakes), the discriminator's step (images [2B, C, H, W],
// targets [2B, 1] -> mean binary cross-entropy of sigmoid(D(images)), gradients with respect
// to D's parameters) and the GAN step (z [B, L] -> G -> D -> mean BCE against "real" targets,
// gradients with respect to G's parameters only: D's parameters are leaves of that graph too,
// but nothing updates them there — the book's frozen discriminator). A step:
//
//  1. draws z ~ N(0, I), generates B fakes, and trains D on [fakes; B real images] with
//     targets LabelNoise·u for fakes and 1 - LabelNoise·u for reals, u ~ U[0, 1) (the book
//     adds 0.05·u to its labels; it labels fakes 1 and reals 0, here reals are 1 so that D
//     outputs P(real));
//  2. draws new z and trains G through D with targets 1.
//
// RMSprop (D 8e-4, GAN 4e-4) with Keras' clipvalue 1 is the book's optimizer; Adam (2e-4,
// beta1 0.5, the DCGAN paper's) is the option. D's dropout masks are redrawn every step.
// Images are scaled to [-1, 1], the generator's tanh range.
//
// With EMA > 0 an exponential moving average of the generator's weights is kept beside them
// (updated after every generator step, stored in checkpoints) and is what is exported,
// sampled and scored; the scores of the live weights are logged beside it.
//
// With GenBatchNorm the generator normalises each feature map with its batch's statistics
// before every LeakyReLU (the DCGAN paper's generator; layers.BatchNorm). An exported
// generator has no normalisation nodes: the population statistics of the exported weights
// (the batch statistics of 2,048 latent points from a fixed stream, pooled) are folded into
// the dense layer's columns and the transposed convolutions' output channels, so the file is
// the book's graph and every runtime reads it.
//
// Every SampleEvery steps the generator is exported and run in gendl's runtime on fixed noise,
// and the grid of images is written as samples-step-NNNNNNN.png (progress.gif animates them
// at the end); every LogEvery steps a line of means goes to metrics.jsonl and loss.png is
// redrawn. Moving averages of the losses raise a warning when D's loss collapses towards 0 or
// G's explodes. Checkpoints (trainer/loop's format: the configuration and state as JSON, then
// G's and D's parameters and both optimizers' state) are written atomically every
// CheckpointEvery steps, the last KeepLast kept; the data order of an epoch and the noise,
// label noise and dropout masks of a step are drawn from the seed and the epoch or step
// number, so a resumed run repeats an uninterrupted one bit for bit.
//
// # Evaluation
//
// InceptionScore is exp(E_x KL(p(y|x) || p(y))) over splits (Salimans et al. 2016, with a
// task classifier instead of Inception: real MNIST test digits score about 9.9);
// FrechetDistance is Heusel et al.'s FID on any feature vectors, here the classifier's
// penultimate layer. Evaluate runs an exported generator and classifier (models/imagegen) in
// gendl's runtime.
//
// Errors are prefixed "gan:".
package gan
