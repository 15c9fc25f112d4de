// Package latent is what the runtime does in a generative model's latent space: it makes the
// latent points to decode and turns decoded batches into pictures. No Gorgonia; models are
// reached through two small interfaces (Decoder, Encoder) that models/imagegen sessions
// satisfy.
//
//   - Manifold grids for 2-D latents (the book's figure of the VAE's latent space): an n x n
//     grid of points whose coordinates are the standard normal's quantiles at n evenly spaced
//     probabilities in [0.05, 0.95] (the book: norm.ppf(np.linspace(0.05, 0.95, n))), or
//     evenly spaced values in [-s, s] (keras-io's plot_latent_space, s = 1). Column j varies
//     latent dimension Dims[0] from low (left) to high (right); row i varies Dims[1] from high
//     (top) to low (bottom), as on a plot. Larger latents vary two chosen dimensions and hold
//     the others at Center (default 0).
//   - Random points: N(0, I) samples from a seeded PCG generator (math/rand/v2), so a seed
//     gives the same points on every machine.
//   - Interpolation: linear, or spherical (slerp; White 2016, "Sampling generative networks",
//     recommends it for Gaussian latents, whose mass lies near a sphere), along a path through
//     several points, optionally closed into a loop.
//   - Encoding: images to latent points (the encoder's z_mean), their means per group, and
//     concept vectors: the mean latent point of group A minus that of group B (the book's
//     "smile vector"), added to a point at chosen strengths.
//
// Shapes: a batch of latent points is a float32 tensor [N, latent]; images are [N, C, H, W].
// Errors start with "latent: ".
package latent
