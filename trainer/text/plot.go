package text

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/trainer/loop"
)

// ReadMetrics reads a metrics.jsonl file, sorted by epoch; an epoch written twice (a run
// resumed from a checkpoint before the file's end) keeps its last line.
func ReadMetrics(path string) ([]Metrics, error) {
	out, err := loop.ReadJSONL(path, func(m Metrics) int { return m.Epoch })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Metrics) int { return a.Epoch - b.Epoch })
	return out, nil
}

// PlotLoss draws the loss curve as a PNG: the per-step training loss (light), the training
// and validation loss per epoch (nats/char) against epochs; a step s of an epoch of nb
// batches is at s/nb. title heads the plot.
func PlotLoss(title string, metrics []Metrics, steps []StepLoss, nb int) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss (nats/char)"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	drawn := 0

	if len(steps) > 0 && nb > 0 {
		xy := make(plotter.XYs, 0, len(steps))
		for _, s := range steps {
			if !math.IsNaN(s.Loss) && !math.IsInf(s.Loss, 0) {
				xy = append(xy, plotter.XY{X: float64(s.Step) / float64(nb), Y: s.Loss})
			}
		}
		if len(xy) > 0 {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("text: plot: %w", err)
			}
			l.Color = color.RGBA{R: 160, G: 190, B: 230, A: 255}
			l.Width = vg.Points(0.5)
			p.Add(l)
			p.Legend.Add("train, per step", l)
			drawn++
		}
	}
	for _, c := range []struct {
		name  string
		get   func(Metrics) float64
		color color.Color
		shape draw.GlyphDrawer
	}{
		{"train, per epoch", func(m Metrics) float64 { return m.TrainLoss }, color.RGBA{R: 20, G: 70, B: 180, A: 255}, draw.CircleGlyph{}},
		{"validation", func(m Metrics) float64 { return m.ValLoss }, color.RGBA{R: 210, G: 80, B: 20, A: 255}, draw.SquareGlyph{}},
	} {
		var xy plotter.XYs
		for _, m := range metrics {
			if v := c.get(m); v > 0 && !math.IsInf(v, 0) {
				xy = append(xy, plotter.XY{X: float64(m.Epoch), Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("text: plot: %w", err)
		}
		l.Color, l.Width = c.color, vg.Points(1.5)
		s.Color, s.Shape, s.Radius = c.color, c.shape, vg.Points(3)
		p.Add(l, s)
		p.Legend.Add(c.name, l, s)
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("text: plot: no losses to draw")
	}
	p.X.Min = 0
	p.X.Tick.Marker = stepTicks{}
	p.Y.Tick.Marker = stepTicks{}
	wt, err := p.WriterTo(18*vg.Centimeter, 11*vg.Centimeter, "png")
	if err != nil {
		return nil, fmt.Errorf("text: plot: %w", err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("text: plot: %w", err)
	}
	return b.Bytes(), nil
}

// plotHook returns the epoch hook that redraws PlotName from metrics.jsonl and StepsName.
func plotHook(t *Trainer, _ Metrics) error {
	metrics, err := ReadMetrics(filepath.Join(t.dir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	steps, err := ReadSteps(filepath.Join(t.dir, StepsName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	title := fmt.Sprintf("char-LSTM %d×%d on %s", t.model.Layers, t.model.Hidden, t.data.Name)
	png, err := PlotLoss(title, metrics, steps, t.batchesPerEpoch())
	if err != nil {
		return err
	}
	return onnx.WriteFileAtomic(filepath.Join(t.dir, PlotName), png)
}

// stepTicks labels an axis at the largest round step (1, 2 or 5 times a power of ten) that
// gives at least 4 intervals, so epochs get whole numbers, with unlabelled ticks halfway.
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := math.Pow(10, math.Floor(math.Log10(hi-lo)))
	for _, m := range []float64{5, 2, 1, 0.5, 0.2, 0.1} { // the largest step with >= 4 intervals
		if (hi-lo)/(step*m) >= 4 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i*step/2 <= hi+1e-9*step; i++ {
		v := i * step / 2
		t := plot.Tick{Value: v}
		if int64(i)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			if step < 1 {
				t.Label = strconv.FormatFloat(v, 'f', int(math.Ceil(-math.Log10(step))), 64)
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}
