// Package report renders what aelab measures: PNG grids of digits (reconstructions,
// interpolations, walks, first-layer filters), loss curves, bar charts and maps of codes
// (gonum.org/v1/plot), and the self-contained HTML page of an experiment ([Page]): tables
// with the best values marked, a glossary, and interactive charts drawn by uPlot, vendored
// from npm (scripts/vendor-uplot.sh) and embedded, so the one file works offline.
//
//	html, err := report.Page{Title: "aelab experiment: seed", Results: table, Charts: charts}.Render()
//
// Pixels are drawn with 0 black and 1 white and clamped to [0,1], so corrupted inputs that
// fall outside the range still render. Files are written atomically.
package report
