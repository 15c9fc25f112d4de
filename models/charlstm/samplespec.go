package charlstm

import "github.com/gendl/gendl/runtime/sample"

// SampleSpec is the sample.Spec of an exported char-LSTM at batch 1: its input, its
// probabilities, and each layer's h and c carried from one run to the next.
func (c Config) SampleSpec() sample.Spec {
	s := sample.Spec{Input: InputName, Probs: ProbsName, VocabSize: c.VocabSize()}
	shape := []int{1, 1, c.Hidden}
	for l := range c.Layers {
		s.States = append(s.States,
			sample.State{In: H0Name(l), Out: HName(l), Shape: shape},
			sample.State{In: C0Name(l), Out: CName(l), Shape: shape})
	}
	return s
}
