package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one curve: a value per epoch.
type Series struct {
	Name string
	Y    []float64
}

// Curves is one panel of loss curves: its series share the epoch axis; Marks are vertical
// lines at the epochs where a new stage begins (a pretraining level, fine-tuning).
type Curves struct {
	Title  string
	Series []Series
	Marks  []Mark
}

// Mark labels the start of a stage.
type Mark struct {
	Epoch float64
	Label string
}

// palette returns distinguishable colours for the series of a panel.
func palette(i int) color.Color {
	colors := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}}
	return colors[i%len(colors)]
}

// LossCurves draws the panels in a grid of cols columns, each with a logarithmic loss axis,
// and returns the PNG.
func LossCurves(panels []Curves, cols int) ([]byte, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("report: no loss curves to draw")
	}
	cols = max(1, min(cols, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, c := range panels {
		p := plot.New()
		p.Title.Text = c.Title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = "loss"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Legend.Top = true
		lo, hi := math.Inf(1), math.Inf(-1)
		for si, s := range c.Series {
			// One line per stage: the marks cut the series, since stages differ in scale.
			var segments []plotter.XYs
			var pts plotter.XYs
			next := 0
			for e, y := range s.Y {
				x := float64(e + 1)
				if next < len(c.Marks) && x > c.Marks[next].Epoch {
					if len(pts) > 0 {
						segments = append(segments, pts)
					}
					pts = nil
					next++
				}
				if y > 0 && !math.IsInf(y, 0) {
					pts = append(pts, plotter.XY{X: x, Y: y})
					lo, hi = math.Min(lo, y), math.Max(hi, y)
				}
			}
			if len(pts) > 0 {
				segments = append(segments, pts)
			}
			for k, seg := range segments {
				line, points, err := plotter.NewLinePoints(seg)
				if err != nil {
					return nil, fmt.Errorf("report: curve %s of %s: %w", s.Name, c.Title, err)
				}
				line.Color, points.Color = palette(si), palette(si)
				points.Shape = draw.CircleGlyph{}
				points.Radius = vg.Points(2)
				p.Add(line, points)
				if k == 0 {
					p.Legend.Add(s.Name, line)
				}
			}
		}
		for _, m := range c.Marks {
			if math.IsInf(lo, 0) {
				break
			}
			v, err := plotter.NewLine(plotter.XYs{{X: m.Epoch, Y: lo}, {X: m.Epoch, Y: hi}})
			if err != nil {
				return nil, err
			}
			v.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
			v.Color = color.Gray{Y: 128}
			p.Add(v)
			labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.Epoch, Y: lo}}, Labels: []string{" " + m.Label}})
			if err != nil {
				return nil, err
			}
			p.Add(labels)
		}
		grid[i/cols][i%cols] = p
	}
	return render(grid, vg.Length(cols)*9*vg.Centimeter, vg.Length(rows)*6*vg.Centimeter)
}

// render draws a grid of plots (nil cells stay empty) and encodes it as PNG.
func render(grid [][]*plot.Plot, w, h vg.Length) ([]byte, error) {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for r, row := range grid {
		for c, p := range row {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encode plot: %w", err)
	}
	return buf.Bytes(), nil
}

// BarGroup is one bar per category, in one colour.
type BarGroup struct {
	Name   string
	Values []float64
}

// Bars draws grouped bars: categories along x, a bar of each group per category.
func Bars(title, ylabel string, categories []string, groups []BarGroup) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	width := vg.Points(min(18, 300/float64(max(1, len(categories)*len(groups)))))
	for i, g := range groups {
		bars, err := plotter.NewBarChart(plotter.Values(g.Values), width)
		if err != nil {
			return nil, fmt.Errorf("report: bars %s: %w", g.Name, err)
		}
		bars.Color = palette(i)
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(i)-float64(len(groups)-1)/2)
		p.Add(bars)
		p.Legend.Add(g.Name, bars)
	}
	p.NominalX(categories...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	w := vg.Length(max(12, 2*len(categories))) * vg.Centimeter
	return render([][]*plot.Plot{{p}}, w, 9*vg.Centimeter)
}

// logTicks marks 1, 2 and 5 times each power of ten, labelling them all when the axis spans
// little more than a decade and the powers of ten otherwise.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	few := hi/lo < 30
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := m * base
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if few || m == 1 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// MeanGroup is a mean per category, in one colour, with each mean's standard deviation.
type MeanGroup struct {
	Name       string
	Means, SDs []float64
}

// Means draws each group's mean per category as a point with ±1 standard deviation error
// bars, the groups side by side within a category, and returns the PNG.
func Means(title, ylabel string, categories []string, groups []MeanGroup) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	for gi, g := range groups {
		shift := 0.2 * (float64(gi) - float64(len(groups)-1)/2)
		pts := make(plotter.XYs, len(g.Means))
		errs := make(plotter.YErrors, len(g.Means))
		for i, m := range g.Means {
			pts[i] = plotter.XY{X: float64(i) + shift, Y: m}
			errs[i].Low, errs[i].High = g.SDs[i], g.SDs[i]
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("report: means %s: %w", g.Name, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3), Color: palette(gi)}
		bars, err := errorBars(pts, errs, palette(gi))
		if err != nil {
			return nil, fmt.Errorf("report: means %s: %w", g.Name, err)
		}
		p.Add(bars, s)
		p.Legend.Add(g.Name, s)
	}
	p.NominalX(categories...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	w := vg.Length(max(12, 2*len(categories))) * vg.Centimeter
	return render([][]*plot.Plot{{p}}, w, 9*vg.Centimeter)
}

// SweepLine is one line of a sweep plot: a configuration's mean and standard deviation of a
// figure at each value of the swept setting (NaN where it was not run).
type SweepLine struct {
	Name       string
	Means, SDs []float64
}

// SweepPanel is one figure of a sweep against the swept setting's values.
type SweepPanel struct {
	Metric string
	Lines  []SweepLine
}

// Sweep draws each panel's lines over the swept values (as categories, in the order given),
// means with ±1 standard deviation error bars, side by side, and returns the PNG.
func Sweep(setting string, values []string, panels []SweepPanel) ([]byte, error) {
	if len(panels) == 0 || len(values) == 0 {
		return nil, fmt.Errorf("report: nothing swept to draw")
	}
	row := make([]*plot.Plot, len(panels))
	for pi, pan := range panels {
		p := plot.New()
		p.Title.Text = pan.Metric + " against " + setting
		p.X.Label.Text, p.Y.Label.Text = setting, pan.Metric
		p.Legend.Top = true
		for li, l := range pan.Lines {
			var pts plotter.XYs
			var errs plotter.YErrors
			for i, m := range l.Means {
				if math.IsNaN(m) {
					continue
				}
				pts = append(pts, plotter.XY{X: float64(i), Y: m})
				errs = append(errs, struct{ Low, High float64 }{l.SDs[i], l.SDs[i]})
			}
			if len(pts) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, fmt.Errorf("report: sweep line %s: %w", l.Name, err)
			}
			line.Color, points.Color = palette(li), palette(li)
			points.Shape, points.Radius = draw.CircleGlyph{}, vg.Points(2.5)
			bars, err := errorBars(pts, errs, palette(li))
			if err != nil {
				return nil, fmt.Errorf("report: sweep line %s: %w", l.Name, err)
			}
			p.Add(line, points, bars)
			p.Legend.Add(l.Name, line, points)
		}
		p.NominalX(values...)
		// Room above the lines for the legend, so it covers none of them.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, l := range pan.Lines {
			for i, m := range l.Means {
				if !math.IsNaN(m) {
					lo, hi = math.Min(lo, m-l.SDs[i]), math.Max(hi, m+l.SDs[i])
				}
			}
		}
		if hi > lo {
			p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+(0.12*float64(len(pan.Lines))+0.1)*(hi-lo)
		}
		row[pi] = p
	}
	return render([][]*plot.Plot{row}, vg.Length(len(panels))*10*vg.Centimeter, 8*vg.Centimeter)
}

// errorBars draws ±errs around pts in one colour.
func errorBars(pts plotter.XYs, errs plotter.YErrors, c color.Color) (*plotter.YErrorBars, error) {
	bars, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{pts, errs})
	if err != nil {
		return nil, err
	}
	bars.LineStyle.Color = c
	return bars, nil
}
