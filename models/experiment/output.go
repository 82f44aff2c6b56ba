package experiment

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

// Row is one model's line of the metrics table.
type Row struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Layers        string   `json:"layers"`
	Parameters    int      `json:"parameters"`
	Procedure     string   `json:"procedure"`
	Epochs        int      `json:"epochs"`
	Device        string   `json:"device"`
	TrainSeconds  float64  `json:"train_seconds"`
	TestMSE       float64  `json:"test_mse"`
	TestMSENoisy  float64  `json:"test_mse_noisy"`
	PerImageSSE   float64  `json:"per_image_sse"`
	PSNR          float64  `json:"psnr_db"`
	ProbeAccuracy *float64 `json:"probe_accuracy"`
	JacobianFro2  float64  `json:"jacobian_fro2"`
	// With seeds or a grid: the configuration the run is one seed of, and the seed.
	Config string `json:"config,omitempty"`
	Seed   uint64 `json:"seed,omitempty"`
}

// Rows turns results into table rows.
func Rows(results []Result) []Row {
	rows := make([]Row, 0, len(results))
	for _, r := range results {
		m, rec := r.Metrics, r.Model.Record
		device := rec.Training.Device
		if rec.Finetune != nil && rec.Finetune.Device != device {
			device += "+" + rec.Finetune.Device
		}
		rows = append(rows, Row{Name: r.Run.Name, Kind: string(r.Model.AE.Spec.Kind), Layers: r.Model.AE.Spec.String(),
			Parameters: r.Model.AE.NumParams(), Procedure: rec.Procedure(), Epochs: rec.Epochs(), Device: device,
			TrainSeconds: r.Seconds(), TestMSE: m.TestMSE, TestMSENoisy: m.TestMSENoisy, PerImageSSE: m.PerImageSSE,
			PSNR: m.PSNR, ProbeAccuracy: m.ProbeAccuracy, JacobianFro2: m.JacobianFro2})
		if r.Run.Config != "" {
			rows[len(rows)-1].Config, rows[len(rows)-1].Seed = r.Run.Config, r.Run.Seed
		}
	}
	return rows
}

// Summary is one configuration's line of the tables: its figures over its seeds.
type Summary struct {
	Name, Kind, Layers, Procedure                    string
	Epochs, N                                        int
	TrainSeconds, TestMSE, TestMSENoisy, PerImageSSE Spread
	PSNR, ProbeAccuracy, JacobianFro2                Spread
}

// Summaries gathers rows by configuration (a row without one is its own).
func Summaries(rows []Row) []Summary {
	names, sets := byConfig(rows, func(r Row) (string, string) { return r.Config, r.Name })
	out := make([]Summary, len(names))
	for i, set := range sets {
		over := func(value func(Row) *float64) Spread {
			var vs []float64
			for _, r := range set {
				if v := value(r); v != nil {
					vs = append(vs, *v)
				}
			}
			return spreadOf(vs)
		}
		first := set[0]
		out[i] = Summary{Name: names[i], Kind: first.Kind, Layers: first.Layers, Procedure: first.Procedure, Epochs: first.Epochs, N: len(set),
			TrainSeconds: over(func(r Row) *float64 { return &r.TrainSeconds }), TestMSE: over(func(r Row) *float64 { return &r.TestMSE }),
			TestMSENoisy: over(func(r Row) *float64 { return &r.TestMSENoisy }), PerImageSSE: over(func(r Row) *float64 { return &r.PerImageSSE }),
			PSNR: over(func(r Row) *float64 { return &r.PSNR }), ProbeAccuracy: over(func(r Row) *float64 { return r.ProbeAccuracy }),
			JacobianFro2: over(func(r Row) *float64 { return &r.JacobianFro2 })}
	}
	return out
}

// anySeeds reports whether a summary holds several runs.
func anySeeds(sums []Summary) bool {
	for _, s := range sums {
		if s.N > 1 {
			return true
		}
	}
	return false
}

// optionalText shows a spread, n/a when nothing measured it.
func optionalText(s Spread, prec int) string {
	if s.N == 0 {
		return na
	}
	return s.Text(prec)
}

func header() []string {
	return []string{"name", "kind", "layers", "parameters", "procedure", "epochs", "device", "train_seconds",
		"test_mse", "test_mse_noisy", "per_image_sse", "psnr_db", "probe_accuracy", "jacobian_fro2"}
}

func (r Row) cells() []string {
	probe := ""
	if r.ProbeAccuracy != nil {
		probe = strconv.FormatFloat(*r.ProbeAccuracy, 'f', 4, 64)
	}
	return []string{r.Name, r.Kind, r.Layers, strconv.Itoa(r.Parameters), r.Procedure, strconv.Itoa(r.Epochs), r.Device,
		strconv.FormatFloat(r.TrainSeconds, 'f', 1, 64), strconv.FormatFloat(r.TestMSE, 'f', 5, 64),
		strconv.FormatFloat(r.TestMSENoisy, 'f', 5, 64), strconv.FormatFloat(r.PerImageSSE, 'f', 3, 64),
		strconv.FormatFloat(r.PSNR, 'f', 2, 64), probe, strconv.FormatFloat(r.JacobianFro2, 'f', 1, 64)}
}

// Markdown renders rows as a Markdown table; with seeds, a line per configuration, its
// figures mean ± standard deviation over the seeds (every run is in metrics.csv and .json).
func Markdown(rows []Row) string {
	var b strings.Builder
	if sums := Summaries(rows); anySeeds(sums) {
		b.WriteString("| name | kind | layers | procedure | epochs | n | train_seconds | test_mse | test_mse_noisy | per_image_sse | psnr_db | probe_accuracy | jacobian_fro2 |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range sums {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.Name, s.Kind, s.Layers, s.Procedure, s.Epochs, s.N,
				s.TrainSeconds.Text(1), s.TestMSE.Text(5), s.TestMSENoisy.Text(5), s.PerImageSSE.Text(3), s.PSNR.Text(2), optionalText(s.ProbeAccuracy, 4), s.JacobianFro2.Text(1))
		}
		return b.String()
	}
	h := header()
	b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
	for range h {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r.cells(), " | ") + " |\n")
	}
	return b.String()
}

// Figure is a picture of the report.
type Figure struct {
	File    string // its file name in the output folder
	Title   string
	Caption string
	PNG     []byte
}

// Outputs are the files an experiment writes besides the checkpoints.
type Outputs struct {
	Rows     []Row
	Figures  []Figure
	Sections []Section
	Reading  []string // paragraphs reading the results
	Missing  []string // runs the report lacks
}

// Report is what an experiment's outputs are made of.
type Report struct {
	Config     *Config
	ConfigYAML []byte // the config's text, shown in the report
	Set        *datasets.Set
	Results    []Result
	Studies    *Studies      // nil: none
	Took       time.Duration // the experiment's wall time; 0: not known
	Missing    []string      // runs not finished yet (a report made before every shard is done)
}

// WriteOutputs renders the tables, figures and report of r into dir: metrics.json, .csv
// and .md, the figures as PNG, studies.json, and report.html.
func WriteOutputs(ctx context.Context, dir string, backend graph.Backend, r Report) (*Outputs, error) {
	cfg, set, results, studies := r.Config, r.Set, r.Results, r.Studies
	out := &Outputs{Rows: Rows(results)}
	shown := firstSeeds(results) // figures show each configuration once
	figs, err := reconstructionFigures(ctx, backend, set, cfg, shown)
	if err != nil {
		return nil, err
	}
	learned, err := learnedFigures(ctx, backend, set, shown)
	if err != nil {
		return nil, err
	}
	curves, err := lossCurves(shown)
	if err != nil {
		return nil, err
	}
	bars, err := errorBars(out.Rows)
	if err != nil {
		return nil, err
	}
	sweeps, err := sweepFigures(results)
	if err != nil {
		return nil, err
	}
	out.Figures = append(append(append(figs, learned...), bars), sweeps...)
	out.Reading = Reading(results)
	if len(r.Missing) > 0 {
		out.Reading = append([]string{fmt.Sprintf("This report lacks %d runs that are not finished yet: %s. Run the experiment (or its missing shards) to make them, then --report-only again.",
			len(r.Missing), strings.Join(r.Missing, ", "))}, out.Reading...)
	}
	if studies != nil {
		out.Figures = append(out.Figures, studies.Figures...)
		out.Sections = studies.Sections
		out.Reading = append(out.Reading, studies.Reading...)
	}

	write := func(name string, data []byte) error { return renameio.WriteFile(filepath.Join(dir, name), data, 0o644) }
	js, _ := json.MarshalIndent(out.Rows, "", "  ")
	if err := write("metrics.json", append(js, '\n')); err != nil {
		return nil, err
	}
	var csvBuf bytes.Buffer
	cw := csv.NewWriter(&csvBuf)
	expanded := len(out.Rows) > 0 && out.Rows[0].Config != "" // seeds or a grid: every run's configuration and seed too
	if expanded {
		cw.Write(append(header(), "config", "seed"))
	} else {
		cw.Write(header())
	}
	for _, r := range out.Rows {
		if expanded {
			cw.Write(append(r.cells(), r.Config, strconv.FormatUint(r.Seed, 10)))
		} else {
			cw.Write(r.cells())
		}
	}
	cw.Flush()
	if err := write("metrics.csv", csvBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := write("metrics.md", []byte(Markdown(out.Rows))); err != nil {
		return nil, err
	}
	if studies != nil {
		js, err := json.MarshalIndent(studies.Data, "", " ")
		if err != nil {
			return nil, fmt.Errorf("experiment: encode studies: %w", err)
		}
		if err := write("studies.json", append(js, '\n')); err != nil {
			return nil, err
		}
	}
	// The loss curves as a picture (for documents); the report draws them as charts.
	for _, f := range append(out.Figures, curves) {
		if err := write(f.File, f.PNG); err != nil {
			return nil, err
		}
	}
	html, err := page(r, dir, out, lossCharts(shown)).Render()
	if err != nil {
		return nil, err
	}
	if err := write("report.html", html); err != nil {
		return nil, err
	}
	return out, nil
}

// digitsShown is how many test digits the reconstruction figures show, one per class.
const digitsShown = 10

// reconstructionFigures draws the same test digits as every model reconstructs them, from
// clean and from corrupted inputs.
func reconstructionFigures(ctx context.Context, backend graph.Backend, set *datasets.Set, cfg *Config, results []Result) ([]Figure, error) {
	noise, _ := datasets.ParseNoise(cfg.Eval.Noise)
	if noise.IsNone() {
		noise, _ = datasets.ParseNoise(models.DefaultNoise)
	}
	digits := study.PickDigits(set.Test, digitsShown, noise, cfg.Eval.Seed)
	var recons []study.Reconstruction
	for _, r := range results {
		rec, err := digits.Reconstruct(ctx, backend, r.Run.Name, r.Model.AE.Graph())
		if err != nil {
			return nil, err
		}
		recons = append(recons, rec)
	}
	clean := report.ReconstructionGrid("test digits and every model's reconstruction", digits, recons, false)
	fromNoisy := report.ReconstructionGrid("the same digits corrupted ("+noise.String()+") and every model's reconstruction", digits, recons, true)
	var figs []Figure
	for _, f := range []struct {
		g             report.Grid
		file, caption string
	}{
		{clean, "reconstructions.png", "The same ten test digits, one of each class, as each model reconstructs them from the clean image."},
		{fromNoisy, "reconstructions-noisy.png", "The same digits with " + noise.String() + " noise, and each model's reconstruction of the noisy image."},
	} {
		img, err := f.g.Render()
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := report.EncodePNG(&buf, img); err != nil {
			return nil, err
		}
		figs = append(figs, Figure{File: f.file, Title: f.g.Title, Caption: f.caption, PNG: buf.Bytes()})
	}
	return figs, nil
}

// lossCurves draws each model's training and validation losses, stage after stage.
func lossCurves(results []Result) (Figure, error) {
	var panels []report.Curves
	for _, r := range results {
		rec := r.Model.Record
		c := report.Curves{Title: r.Run.Name}
		var train, val []float64
		add := func(hist []models.EpochStats) {
			for _, h := range hist {
				train, val = append(train, h.TrainLoss), append(val, h.ValLoss)
			}
		}
		add(rec.History)
		for _, l := range rec.Levels {
			if len(train) > 0 {
				c.Marks = append(c.Marks, report.Mark{Epoch: float64(len(train)) + 0.5, Label: fmt.Sprintf("level %d", l.Level)})
			}
			add(l.History)
		}
		if rec.Finetune != nil {
			c.Marks = append(c.Marks, report.Mark{Epoch: float64(len(train)) + 0.5, Label: "fine-tune"})
			add(rec.Finetune.History)
		}
		c.Series = []report.Series{{Name: "train", Y: train}, {Name: "validation", Y: val}}
		panels = append(panels, c)
	}
	png, err := report.LossCurves(panels, 3)
	if err != nil {
		return Figure{}, err
	}
	return Figure{File: "loss-curves.png", Title: "training and validation loss per epoch",
		Caption: "Training loss (the objective, noise and penalty included) and validation loss (reconstruction of the clean validation images) per epoch, on a logarithmic scale. Pretrained models show each level in turn: a level reconstructs the codes of the level below, so its losses are on another scale; dashed lines mark where a level or fine-tuning begins.",
		PNG:     png}, nil
}

// errorBars draws every model's test errors side by side; with seeds, each configuration's
// means with ±1 standard deviation.
func errorBars(rows []Row) (Figure, error) {
	sums := Summaries(rows)
	var names []string
	for _, s := range sums {
		names = append(names, s.Name)
	}
	caption := "Mean squared error per pixel on the 10,000 test images, from clean inputs and from corrupted ones (the target is always the clean image)."
	if anySeeds(sums) {
		clean, noisy := report.MeanGroup{Name: "test_mse"}, report.MeanGroup{Name: "test_mse_noisy"}
		for _, s := range sums {
			clean.Means, clean.SDs = append(clean.Means, s.TestMSE.Mean), append(clean.SDs, s.TestMSE.SD)
			noisy.Means, noisy.SDs = append(noisy.Means, s.TestMSENoisy.Mean), append(noisy.SDs, s.TestMSENoisy.SD)
		}
		png, err := report.Means("test reconstruction error, mean ± sd over seeds", "mean squared error per pixel", names, []report.MeanGroup{clean, noisy})
		if err != nil {
			return Figure{}, err
		}
		return Figure{File: "test-errors.png", Title: "test errors", Caption: caption + " Points are means over the seeds, bars ±1 standard deviation.", PNG: png}, nil
	}
	clean, noisy := report.BarGroup{Name: "test_mse"}, report.BarGroup{Name: "test_mse_noisy"}
	for _, r := range rows {
		clean.Values = append(clean.Values, r.TestMSE)
		noisy.Values = append(noisy.Values, r.TestMSENoisy)
	}
	png, err := report.Bars("test reconstruction error", "mean squared error per pixel", names, []report.BarGroup{clean, noisy})
	if err != nil {
		return Figure{}, err
	}
	return Figure{File: "test-errors.png", Title: "test errors", Caption: caption, PNG: png}, nil
}
