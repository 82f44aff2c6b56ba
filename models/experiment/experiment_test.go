package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/train"
)

// tinyConfig has the three procedures and a shared pretrained stack, on a few images.
const tinyConfig = `
name: tiny
description: three procedures on a few images
train_limit: 600
defaults: {batch: 20}
runs:
  - {name: ae, kind: ae, hidden: [16], epochs: 2}
  - {name: dae, kind: dae, hidden: [16], epochs: 2}
  - {name: deep-pre, kind: ae, hidden: [24, 8], procedure: pretrain, epochs_per_layer: 1}
  - {name: deep-ft, kind: ae, hidden: [24, 8], procedure: pretrain+finetune, epochs_per_layer: 1, finetune_epochs: 1}
`

func tinySet(t *testing.T) (*Config, *datasets.Set) {
	t.Helper()
	cfg, err := Parse("tiny.yaml", []byte(tinyConfig))
	if err != nil {
		t.Fatal(err)
	}
	set, err := datasets.Load(datasets.Options{TrainLimit: cfg.TrainLimit})
	if err != nil {
		t.Fatal(err)
	}
	// A short test set keeps the evaluation quick.
	set.Test = set.Test.Slice(0, 500)
	return cfg, set
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// TestInterruptedExperimentResumes stops an experiment after its first run, runs it again,
// and checks that only the unfinished runs train the second time.
func TestInterruptedExperimentResumes(t *testing.T) {
	cfg, set := tinySet(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Out: dir, Backend: plan.New(plan.NewCPU())}
	epochs := 0
	opts.Hooks = func(string) train.Hooks {
		return train.Hooks{EpochEnd: func(models.EpochStats) error {
			epochs++
			if epochs == 3 { // the first epoch of the second run
				cancel()
			}
			return nil
		}}
	}
	_, err := TrainAndEvaluate(ctx, cfg, set, opts)
	if !errors.Is(err, models.ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	first := filepath.Join(dir, "checkpoints", "ae.safetensors")
	stamp := modTime(t, first)

	epochs = 0
	opts.Hooks = func(string) train.Hooks {
		return train.Hooks{EpochEnd: func(models.EpochStats) error { epochs++; return nil }}
	}
	results, err := TrainAndEvaluate(context.Background(), cfg, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Reused || results[1].Reused || results[2].Reused {
		t.Errorf("reused: %v %v %v; want only the finished first run", results[0].Reused, results[1].Reused, results[2].Reused)
	}
	if !modTime(t, first).Equal(stamp) {
		t.Error("the finished run's checkpoint was written again")
	}
	// dae 2 epochs + pretrain 2 levels × 1 + fine-tune 1; the shared pretrain trains once.
	if epochs != 5 {
		t.Errorf("%d epochs trained on resuming, want 5", epochs)
	}
	again, err := TrainAndEvaluate(context.Background(), cfg, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if !r.Reused {
			t.Errorf("run %s retrained on a third pass", r.Run.Name)
		}
		if r.Metrics != results[i].Metrics && r.Metrics.TestMSE != results[i].Metrics.TestMSE {
			t.Errorf("run %s measured differently on a third pass", r.Run.Name)
		}
	}
	if results[3].Model.Record.Procedure() != "pretrain+finetune" || len(results[3].Model.Record.Levels) != 2 {
		t.Errorf("the fine-tuned run's record: %+v", results[3].Model.Record)
	}

	out, err := WriteOutputs(context.Background(), dir, opts.Backend, Report{Config: cfg, ConfigYAML: []byte(tinyConfig), Set: set, Results: results})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.json", "metrics.csv", "metrics.md", "report.html", "reconstructions.png", "reconstructions-noisy.png", "loss-curves.png", "test-errors.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", f)
		}
	}
	if len(out.Rows) != 4 || !strings.Contains(Markdown(out.Rows), "| deep-ft | ae | 784-24-8-24-784 |") {
		t.Errorf("table:\n%s", Markdown(out.Rows))
	}
	if len(out.Reading) < 3 {
		t.Errorf("reading: %q", out.Reading)
	}
	checkReportInBrowser(t, filepath.Join(dir, "report.html"), len(out.Figures), 3)
}

// checkReportInBrowser opens the report in headless Chromium at 1280 and 1920 pixels wide
// and checks that nothing is thrown, every image loads, every chart draws, no table hides a
// column and no legend covers a plot. With AELAB_SCREENSHOTS set to a folder it leaves a
// screenshot of each width there, to look at.
func checkReportInBrowser(t *testing.T, path string, wantImages, wantCharts int) {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	for _, width := range []int{1280, 1920} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			alloc, cancel := chromedp.NewExecAllocator(context.Background(),
				chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
				chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
				chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
				chromedp.WindowSize(width, 900), chromedp.UserDataDir(t.TempDir()))
			defer cancel()
			ctx, cancel := chromedp.NewContext(alloc)
			defer cancel()
			var mu sync.Mutex
			var pageErrors []string
			if err := chromedp.Listen(ctx, func(ev any) {
				switch e := ev.(type) {
				case *runtime.EventExceptionThrown:
					mu.Lock()
					pageErrors = append(pageErrors, e.ExceptionDetails.Text)
					mu.Unlock()
				case *runtime.EventConsoleAPICalled:
					if e.Type == runtime.ConsoleAPICalledTypeError {
						mu.Lock()
						pageErrors = append(pageErrors, "console error")
						mu.Unlock()
					}
				}
			}); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			// The browser runs now; a timeout on a derived context limits the actions only.
			tctx, cancelActions := context.WithTimeout(ctx, time.Minute)
			defer cancelActions()
			abs, _ := filepath.Abs(path)
			if err := chromedp.Do(tctx, chromedp.EmulateViewport(int64(width), 900)); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			if err := chromedp.Do(tctx, chromedp.Navigate("file://"+abs)); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.readyState === "complete" && Array.from(document.images).every(i => i.complete)`)); err != nil {
				t.Fatalf("chromium: %v", err)
			}
			eval := func(js string) int {
				t.Helper()
				v, err := chromedp.Run(tctx, chromedp.Evaluate[int](js))
				if err != nil {
					t.Fatalf("chromium: %s: %v", js, err)
				}
				return v
			}
			if total, loaded := eval(`document.images.length`), eval(`Array.from(document.images).filter(i => i.naturalWidth > 0).length`); total != wantImages || loaded != total {
				t.Errorf("%d of %d images loaded, want all %d", loaded, total, wantImages)
			}
			// A chart is drawn when its canvas has pixels that are not blank.
			drawn := eval(`Array.from(document.querySelectorAll(".chart canvas")).filter(c => {
				const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
				for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
				return false; }).length`)
			if drawn != wantCharts {
				t.Errorf("%d charts drawn, want %d", drawn, wantCharts)
			}
			if hidden := eval(`Array.from(document.querySelectorAll("table.data")).filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length`); hidden > 0 {
				t.Errorf("%d tables are wider than the page and hide columns", hidden)
			}
			if wide := eval(`document.documentElement.scrollWidth > window.innerWidth + 1 ? 1 : 0`); wide > 0 {
				t.Error("the page scrolls sideways")
			}
			overlaps := eval(`Array.from(document.querySelectorAll(".chart")).filter(ch => {
				const plot = ch.querySelector(".u-over"), legend = ch.querySelector(".u-legend");
				if (!plot || !legend) return true;
				const a = plot.getBoundingClientRect(), b = legend.getBoundingClientRect();
				return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }).length`)
			if overlaps > 0 {
				t.Errorf("%d charts have a legend over the plot (or none)", overlaps)
			}
			if misaligned := eval(`Array.from(document.querySelectorAll("table.data")).filter(t => {
				const heads = Array.from(t.querySelectorAll("thead th"));
				return Array.from(t.querySelectorAll("tbody tr")).some(r => Array.from(r.cells).some((c, i) =>
					getComputedStyle(c).textAlign !== getComputedStyle(heads[i]).textAlign)); }).length`); misaligned > 0 {
				t.Errorf("%d tables have headers aligned otherwise than their values", misaligned)
			}
			if dir := os.Getenv("AELAB_SCREENSHOTS"); dir != "" {
				shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(80))
				if err != nil {
					t.Fatalf("chromium: %v", err)
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("report-%d.jpg", width)), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(pageErrors) > 0 {
				t.Errorf("the page threw: %v", pageErrors)
			}
		})
	}
}

// TestParallelRunsShareStages runs the tiny experiment two runs at a time: every run
// finishes, and the pretrained stack two runs share is made once.
func TestParallelRunsShareStages(t *testing.T) {
	cfg, set := tinySet(t)
	dir := t.TempDir()
	results, err := TrainAndEvaluate(context.Background(), cfg, set, Options{Out: dir, Backend: plan.New(plan.NewCPU()), Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Model == nil || r.Run.Name != cfg.Runs[i].Name {
			t.Fatalf("result %d: %+v", i, r.Run)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	for _, e := range entries {
		if strings.Contains(e.Name(), "pretrain") {
			t.Errorf("%s: the shared pretrained stack was written twice", e.Name())
		}
	}
	pre, ft := results[2].Model.Record.Levels, results[3].Model.Record.Levels
	if len(pre) != 2 || len(ft) != 2 || pre[1].History[0] != ft[1].History[0] {
		t.Error("the fine-tuned run does not start from the pretrained run's stack")
	}
}

// TestUnlabelledExperiment runs a whole experiment, studies included, on data without
// labels: everything that needs no labels is made and reported, the rest is n/a, said once.
func TestUnlabelledExperiment(t *testing.T) {
	text := tinyConfig + `
interpolations: {pairs: 2, steps: 5}
walks:
  - {models: [dae], steps: 5, chains: 2, score: true}
`
	cfg, err := Parse("tiny.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	_, set := tinySet(t)
	for _, im := range []*datasets.Images{set.TrainFile, set.Train, set.Validation, set.Test} {
		im.Labels = nil
	}
	dir := t.TempDir()
	var last Progress
	out, err := Execute(context.Background(), cfg, []byte(text), set, Options{Out: dir, Backend: plan.New(plan.NewCPU()),
		Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatalf("an unlabelled experiment failed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("no report: %v", err)
	}
	for _, r := range out.Rows {
		if r.ProbeAccuracy != nil {
			t.Errorf("%s has a probe accuracy without labels", r.Name)
		}
	}
	said := 0
	for _, p := range out.Reading {
		said += strings.Count(p, "no labels")
	}
	if said != 1 {
		t.Errorf("the missing labels are said %d times in the reading, want once: %q", said, out.Reading)
	}
	if !strings.Contains(strings.Join(out.Reading, " "), "are not judged: there is no digit classifier") {
		t.Errorf("the reading does not say the samples went unjudged: %q", out.Reading)
	}
	na := 0
	for _, s := range out.Sections {
		for _, row := range s.Rows {
			na += strings.Count(strings.Join(row, " "), "n/a")
		}
	}
	if na == 0 {
		t.Error("no n/a in the studies' tables")
	}
	if last.Fraction() < 0.999 || last.Done > 1.001*last.Total {
		t.Errorf("the progress ended at %.3f of the work (done %g of %g)", last.Fraction(), last.Done, last.Total)
	}
}

// TestSweepWithSeedsReports runs a grid with seeds: the tables show mean ± sd over the seeds,
// metrics.csv keeps every run, and each swept setting gets its figure.
func TestSweepWithSeedsReports(t *testing.T) {
	text := `
name: sweep
train_limit: 600
defaults: {batch: 50}
runs:
  - {name: dae, kind: dae, hidden: [8], noise: "gaussian:0.4", epochs: 1}
grid: {noise: ["gaussian:0.2", "gaussian:0.6"], hidden: [[8], [16]]}
seeds: [1, 2]
`
	cfg, err := Parse("sweep.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	_, set := tinySet(t)
	dir := t.TempDir()
	out, err := Execute(context.Background(), cfg, []byte(text), set, Options{Out: dir, Backend: plan.New(plan.NewCPU())})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rows) != 8 {
		t.Fatalf("%d rows, want 8 (every run)", len(out.Rows))
	}
	md, _ := os.ReadFile(filepath.Join(dir, "metrics.md"))
	if n := strings.Count(string(md), "\n"); n != 2+4 || !strings.Contains(string(md), " ± ") {
		t.Errorf("metrics.md: want a line per configuration, mean ± sd:\n%s", md)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 9 || !strings.HasSuffix(lines[0], ",config,seed") {
		t.Errorf("metrics.csv: want every run with its config and seed:\n%s", csv)
	}
	for _, f := range []string{"sweep-noise.png", "sweep-hidden.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing", f)
		}
	}
}

// TestWalkSamplesJudged judges a walk's last images as samples: the report gets their grid
// and a row of the judge's figures.
func TestWalkSamplesJudged(t *testing.T) {
	text := tinyConfig + `
walks:
  - {models: [dae], method: chain, steps: 3, chains: 120, score: true}
`
	cfg, err := Parse("tiny.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Runs = cfg.Runs[1:2] // the dae alone
	_, set := tinySet(t)
	dir := t.TempDir()
	judge := filepath.Join(dir, "classifier.safetensors")
	rng := models.InitRand(1) // an untrained judge with features (its hidden layer) to compare
	layers := []*graph.Dense{graph.NewDense("layers.0", 784, 16, graph.Sigmoid, rng), graph.NewDense("layers.2", 16, 10, graph.Linear, rng)}
	if err := models.SaveClassifier(judge, &models.Classifier{Layers: layers, Record: models.ClassifierRecord{Layers: []int{784, 16, 10}}}); err != nil {
		t.Fatal(err)
	}
	out, err := Execute(context.Background(), cfg, []byte(text), set, Options{Out: dir, Backend: plan.New(plan.NewCPU()), Classifier: judge})
	if err != nil {
		t.Fatal(err)
	}
	var row []string
	for _, s := range out.Sections {
		if s.Title == "Walks judged as samplers" && len(s.Rows) == 1 {
			row = s.Rows[0]
		}
	}
	if len(row) != 8 || row[0] != "dae" || row[2] != "120" {
		t.Fatalf("the samples' row: %q", row)
	}
	if _, err := os.Stat(filepath.Join(dir, "samples-dae-chain-3.png")); err != nil {
		t.Errorf("no samples grid: %v", err)
	}
}
