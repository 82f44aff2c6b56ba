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
	Best   []report.Best // of each column, when marked (nil: none)
}

// Studies are the interpolations and walks of an experiment.
type Studies struct {
	Figures  []Figure
	Sections []Section
	Reading  []string
	Data     map[string]any // written as studies.json

	meter *meter
}

// RunStudies makes the interpolations and walks that cfg asks for, judged by the digit
// classifier; with a nil judge (data without labels and no classifier given) the images are
// made and measured, but not classified.
func RunStudies(ctx context.Context, backend graph.Backend, cfg *Config, set *datasets.Set, results []Result, judge *models.Classifier) (*Studies, error) {
	return runStudies(ctx, backend, cfg, set, results, judge, newMeter(nil))
}

func runStudies(ctx context.Context, backend graph.Backend, cfg *Config, set *datasets.Set, results []Result, judge *models.Classifier, m *meter) (*Studies, error) {
	st := &Studies{Data: map[string]any{}, meter: m}
	if judge != nil {
		st.Data["classifier_test_accuracy"] = judge.Record.TestAccuracy
	} else {
		st.Reading = append(st.Reading, noJudgeReading)
	}
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

// noJudgeReading is said once when nothing classifies the studies' images.
const noJudgeReading = "The data has no labels and no digit classifier was given (--classifier), so the interpolations and walks are drawn and measured but not classified: their plausibility columns are n/a."

// na stands for a figure that needs the digit classifier.
const na = "n/a"

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
	var specs []models.Spec
	for _, r := range results {
		names, aes, specs = append(names, r.Run.Name), append(aes, r.Model.AE), append(specs, r.Model.AE.Spec)
	}
	alphas := study.Alphas(spec.Steps)
	rng := models.NewRand(cfg.Eval.Seed, 7)
	summaries := map[string][]study.PathSummary{}
	sorts := []struct{ key, title, file string }{
		{"same_class", "same class", "interpolation-same-class.png"},
		{"different_classes", "different classes", "interpolation-different-classes.png"},
	}
	if set.Test.Labels == nil { // no classes to choose by
		sorts = sorts[1:]
		sorts[0].title = "any two images"
	}
	for _, sort := range sorts {
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
		st.meter.enter("studies: interpolations between digits of " + sort.title)
		paths, err := study.InterpolationStudy(ctx, backend, study.Interpolations{Names: names, Models: aes, Test: set.Test, Pairs: pairs, Alphas: alphas, Judge: judge, PixelBaseline: true})
		if err != nil {
			return err
		}
		st.meter.advance(study.InterpolationCost(specs, spec.Pairs, spec.Steps, judge != nil, true))
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
		Text:   "mean p: the mean top softmax probability along a path; ends ≥0.9: the share of interpolants classified, with p ≥ 0.9, as one of the two end digits' classes; switch a: the mean a at which the predicted class first changes (different classes only).",
		Header: []string{"path", "same class: mean p", "same class: ends ≥0.9", "different: mean p", "different: ends ≥0.9", "different: switch a"},
		Best:   []report.Best{report.NoBest, report.Highest, report.Highest, report.Highest, report.Highest, report.NoBest}}
	same, diff := summaries["same_class"], summaries["different_classes"]
	if judge == nil {
		sec.Title = "Interpolations"
		for _, name := range names {
			sec.Rows = append(sec.Rows, []string{name, na, na, na, na, na})
		}
		st.Sections = append(st.Sections, sec)
		return nil
	}
	sec.Text = fmt.Sprintf("Every interpolant is classified by an MLP (test accuracy %.2f%%). ", 100*judge.Record.TestAccuracy) + sec.Text
	for i, d := range diff {
		sw := "–"
		if d.MeanSwitchAlpha != nil {
			sw = strconv.FormatFloat(*d.MeanSwitchAlpha, 'f', 2, 64)
		}
		sameP, sameEnds := na, na // no classes to pair by without labels
		if i < len(same) {
			sameP, sameEnds = f3(same[i].MeanConfidence), f3(same[i].EndClassFraction)
		}
		sec.Rows = append(sec.Rows, []string{d.Name, sameP, sameEnds, f3(d.MeanConfidence), f3(d.EndClassFraction), sw})
	}
	st.Sections = append(st.Sections, sec)
	if len(same) > 0 {
		st.Reading = append(st.Reading, interpolationReading(same, diff))
	}
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
	st.meter.enter("studies: how near test digits are to the training images")
	ref := study.NewReference(backend.MatMul(), set.Train, set.Test)
	st.meter.advance(study.ReferenceCost(set.Train, set.Test))
	sec := Section{Title: "Walks from noise to the data manifold",
		Text: fmt.Sprintf("energy: the mean ‖r(x) − x‖² over the chains, at the start and the end; nearest: the mean Euclidean distance to the closest training image; near: the share of chains within %.2f of a training image (as near as 99%% of test digits are); p: the digit classifier's mean probability of its most likely digit (its softmax has an eleventh class, not a digit); plausible: the share of chains classified as a digit with p ≥ 0.9 and near the training images.",
			ref.NearDistance),
		Header: []string{"model", "walk", "energy", "nearest at end", "near at end", "p at end", "plausible at end"},
		Best:   []report.Best{6: report.Highest}}
	st.Data["near_distance"] = ref.NearDistance
	var data []map[string]any
	samples := Section{Title: "Walks judged as samplers",
		Text:   "The chains' last images judged as samples, as aelab samples score judges any set: the Parzen-window estimate of the test images' log-likelihood (window width chosen on validation images; Goodfellow et al. 2014: deep GSN 214, GAN 225 nats), the digits the classifier finds and the normalised entropy of their counts, plausible digits, near-copies of training images, and the Fréchet distance to the test images in the classifier's features beside that of training images (its floor).",
		Header: []string{"model", "walk", "samples", "Parzen (nats)", "digits, entropy", "plausible", "near-copies", "Fréchet distance (floor)"},
		Best:   []report.Best{3: report.Highest, 5: report.Highest}}
	var scores []map[string]any
	for _, spec := range cfg.Walks {
		snapshots := study.DefaultSnapshots(spec.Steps)
		for _, name := range spec.Models {
			var res Result
			for _, r := range results { // with seeds or a grid, the first run made from that name
				if r.Run.Name == name || r.Run.Base == name && res.Model == nil {
					res = r
				}
			}
			if res.Model == nil { // not finished (a report made before every shard is done)
				st.Reading = append(st.Reading, fmt.Sprintf("The %s walk of %s is left out: %s is not finished yet.", spec.Method, name, name))
				continue
			}
			start, err := study.WalkStart(spec.Start, spec.Chains, set.Test, cfg.Eval.Seed)
			if err != nil {
				return err
			}
			wc := study.WalkConfig{Method: spec.Method, Steps: spec.Steps, Eta: spec.Eta, Snapshots: snapshots, Seed: cfg.Eval.Seed, Anneal: spec.Anneal, BurnIn: spec.BurnIn}
			st.meter.enter(fmt.Sprintf("studies: %s walk of %s, %d steps", spec.Method, name, spec.Steps))
			snaps, err := study.Walk(ctx, backend, res.Model.AE, start, wc)
			if err != nil {
				return fmt.Errorf("walk of %s: %w", name, err)
			}
			points, err := study.MeasureWalk(ctx, backend, judge, ref, snaps)
			if err != nil {
				return err
			}
			st.meter.advance(study.WalkCost(res.Model.AE.Spec, wc, spec.Chains, set.Train, judge != nil))
			summary := study.SummarizeWalk(points)
			first, last := summary[0], summary[len(summary)-1]
			png, err := pngOf(report.WalkGrid(fmt.Sprintf("%s walk of %s from %s noise, %d steps", spec.Method, name, spec.Start, spec.Steps), snaps, set.Test.Rows, set.Test.Cols))
			if err != nil {
				return err
			}
			judged := "not classified (no digit classifier)"
			if last.MeanConfidence != nil {
				judged = fmt.Sprintf("the classifier's mean confidence %.2f, plausible digits (near and p ≥ 0.9) %.0f%%", *last.MeanConfidence, 100**last.PlausibleFraction)
			}
			st.Figures = append(st.Figures, Figure{File: fmt.Sprintf("walk-%s-%s-%d.png", name, spec.Method, spec.Steps), Title: fmt.Sprintf("%s walk of %s", spec.Method, name),
				Caption: fmt.Sprintf("%d chains from %s noise, snapshots at steps %s. Mean ‖r(x) − x‖² %.3g at the start, %.3g at the end; at the end %.0f%% of the chains are near a training image, %s.",
					spec.Chains, spec.Start, joinSteps(snapshots), first.MeanEnergy, last.MeanEnergy, 100*last.NearFraction, judged),
				PNG: png})
			walk := fmt.Sprintf("%s, %d steps from %s", spec.Method, spec.Steps, spec.Start)
			if spec.Method != study.WalkChain {
				walk += ", η " + strconv.FormatFloat(spec.Eta, 'g', 3, 64)
			}
			sec.Rows = append(sec.Rows, []string{name, walk, f3(first.MeanEnergy) + " → " + f3(last.MeanEnergy),
				f3(last.MeanNearestDistance), percent(last.NearFraction), optional(last.MeanConfidence, f3), optional(last.PlausibleFraction, percent)})
			data = append(data, map[string]any{"model": name, "method": spec.Method, "start": spec.Start, "steps": spec.Steps, "eta": spec.Eta,
				"points": points, "summary": summary})
			if !spec.Score {
				continue
			}
			if judge == nil {
				st.Reading = append(st.Reading, fmt.Sprintf("The samples of the %s walk of %s are not judged: there is no digit classifier.", spec.Method, name))
				continue
			}
			final := snaps[len(snaps)-1].Images
			var pixels []float32
			for _, im := range final {
				pixels = append(pixels, im...)
			}
			st.meter.enter(fmt.Sprintf("studies: judging the %d samples of the %s walk of %s", len(final), spec.Method, name))
			score, err := study.SampleJudge{Classifier: judge, Set: set}.Score(ctx, backend, pixels)
			if err != nil {
				return fmt.Errorf("judging the samples of %s: %w", name, err)
			}
			png, err = pngOf(report.SamplesGrid(fmt.Sprintf("%s walk of %s: the last images of %d chains", spec.Method, name, min(100, len(final))), final, 100, 10, set.Test.Rows, set.Test.Cols))
			if err != nil {
				return err
			}
			st.Figures = append(st.Figures, Figure{File: fmt.Sprintf("samples-%s-%s-%d.png", name, spec.Method, spec.Steps), Title: fmt.Sprintf("samples of the %s walk of %s", spec.Method, name),
				Caption: fmt.Sprintf("The last images of the first %d of %d chains from %s noise after %d steps: %.0f%% plausible digits, %d digits found, Parzen estimate %.1f nats.",
					min(100, len(final)), len(final), spec.Start, spec.Steps, 100*score.PlausibleShare, score.ClassesCovered, score.ParzenLL),
				PNG: png})
			samples.Rows = append(samples.Rows, []string{name, walk, strconv.Itoa(score.N), fmt.Sprintf("%.1f ± %.1f", score.ParzenLL, score.ParzenSE),
				fmt.Sprintf("%d, %.2f", score.ClassesCovered, score.ClassEntropy), percent(score.PlausibleShare), percent(score.NearCopyShare),
				fmt.Sprintf("%.1f (%.2f)", score.FD, score.FDFloor)})
			scores = append(scores, map[string]any{"model": name, "method": spec.Method, "steps": spec.Steps, "score": score})
		}
	}
	st.Data["walks"] = data
	st.Sections = append(st.Sections, sec)
	if len(samples.Rows) > 0 {
		st.Data["samples"] = scores
		st.Sections = append(st.Sections, samples)
	}
	return nil
}

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" }

// optional formats a figure that needs the digit classifier, n/a without it.
func optional(x *float64, format func(float64) string) string {
	if x == nil {
		return na
	}
	return format(*x)
}

func joinSteps(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}
