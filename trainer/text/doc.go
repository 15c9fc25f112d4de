// Package text trains the book's character-level LSTM (models/charlstm) with Gorgonia
// (trainer/nn) on a text corpus (trainer/corpus), and exports it to ONNX.
//
// The loop follows the book (maxlen 60, step 3, LSTM(128), batch 128, RMSprop at 0.01) and
// karpathy/char-rnn (a held-out 5% validation split, gradient clipping at norm 5). Losses are
// the mean softmax cross-entropy in nats per character; bits per character are nats/ln 2.
//
// Every epoch appends a line to metrics.jsonl and writes a checkpoint (atomically: temp
// file, fsync, rename) to the checkpoint directory, keeping the last KeepLast plus best.ckpt.
// A checkpoint holds the configuration, the vocabulary, the step, the position in the
// epoch, the best validation loss, the parameters and the optimizer state; the order of the
// windows of an epoch is drawn from (seed, epoch) alone, so Resume continues exactly: the
// same seed and data give the same loss trajectory as an uninterrupted run.
//
// Divergence (a NaN or infinite batch loss, or an epoch loss more than twice the best) rolls
// the parameters back to the last good ones, says so, and stops with ErrDiverged; Train still
// exports the rolled-back model.
//
// Errors are prefixed "text:" (or the package that produced them); nothing here exits.
package text
