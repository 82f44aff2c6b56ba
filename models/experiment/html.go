package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/report"
)

// glossary explains every figure of the results table.
func glossary() []report.Term {
	return []report.Term{
		{Name: "test_mse", Meaning: "mean squared error per pixel between the clean test images and their reconstructions (pixels in [0, 1]); lower is better"},
		{Name: "test_mse_noisy", Meaning: "the same, from corrupted inputs (the noise the configuration's eval section names), still against the clean images: how well a model denoises"},
		{Name: "per_image_sse", Meaning: "squared error summed over an image's 784 pixels, mean over the test images: Hinton & Salakhutdinov's figure"},
		{Name: "PSNR dB", Meaning: "peak signal-to-noise ratio, 10·log10(1 / test_mse); higher is better"},
		{Name: "probe", Meaning: "probe_accuracy: test accuracy of a linear softmax classifier trained (Adam, 10 epochs) on the frozen top code of the whole training split; how linearly the code separates the digits"},
		{Name: "‖J‖²_F", Meaning: "jacobian_fro2: mean squared Frobenius norm of the encoder's Jacobian at test images (all of them for one layer, the first hundreds for deep stacks); how much the code moves when the input does, what a contractive autoencoder makes small"},
		{Name: "train s", Meaning: "wall time of the training steps, pretraining and fine-tuning included"},
		{Name: "epochs", Meaning: "epochs of training; for pretrained stacks every level's, plus fine-tuning's"},
	}
}

// resultsTable is the results as the report shows them: the figures that compare models,
// the best of each marked, each name linked to its checkpoint.
func resultsTable(dir string, results []Result, rows []Row) report.Table {
	num := func(name string, best report.Best) report.Column {
		return report.Column{Name: name, Numeric: true, Best: best}
	}
	if sums := Summaries(rows); anySeeds(sums) {
		t := report.Table{Columns: []report.Column{{Name: "model"}, {Name: "kind"}, {Name: "layers"}, {Name: "procedure"},
			num("epochs", report.NoBest), num("n", report.NoBest), num("test_mse", report.Lowest), num("test_mse_noisy", report.Lowest),
			num("per_image_sse", report.Lowest), num("PSNR dB", report.Highest), num("probe", report.Highest), num("‖J‖²_F", report.NoBest)}}
		first := map[string]string{} // each configuration's first run's checkpoint
		for _, r := range results {
			if _, ok := first[r.Run.Config]; !ok && r.Run.Config != "" {
				href, _ := filepath.Rel(dir, r.Path)
				first[r.Run.Config] = filepath.ToSlash(href)
			}
		}
		for _, s := range sums {
			t.Rows = append(t.Rows, []report.Cell{{Text: s.Name, Href: first[s.Name]}, {Text: s.Kind}, {Text: s.Layers}, {Text: s.Procedure},
				{Text: strconv.Itoa(s.Epochs)}, {Text: strconv.Itoa(s.N)}, {Text: s.TestMSE.Text(5)}, {Text: s.TestMSENoisy.Text(5)},
				{Text: s.PerImageSSE.Text(3)}, {Text: s.PSNR.Text(2)}, {Text: optionalText(s.ProbeAccuracy, 4)}, {Text: s.JacobianFro2.Text(1)}})
		}
		return t
	}
	t := report.Table{Columns: []report.Column{{Name: "model"}, {Name: "kind"}, {Name: "layers"}, {Name: "procedure"},
		num("epochs", report.NoBest), num("train s", report.NoBest), num("test_mse", report.Lowest), num("test_mse_noisy", report.Lowest),
		num("per_image_sse", report.Lowest), num("PSNR dB", report.Highest), num("probe", report.Highest), num("‖J‖²_F", report.NoBest)}}
	for i, r := range rows {
		probe := na
		if r.ProbeAccuracy != nil {
			probe = strconv.FormatFloat(*r.ProbeAccuracy, 'f', 4, 64)
		}
		href, _ := filepath.Rel(dir, results[i].Path)
		t.Rows = append(t.Rows, []report.Cell{{Text: r.Name, Href: filepath.ToSlash(href)}, {Text: r.Kind}, {Text: r.Layers}, {Text: r.Procedure},
			{Text: strconv.Itoa(r.Epochs)}, {Text: strconv.FormatFloat(r.TrainSeconds, 'f', 1, 64)},
			{Text: strconv.FormatFloat(r.TestMSE, 'f', 5, 64)}, {Text: strconv.FormatFloat(r.TestMSENoisy, 'f', 5, 64)},
			{Text: strconv.FormatFloat(r.PerImageSSE, 'f', 3, 64)}, {Text: strconv.FormatFloat(r.PSNR, 'f', 2, 64)},
			{Text: probe}, {Text: strconv.FormatFloat(r.JacobianFro2, 'f', 1, 64)}})
	}
	return t
}

// sectionTable turns a studies' section into a report table: a column is numeric when every
// cell starts with a number (or says n/a); its best value is marked as the section says.
func sectionTable(s Section) report.Table {
	t := report.Table{Title: s.Title, Text: s.Text}
	for c, name := range s.Header {
		numeric := len(s.Rows) > 0
		for _, row := range s.Rows {
			cell := strings.TrimSpace(row[c])
			if cell == na || cell == "–" {
				continue
			}
			if cell == "" || !strings.ContainsRune("0123456789.-", rune(cell[0])) {
				numeric = false
			}
		}
		best := report.NoBest
		if c < len(s.Best) && numeric {
			best = s.Best[c]
		}
		t.Columns = append(t.Columns, report.Column{Name: name, Numeric: numeric, Best: best})
	}
	for _, row := range s.Rows {
		var cells []report.Cell
		for _, v := range row {
			cells = append(cells, report.Cell{Text: v})
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// lossCharts are the training curves every run shares axes in: the validation and training
// losses of end-to-end training (training, or fine-tuning a pretrained stack), and the
// first pretraining level's validation loss.
func lossCharts(results []Result) []report.Chart {
	endToEnd := func(r Result) []models.EpochStats {
		if ft := r.Model.Record.Finetune; ft != nil {
			return ft.History
		}
		return r.Model.Record.History
	}
	levelOne := func(r Result) []models.EpochStats {
		if l := r.Model.Record.Levels; len(l) > 0 {
			return l[0].History
		}
		return nil
	}
	chart := func(id, title, caption, ylabel string, history func(Result) []models.EpochStats, value func(models.EpochStats) float64) (report.Chart, bool) {
		c := report.Chart{ID: id, Title: title, Caption: caption, XLabel: "epoch", YLabel: ylabel, LogY: true}
		longest := 0
		for _, r := range results {
			longest = max(longest, len(history(r)))
		}
		for e := range longest {
			c.X = append(c.X, float64(e+1))
		}
		for _, r := range results {
			h := history(r)
			if len(h) == 0 {
				continue
			}
			s := report.ChartSeries{Name: r.Run.Name, Y: make([]*float64, longest)}
			for e, st := range h {
				v := value(st)
				s.Y[e] = &v
			}
			c.Series = append(c.Series, s)
		}
		return c, len(c.Series) > 0
	}
	var out []report.Chart
	val := func(st models.EpochStats) float64 { return st.ValLoss }
	trainLoss := func(st models.EpochStats) float64 { return st.TrainLoss }
	if c, ok := chart("chart-validation", "validation loss of end-to-end training",
		"Reconstruction loss of the clean validation images after each epoch of end-to-end training: training a model from the start, or fine-tuning a pretrained stack (whose epochs then count the fine-tuning's).",
		"validation loss", endToEnd, val); ok {
		out = append(out, c)
	}
	if c, ok := chart("chart-training", "training loss of end-to-end training",
		"The mean objective over each epoch's steps: the reconstruction loss of the corrupted inputs for denoising models, plus the penalty for contractive ones, so it is not comparable across kinds.",
		"training loss", endToEnd, trainLoss); ok {
		out = append(out, c)
	}
	if c, ok := chart("chart-level1", "pretraining, level 1: validation loss",
		"Level 1 of each pretrained stack is a single-layer autoencoder of the images; its validation loss is comparable with the single-layer models above.",
		"validation loss", levelOne, val); ok {
		out = append(out, c)
	}
	return out
}

// learnedFigures draw what the models learnt: the first layer's filters and a map of the
// test images' codes.
func learnedFigures(ctx context.Context, backend graph.Backend, set *datasets.Set, results []Result) ([]Figure, error) {
	var filters []report.Filters
	var codes []report.Codes
	mapped := set.Test.Slice(0, min(2000, set.Test.Len()))
	for _, r := range results {
		ae := r.Model.AE
		first := ae.Encoder[0]
		if first.In() == set.Test.Rows*set.Test.Cols {
			filters = append(filters, report.Filters{Name: r.Run.Name, W: first.W.Data, In: first.In(), Out: first.Out()})
		}
		c, err := models.Encode(ctx, backend, ae.Encoder, mapped)
		if err != nil {
			return nil, err
		}
		codes = append(codes, report.Codes{Name: r.Run.Name, Values: c.Pixels, H: c.Dim(), Labels: mapped.Labels})
	}
	var figs []Figure
	if len(filters) > 0 {
		png, err := pngOf(report.FiltersGrid("first-layer filters: the weights into the first 16 hidden units", filters, 16, set.Test.Rows, set.Test.Cols))
		if err != nil {
			return nil, err
		}
		figs = append(figs, Figure{File: "filters.png", Title: "learned filters",
			Caption: "Each tile is the weights from the 784 pixels into one hidden unit of the first layer, scaled from the unit's lowest weight (black) to its highest (white): the strokes and blobs a unit responds to.",
			PNG:     png})
	}
	png, err := report.CodeMaps(codes, 3)
	if err != nil {
		return nil, err
	}
	caption := fmt.Sprintf("The top codes of the first %d test images, projected on their first two principal components (PCA), coloured by digit; the share of the codes' variance the plane holds is in each title. Digits that cluster apart are easy to tell from the code.", mapped.Len())
	if mapped.Labels == nil {
		caption = fmt.Sprintf("The top codes of the first %d test images, projected on their first two principal components (PCA); the data has no labels to colour them by.", mapped.Len())
	}
	return append(figs, Figure{File: "codes-pca.png", Title: "a map of the codes", Caption: caption, PNG: png}), nil
}

// page assembles the report.
func page(r Report, dir string, out *Outputs, charts []report.Chart) report.Page {
	cfg, set := r.Config, r.Set
	facts := []report.Fact{
		{Label: "data", Value: fmt.Sprintf("%s (checksum %s), %d training images, %d validation, %d test", set.Name, set.Checksum()[:12], set.Train.Len(), set.Validation.Len(), set.Test.Len())},
		{Label: "made by", Value: fmt.Sprintf("aelab %s on %s, %s", models.Version, devices(out.Rows), time.Now().UTC().Format("2006-01-02 15:04 UTC"))},
	}
	if r.Took > 0 {
		facts = append(facts, report.Fact{Label: "run time", Value: fmt.Sprintf("%s, from the start of the experiment to this report (what was on disk reused)", r.Took.Round(time.Second))})
	}
	links := []report.Link{{Text: "metrics.csv", Href: "metrics.csv"}, {Text: "metrics.json", Href: "metrics.json"}, {Text: "metrics.md", Href: "metrics.md"}}
	if r.Studies != nil {
		links = append(links, report.Link{Text: "studies.json", Href: "studies.json"})
	}
	links = append(links, report.Link{Text: "checkpoints/", Href: "checkpoints/"})
	p := report.Page{Title: "aelab experiment: " + cfg.Name, Description: cfg.Description, Facts: facts, Links: links,
		Glossary: glossary(), Results: resultsTable(dir, r.Results, out.Rows), Reading: out.Reading, Charts: charts, Config: string(r.ConfigYAML)}
	for _, s := range out.Sections {
		p.Tables = append(p.Tables, sectionTable(s))
	}
	for _, f := range out.Figures {
		p.Figures = append(p.Figures, report.Figure{Title: f.Title, Caption: f.Caption, PNG: f.PNG})
	}
	return p
}

// devices names where the models trained: "cpu", or each device once.
func devices(rows []Row) string {
	var seen []string
	for _, r := range rows {
		if r.Device != "" && !slices.Contains(seen, r.Device) {
			seen = append(seen, r.Device)
		}
	}
	if len(seen) == 0 {
		return "an unknown device"
	}
	return strings.Join(seen, ", ")
}
