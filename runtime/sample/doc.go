// Package sample draws from the probability distributions a generative model outputs: the
// softmax-temperature reweighting of the book's char-LSTM ("Generative deep learning",
// "sampling strategy"), greedy (argmax) and top-k choice, and a Sampler that generates
// sequences from a recurrent ONNX model with carried state.
//
// # Reweighting
//
// Given a distribution p and a temperature T > 0, the book reweights
//
//	p'_i = exp(log(p_i) / T) / Σ_j exp(log(p_j) / T)
//
// so T = 1 keeps p, T < 1 sharpens it towards the argmax and T > 1 flattens it towards the
// uniform distribution over the characters with p_i > 0. Reweight computes it in float64 as
// exp((log p_i - log p_max) / T), which cannot overflow and stays exact as T -> 0 (the
// result approaches the one-hot of the argmax); p_i = 0 stays 0.
//
// # Sampler
//
// A Sampler runs a recurrent model whose graph takes a one-hot input [T, 1, V] and state
// inputs, and returns probabilities [T, 1, V] and the final states (Spec names them; the
// char-LSTM of models/charlstm has this form). It primes the state with the seed in one run
// (T = len(seed)) and then generates one symbol per run at T = 1, feeding the state outputs
// back as inputs: O(1) work per generated symbol. Draws use math/rand/v2's PCG seeded by the
// caller, so a seed reproduces a sample exactly.
//
// Errors are values prefixed "sample:"; a temperature <= 0 (or not finite), a negative
// top-k, an index outside the vocabulary and probabilities that are NaN, negative or all zero
// are errors.
package sample
