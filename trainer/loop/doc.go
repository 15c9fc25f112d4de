// Package loop holds what gendl's training loops share, whatever the model: checkpoint files
// (atomic, CRC-checked, keep the last N plus the best), the optimizers with their state
// (RMSprop and Adam with Keras' constants, Adam's beta1 settable; global-norm and element-wise
// value clipping), progress reporting (a bar with ETA on a terminal, plain lines otherwise),
// metrics.jsonl, and loss-curve PNGs. It has
// no Gorgonia code: parameters and gradients are plain float32 slices.
//
// # Checkpoint files (little-endian)
//
//	magic "GENDLCKP" | version uint32 | header length uint32 | header JSON
//	| array count uint32 | per array: length uint32, float32 values
//	| CRC-32 (IEEE) of everything before it
//
// The header is the trainer's own JSON (its configuration, step, RNG state, ...); the arrays
// are typically the parameters then the optimizer's slots. It is the layout trainer/text
// writes (version 1), so one reader serves both. Any damage — truncation, a wrong magic or
// version, a CRC mismatch, sizes that disagree — is an error naming the file, never a panic.
//
// Errors are prefixed "loop:".
package loop
