package imagegen

import (
	"fmt"
	"image"
	"math"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// DefaultBatch is how many inputs a Session runs at once unless told otherwise.
const DefaultBatch = 256

// Session runs a Model. It is not safe for concurrent use; give each goroutine its own.
type Session struct {
	Model *Model
	// Batch is how many inputs run at once (a graph with a fixed batch size overrides it).
	Batch int
	s     *engine.Session
}

// NewSession returns a session whose ops use threads goroutines (0: 1).
func (m *Model) NewSession(threads int) *Session {
	return &Session{Model: m, Batch: DefaultBatch, s: m.Plan.NewSession(engine.SessionOptions{Threads: threads})}
}

// Generate decodes latent points z [N, latent] to images [N, C, H, W] (a VAE decoder's in
// [0, 1], a DCGAN generator's in [-1, 1]).
func (s *Session) Generate(z *tensor.Tensor) (*tensor.Tensor, error) {
	if err := s.Model.Expect(VAEDecoder, DCGANGenerator); err != nil {
		return nil, err
	}
	i := s.Model.Info
	out, err := s.run(InputZ, z, []int{i.LatentDim}, []string{OutputImage}, [][]int{{i.C, i.H, i.W}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Images decodes latent points z [N, latent] to N images.
func (s *Session) Images(z *tensor.Tensor) ([]image.Image, error) {
	x, err := s.Generate(z)
	if err != nil {
		return nil, err
	}
	return imaging.FromTensor(x, s.Model.Info.Kind.OutputRange())
}

// Encode maps images x [N, C, H, W] in [0, 1] to the means and log-variances [N, latent] of
// their latent distributions.
func (s *Session) Encode(x *tensor.Tensor) (mean, logVar *tensor.Tensor, err error) {
	if err := s.Model.Expect(VAEEncoder); err != nil {
		return nil, nil, err
	}
	i := s.Model.Info
	out, err := s.run(InputImage, x, []int{i.C, i.H, i.W}, []string{OutputZMean, OutputZLogVar}, [][]int{{i.LatentDim}, {i.LatentDim}})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// Classify maps images x [N, C, H, W] in [0, 1] to logits [N, classes] and penultimate
// features [N, F].
func (s *Session) Classify(x *tensor.Tensor) (logits, features *tensor.Tensor, err error) {
	if err := s.Model.Expect(Classifier); err != nil {
		return nil, nil, err
	}
	i := s.Model.Info
	nc, nf := s.Model.Classes, s.Model.Features
	if nc == 0 {
		nc = -1
	}
	if nf == 0 {
		nf = -1
	}
	out, err := s.run(InputImage, x, []int{i.C, i.H, i.W}, []string{OutputLogits, OutputFeatures}, [][]int{{nc}, {nf}})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// run feeds x [N, inner...] to input in chunks and returns the named outputs, each checked to
// be [n, outInner...] per chunk (-1: any size, the same for every chunk) and finite, and
// concatenated over the chunks.
func (s *Session) run(input string, x *tensor.Tensor, inner []int, outputs []string, outInner [][]int) ([]*tensor.Tensor, error) {
	m := s.Model
	want := append([]int{-1}, inner...)
	if x == nil || x.DType != tensor.Float32 || x.Rank() != len(want) || !fits(x.Shape[1:], inner) {
		got := "nil"
		if x != nil {
			got = fmt.Sprintf("%v%s", x.DType, tensor.ShapeString(x.Shape))
		}
		return nil, fmt.Errorf("imagegen: %s: input %q: want float32 %s, got %s", m.Name, input, wantShape(inner), got)
	}
	data := x.F32()
	for j, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("imagegen: %s: input %q: element %d is %v", m.Name, input, j, v)
		}
	}
	N := x.Shape[0]
	per := tensor.Numel(inner)
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	if m.batch > 0 {
		batch = m.batch
	}
	res := make([][]float32, len(outputs))
	outDims := make([][]int, len(outputs))
	for j := range outputs {
		outDims[j] = append([]int{}, outInner[j]...)
	}
	for start := 0; start < N; start += batch {
		n := min(batch, N-start)
		rows := n
		if m.batch > 0 {
			rows = m.batch // a fixed-batch graph: pad the last chunk with zeros
		}
		chunk := tensor.New(tensor.Float32, append([]int{rows}, inner...)...)
		copy(chunk.F32(), data[start*per:(start+n)*per])
		out, err := s.s.Run(map[string]*tensor.Tensor{input: chunk}, outputs...)
		if err != nil {
			return nil, fmt.Errorf("imagegen: %s: %w", m.Name, err)
		}
		for j, name := range outputs {
			y := out[name]
			if y.DType != tensor.Float32 || y.Rank() != 1+len(outDims[j]) || y.Shape[0] != rows || !fits(y.Shape[1:], outDims[j]) {
				return nil, fmt.Errorf("imagegen: %s: output %q is %v%s for %d inputs, want float32 %s", m.Name, name, y.DType, tensor.ShapeString(y.Shape), rows, wantShape(outDims[j]))
			}
			copy(outDims[j], y.Shape[1:])
			per := tensor.Numel(outDims[j])
			vals := y.F32()[:n*per]
			for k, v := range vals {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("imagegen: %s: output %q: element %d of input %d is %v", m.Name, name, k%per, start+k/per, v)
				}
			}
			res[j] = append(res[j], vals...)
		}
	}
	ts := make([]*tensor.Tensor, len(outputs))
	for j := range outputs {
		if N == 0 {
			for k, d := range outDims[j] {
				outDims[j][k] = max(d, 0)
			}
			res[j] = []float32{}
		}
		ts[j] = tensor.FromFloat32(res[j], append([]int{N}, outDims[j]...)...)
	}
	return ts, nil
}
