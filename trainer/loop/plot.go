package loop

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve of a plot.
type Series struct {
	Name string
	X, Y []float64
	// Light draws a thin pale line without markers (e.g. per-step losses).
	Light bool
}

var palette = []color.Color{
	color.RGBA{R: 20, G: 70, B: 180, A: 255},
	color.RGBA{R: 210, G: 80, B: 20, A: 255},
	color.RGBA{R: 30, G: 140, B: 60, A: 255},
	color.RGBA{R: 140, G: 40, B: 160, A: 255},
}

// PlotPNG draws the series against a common x axis and returns a PNG. Non-finite points are
// skipped; a series with no finite point is left out.
func PlotPNG(title, xLabel, yLabel string, series []Series) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	drawn, strong := 0, 0
	for _, s := range series {
		xy := make(plotter.XYs, 0, len(s.X))
		for i := range min(len(s.X), len(s.Y)) {
			if finite(s.X[i]) && finite(s.Y[i]) {
				xy = append(xy, plotter.XY{X: s.X[i], Y: s.Y[i]})
			}
		}
		if len(xy) == 0 {
			continue
		}
		if s.Light {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("loop: plot: %w", err)
			}
			l.Color = color.RGBA{R: 160, G: 190, B: 230, A: 255}
			l.Width = vg.Points(0.5)
			p.Add(l)
			p.Legend.Add(s.Name, l)
		} else {
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, fmt.Errorf("loop: plot: %w", err)
			}
			c := palette[strong%len(palette)]
			strong++
			l.Color, l.Width = c, vg.Points(1.5)
			pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
			p.Add(l, pts)
			p.Legend.Add(s.Name, l, pts)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("loop: plot: nothing to draw")
	}
	wt, err := p.WriterTo(18*vg.Centimeter, 11*vg.Centimeter, "png")
	if err != nil {
		return nil, fmt.Errorf("loop: plot: %w", err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("loop: plot: %w", err)
	}
	return b.Bytes(), nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
