// Package text trains the book's character-level LSTM (models/charlstm) with Gorgonia
// (trainer/nn) on a text corpus (trainer/corpus), and exports it to ONNX.
//
// The loop follows the book (maxlen 60, step 3, LSTM(128), batch 128, RMSprop at 0.01) and
// karpathy/char-rnn (a held-out 5% validation split, gradient clipping at norm 5). Losses are
// the mean softmax cross-entropy in nats per character; bits per character are nats/ln 2.
// The training loss is over the targets trained (the character after each window for
// "next"; every position of the window for "shifted", short contexts included); the
// validation loss is always the next-character loss after each validation window (windows
// every ValStep characters, the book's 3 by default), so runs with other targets and
// strides are scored alike. metrics.jsonl also records each epoch's wall-clock and CPU time.
//
// Every epoch appends a line to metrics.jsonl and writes a checkpoint (atomically: temp
// file, fsync, rename) to the checkpoint directory, keeping the last KeepLast plus best.ckpt.
// A checkpoint holds the configuration, the vocabulary, the step, the position in the
// epoch, the best validation loss, the parameters and the optimizer state; the order of the
// windows of an epoch is drawn from (seed, epoch) alone, so Resume continues exactly: the
// same seed and data give the same loss trajectory as an uninterrupted run. A resumed run
// takes LR, Clip and ValStep from its Config when Explicit names them, and refuses other
// values for the settings that define the model, the data or the batch order.
//
// Run calls Hooks attached from outside after every step and every epoch; Train attaches
// the default ones:
//
//   - progress: a bar with the epoch's loss and the run's ETA when Log is a terminal
//     (golang.org/x/term), else a plain line every ProgressEvery (Config.Progress forces
//     either, or none);
//   - samples, as the book prints them: after every epoch the current parameters are
//     exported in memory (charlstm.Export), planned by gendl's engine and sampled with
//     runtime/sample, SampleLength characters at each of SampleTemperatures (the book's
//     0.2, 0.5, 1.0, 1.2 by default) after a seed window of MaxLen characters of the
//     training text; the window and the sampler are drawn from Seed, so every epoch (and a
//     resumed run) continues the same prompt with the same random numbers and the samples
//     show the progress. They go to the log and to samples.txt;
//   - the loss curve, loss.png (gonum.org/v1/plot): per-step training loss, and training
//     and validation loss per epoch, in nats/char, redrawn from metrics.jsonl and
//     steps.tsv (every step's loss, appended at each checkpoint) after every epoch.
//
// Divergence (a NaN or infinite batch loss, or an epoch loss more than twice the best) rolls
// the parameters back to the last good ones, says so, and stops with ErrDiverged; Train still
// exports the rolled-back model.
//
// Errors are prefixed "text:" (or the package that produced them); nothing here exits.
package text
