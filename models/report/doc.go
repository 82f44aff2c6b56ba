// Package report renders what aelab measures: PNG grids of digits (reconstructions,
// interpolations, walks), loss curves and bar charts (gonum.org/v1/plot), metrics tables
// and the self-contained HTML report of an experiment.
//
// Pixels are drawn with 0 black and 1 white and clamped to [0,1], so corrupted inputs that
// fall outside the range still render. Files are written atomically.
package report
