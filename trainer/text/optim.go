package text

import "github.com/gendl/gendl/trainer/loop"

// Optimizer names (trainer/loop's optimizers: Keras' RMSprop and Adam, global-norm clipping).
const (
	RMSprop = loop.RMSprop
	Adam    = loop.Adam
)
