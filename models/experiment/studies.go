package experiment

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

// Section is a table of the report with its explanation.
type Section struct {
	Title  string
	Text   string
	Header []string
	Rows   [][]string
}

// Studies are the interpolations and walks of an experiment.
type Studies struct {
	Figures  []Figure
	Sections []Section
	Reading  []string
	Data     map[string]any // written as studies.json
}

// RunStudies makes the interpolations and walks that cfg asks for, judged by the digit
// classifier.
func RunStudies(ctx context.Context, backend graph.Backend, cfg *Config, set *datasets.Set, results []Result, judge *models.Classifier) (*Studies, error) {
	st := &Studies{Data: map[string]any{"classifier_test_accuracy": judge.Record.TestAccuracy}}
	if cfg.Interpolations != nil {
		if err := st.interpolations(ctx, backend, cfg, set, results, judge); err != nil {
			return nil, err
		}
	}
	if len(cfg.Walks) > 0 {
		if err := st.walks(ctx, backend, cfg, set, results, judge); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func pngOf(g report.Grid) ([]byte, error) {
	img, err := g.Render()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := report.EncodePNG(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (st *Studies) interpolations(ctx context.Context, backend graph.Backend, cfg *Config, set *datasets.Set, results []Result, judge *models.Classifier) error {
	spec := cfg.Interpolations
	var names []string
	var aes []*models.Autoencoder
	for _, r := range results {
		names, aes = append(names, r.Run.Name), append(aes, r.Model.AE)
	}
	alphas := study.Alphas(spec.Steps)
	rng := models.NewRand(cfg.Eval.Seed, 7)
	summaries := map[string][]study.PathSummary{}
	for _, sort := range []struct{ key, title, file string }{
		{"same_class", "same class", "interpolation-same-class.png"},
		{"different_classes", "different classes", "interpolation-different-classes.png"},
	} {
		var pairs [][2]int
		for len(pairs) < spec.Pairs {
			c := study.PairChoice{SameClass: -1, Classes: [2]int{-1, -1}, Indices: [2]int{-1, -1}, Pairs: 1}
			if sort.key == "same_class" {
				c.SameClass = rng.IntN(datasets.NumClasses)
			}
			p, err := study.ChoosePairs(set.Test, c, rng)
			if err != nil {
				return err
			}
			pairs = append(pairs, p...)
		}
		paths, err := study.InterpolationStudy(ctx, backend, study.Interpolations{Names: names, Models: aes, Test: set.Test, Pairs: pairs, Alphas: alphas, Judge: judge, PixelBaseline: true})
		if err != nil {
			return err
		}
		var shown []study.Path
		for _, p := range paths {
			if len(shown) < spec.Shown*(len(names)) {
				shown = append(shown, p)
			}
		}
		png, err := pngOf(report.InterpolationGrid("interpolations between test digits of "+sort.title+": decoded a*z1 + (1-a)*z2, and pixel blends", shown, alphas, set.Test))
		if err != nil {
			return err
		}
		st.Figures = append(st.Figures, Figure{File: sort.file, Title: "interpolation, " + sort.title,
			Caption: fmt.Sprintf("%d of the %d scored pairs of test digits of %s. Each row runs from x2 (a = 0) to x1 (a = 1), the originals at the ends; the first row of a pair blends the pixels, the others decode a·z1 + (1−a)·z2 through each model's top code.", spec.Shown, spec.Pairs, sort.title),
			PNG:     png})
		summaries[sort.key] = study.SummarizePaths(paths)
		st.Data["interpolation_"+sort.key] = map[string]any{"pairs": pairs, "paths": paths, "summary": summaries[sort.key]}
	}
	sec := Section{Title: "Interpolations, judged by a digit classifier",
		Text:   fmt.Sprintf("Every interpolant is classified by an MLP (test accuracy %.2f%%). mean p: the mean top softmax probability along a path; ends ≥0.9: the share of interpolants classified, with p ≥ 0.9, as one of the two end digits' classes; switch a: the mean a at which the predicted class first changes (different classes only).", 100*judge.Record.TestAccuracy),
		Header: []string{"path", "same class: mean p", "same class: ends ≥0.9", "different: mean p", "different: ends ≥0.9", "different: switch a"}}
	same, diff := summaries["same_class"], summaries["different_classes"]
	for i := range same {
		sw := "–"
		if diff[i].MeanSwitchAlpha != nil {
			sw = strconv.FormatFloat(*diff[i].MeanSwitchAlpha, 'f', 2, 64)
		}
		sec.Rows = append(sec.Rows, []string{same[i].Name, f3(same[i].MeanConfidence), f3(same[i].EndClassFraction),
			f3(diff[i].MeanConfidence), f3(diff[i].EndClassFraction), sw})
	}
	st.Sections = append(st.Sections, sec)
	st.Reading = append(st.Reading, interpolationReading(same, diff))
	return nil
}

func f3(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

// interpolationReading states how the classifier sees decoded paths and pixel blends.
func interpolationReading(same, diff []study.PathSummary) string {
	span := func(sums []study.PathSummary, value func(study.PathSummary) float64) (lo, hi float64, pixels float64) {
		lo, hi = 2, -1
		for _, s := range sums {
			if s.Name == "pixels" {
				pixels = value(s)
				continue
			}
			lo, hi = min(lo, value(s)), max(hi, value(s))
		}
		return lo, hi, pixels
	}
	p := func(s study.PathSummary) float64 { return s.MeanConfidence }
	e := func(s study.PathSummary) float64 { return s.EndClassFraction }
	sLo, sHi, sPix := span(same, p)
	dLo, dHi, dPix := span(diff, p)
	deLo, deHi, dePix := span(diff, e)
	return fmt.Sprintf("Interpolations judged by the digit classifier: between digits of the same class the decoded paths have a mean confidence of %.3f to %.3f across the models, the pixel blends %.3f; between different classes %.3f to %.3f against %.3f, and %.0f%% to %.0f%% of the decoded interpolants are confidently one of the two end digits, against %.0f%% of the pixel blends.",
		sLo, sHi, sPix, dLo, dHi, dPix, 100*deLo, 100*deHi, 100*dePix)
}

func (st *Studies) walks(ctx context.Context, backend graph.Backend, cfg *Config, set *datasets.Set, results []Result, judge *models.Classifier) error {
	sec := Section{Title: "Walks from noise to the data manifold",
		Text:   "energy: the mean ‖r(x) − x‖² over the chains; nearest: the mean Euclidean distance to the closest training image; p: the digit classifier's mean confidence.",
		Header: []string{"model", "method", "start", "steps", "η", "energy at 0", "energy at end", "fall", "nearest at end", "p at end"}}
	var data []map[string]any
	for _, spec := range cfg.Walks {
		snapshots := study.DefaultSnapshots(spec.Steps)
		for _, name := range spec.Models {
			var res Result
			for _, r := range results {
				if r.Run.Name == name {
					res = r
				}
			}
			start, err := study.WalkStart(spec.Start, spec.Chains, set.Test, cfg.Eval.Seed)
			if err != nil {
				return err
			}
			wc := study.WalkConfig{Method: spec.Method, Steps: spec.Steps, Eta: spec.Eta, Snapshots: snapshots, Seed: cfg.Eval.Seed}
			snaps, err := study.Walk(ctx, backend, res.Model.AE, start, wc)
			if err != nil {
				return fmt.Errorf("walk of %s: %w", name, err)
			}
			points, err := study.MeasureWalk(ctx, backend, judge, set.Train, snaps)
			if err != nil {
				return err
			}
			summary := study.SummarizeWalk(points)
			first, last := summary[0], summary[len(summary)-1]
			png, err := pngOf(report.WalkGrid(fmt.Sprintf("%s walk of %s from %s noise, %d steps", spec.Method, name, spec.Start, spec.Steps), snaps, set.Test.Rows, set.Test.Cols))
			if err != nil {
				return err
			}
			st.Figures = append(st.Figures, Figure{File: fmt.Sprintf("walk-%s-%s-%d.png", name, spec.Method, spec.Steps), Title: fmt.Sprintf("%s walk of %s", spec.Method, name),
				Caption: fmt.Sprintf("%d chains from %s noise, snapshots at steps %s. Mean ‖r(x) − x‖² %.3g at the start, %.3g at the end; the classifier's mean confidence at the end %.2f.",
					spec.Chains, spec.Start, joinSteps(snapshots), first.MeanEnergy, last.MeanEnergy, last.MeanConfidence),
				PNG: png})
			sec.Rows = append(sec.Rows, []string{name, spec.Method, spec.Start, strconv.Itoa(spec.Steps), strconv.FormatFloat(spec.Eta, 'g', 3, 64),
				f3(first.MeanEnergy), f3(last.MeanEnergy), strconv.FormatFloat(first.MeanEnergy/max(last.MeanEnergy, 1e-12), 'g', 3, 64) + "×",
				f3(last.MeanNearestDistance), f3(last.MeanConfidence)})
			data = append(data, map[string]any{"model": name, "method": spec.Method, "start": spec.Start, "steps": spec.Steps, "eta": spec.Eta,
				"points": points, "summary": summary})
		}
	}
	st.Data["walks"] = data
	st.Sections = append(st.Sections, sec)
	return nil
}

func joinSteps(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}
