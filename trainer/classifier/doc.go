// Package classifier trains the small convolutional image classifier of models/classifier
// with Gorgonia and exports it to ONNX; trainer/gan uses the exported file to score
// generators (classifier inception score, Fréchet distance on its features).
//
// The graph: stride-2 convolutions with ReLU, a dense layer with ReLU (the features), dropout
// (a mask input redrawn every step; none at evaluation), a dense layer of logits, and the
// softmax cross-entropy of the logits against one-hot labels, summed in float64 from the
// logits with the log-sum-exp shift (SoftmaxXentSum, a custom op: Gorgonia's LogSumExp is
// broken), averaged over the batch. Adam (Keras' constants) at 1e-3 by default. Test loss and
// accuracy are reported after every epoch; checkpoints (trainer/loop's format) are written
// after every epoch and resume exactly: the batch order of an epoch and the dropout mask of a
// step are drawn from the seed and the epoch or step number.
//
// Errors are prefixed "classifier:".
package classifier
