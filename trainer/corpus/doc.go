// Package corpus turns a UTF-8 text into the training data of the char-LSTM: a sorted
// character vocabulary (charlstm.Vocab), a training part and a held-out validation part
// (the last ValFrac of the text, as karpathy/char-rnn keeps 5%), and sliding windows of
// MaxLen characters every Step characters (the book: 60 and 3; the validation windows every
// ValStep characters when it is set, so that runs with different strides are scored alike).
//
// Both of the book's targets are supported: TargetNext (a window -> the character after it)
// and TargetShifted (a window -> the same window shifted by one). Batches are time-major:
//
//	X: [T, Size] character indices, X[t*Size+n]
//	Y: [Size] (next) or [T, Size] (shifted), -1 for padding rows
//
// The order of the training windows in an epoch is a permutation drawn from (seed, epoch)
// only, so a resumed run visits exactly the batches an uninterrupted run would.
//
// A text is untrusted input: empty, too short or invalid UTF-8 text is an error (prefixed
// "corpus:"), never a panic. The package does not import Gorgonia, so the runtime side may
// use it. The default corpus is Newton's Opticks, embedded (data/README.md).
package corpus
