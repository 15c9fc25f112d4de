package text

import (
	"github.com/gendl/gendl/models/charlstm"
	"github.com/gendl/gendl/trainer/loop"
)

// Checkpoints are trainer/loop's files (see its package doc for the layout): the header is
// State as JSON, the arrays are the parameters (nn.ParamShapes order) then the optimizer's
// slots.

// BestName is the checkpoint of the best validation loss.
const BestName = loop.BestName

// State is what a checkpoint holds besides arrays: enough to rebuild the model, the data
// and the optimizer, and to continue at the exact batch where it stopped.
type State struct {
	Config Config          `json:"config"`
	Model  charlstm.Config `json:"model"`
	// Epoch is the current epoch (from 0) and Batch the number of its batches done.
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// Step counts the optimizer updates.
	Step int64 `json:"step"`
	// BestVal is the best validation loss so far (nats/char; +Inf as null before any),
	// reached at epoch BestEpoch.
	BestVal   *float64 `json:"best_val_loss,omitempty"`
	BestEpoch int      `json:"best_epoch"`
	// EpochLoss and EpochChars sum the training loss of the current epoch so far.
	EpochLoss  float64 `json:"epoch_loss_sum"`
	EpochChars int64   `json:"epoch_chars"`
	// Optimizer is the optimizer's name, learning rate and update count; its slots follow
	// the parameters among the arrays.
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	OptT      int64   `json:"optimizer_t"`
	// RNG: the window order of an epoch is drawn from (Seed, Epoch) alone.
	Seed    uint64 `json:"rng_seed"`
	NParams int    `json:"params"`
}
