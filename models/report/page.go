package report

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// pageFiles are the page's template and the chart library it embeds: uPlot (MIT), vendored
// from npm by scripts/vendor-uplot.sh.
//
//go:embed page.html assets/uplot/uPlot.iife.min.js assets/uplot/uPlot.min.css assets/uplot/VERSION
var pageFiles embed.FS

// Page is an experiment's report: one self-contained HTML file, its pictures as data URIs
// and its charts drawn by an embedded chart library, so it opens offline anywhere.
type Page struct {
	Title       string
	Description string
	Facts       []Fact // what was run on what, by which aelab, how long it took
	Links       []Link // the files beside the report
	Glossary    []Term // every figure the tables show
	Results     Table
	Reading     []string
	Charts      []Chart
	Tables      []Table // the studies'
	Figures     []Figure
	Config      string // the configuration's text
}

// Fact is one line of the page's header.
type Fact struct{ Label, Value string }

// Link is a file beside the report.
type Link struct{ Text, Href string }

// Term explains a figure of the tables.
type Term struct{ Name, Meaning string }

// Table is a table of the page. Numeric columns are right-aligned, headers with them; a
// column with a Best direction has its best value marked.
type Table struct {
	Title, Text string
	Columns     []Column
	Rows        [][]Cell
}

// Column is a table's column.
type Column struct {
	Name    string
	Numeric bool
	Best    Best
}

// Best says which value of a column is best.
type Best int

// The directions of Best.
const (
	NoBest Best = iota
	Lowest
	Highest
)

// Cell is a table's cell; with Href its text links there.
type Cell struct {
	Text string
	Href string
}

// Chart is an interactive line chart: every series over the same x values, on shared axes,
// with the values under the cursor, zoom (drag; double-click resets) and a log scale switch.
type Chart struct {
	ID, Title, Caption string
	XLabel, YLabel     string
	X                  []float64
	Series             []ChartSeries
	LogY               bool // start on a logarithmic y axis
}

// ChartSeries is one line of a chart; nil values are gaps.
type ChartSeries struct {
	Name string     `json:"name"`
	Y    []*float64 `json:"y"`
}

// Figure is a picture of the page.
type Figure struct {
	Title, Caption string
	PNG            []byte
}

// cellView and the types below are what the template sees.
type cellView struct {
	Text, Href string
	Numeric    bool
	Best       bool
}

type tableView struct {
	Title, Text string
	Columns     []Column
	Rows        [][]cellView
}

type chartJSON struct {
	ID     string        `json:"id"`
	XLabel string        `json:"xlabel"`
	YLabel string        `json:"ylabel"`
	X      []float64     `json:"x"`
	Series []ChartSeries `json:"series"`
	LogY   bool          `json:"logy"`
}

// view marks each column's best value; cells that are no number (n/a) are never best.
func (t Table) view() tableView {
	v := tableView{Title: t.Title, Text: t.Text, Columns: t.Columns}
	best := make([]float64, len(t.Columns))
	for c, col := range t.Columns {
		best[c] = math.NaN()
		for _, row := range t.Rows {
			x, ok := number(row[c].Text)
			if !ok {
				continue
			}
			if math.IsNaN(best[c]) || col.Best == Lowest && x < best[c] || col.Best == Highest && x > best[c] {
				best[c] = x
			}
		}
	}
	for _, row := range t.Rows {
		var cells []cellView
		for c, cell := range row {
			x, ok := number(cell.Text)
			cells = append(cells, cellView{Text: cell.Text, Href: cell.Href, Numeric: t.Columns[c].Numeric,
				Best: t.Columns[c].Best != NoBest && ok && x == best[c] && len(t.Rows) > 1})
		}
		v.Rows = append(v.Rows, cells)
	}
	return v
}

// number reads a cell's leading number ("0.00367", "98%", "0.12 → 0.03").
func number(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	end := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.-+eE", r) })
	if end >= 0 {
		s = s[:end]
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil
}

// Render returns the page's HTML.
func (p Page) Render() ([]byte, error) {
	tmplText, err := pageFiles.ReadFile("page.html")
	if err != nil {
		return nil, fmt.Errorf("report: page template: %w", err)
	}
	tmpl, err := template.New("page").Parse(string(tmplText))
	if err != nil {
		return nil, fmt.Errorf("report: page template: %w", err)
	}
	script, err := pageFiles.ReadFile("assets/uplot/uPlot.iife.min.js")
	if err != nil {
		return nil, fmt.Errorf("report: chart library: %w", err)
	}
	style, err := pageFiles.ReadFile("assets/uplot/uPlot.min.css")
	if err != nil {
		return nil, fmt.Errorf("report: chart library: %w", err)
	}
	var charts []chartJSON
	for _, c := range p.Charts {
		charts = append(charts, chartJSON{ID: c.ID, XLabel: c.XLabel, YLabel: c.YLabel, X: c.X, Series: c.Series, LogY: c.LogY})
	}
	chartData, err := json.Marshal(charts) // escapes <, > and &, so it cannot end the script
	if err != nil {
		return nil, fmt.Errorf("report: charts: %w", err)
	}
	type figureView struct {
		Title, Caption string
		Src            template.URL
	}
	var figures []figureView
	for _, f := range p.Figures {
		figures = append(figures, figureView{Title: f.Title, Caption: f.Caption,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))})
	}
	var tables []tableView
	for _, t := range p.Tables {
		tables = append(tables, t.view())
	}
	data := map[string]any{
		"Page": p, "Results": p.Results.view(), "Tables": tables, "Figures": figures,
		"ChartLibrary": template.JS(script), "ChartStyle": template.CSS(style), "ChartData": template.JS(chartData),
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("report: page: %w", err)
	}
	return buf.Bytes(), nil
}
