package experiment

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/aelab/aelab/models/report"
	"github.com/aelab/aelab/models/study"
)

// Group is one configuration's runs: one per seed.
type Group struct {
	Name    string
	Results []Result
}

// groups gathers results by configuration, in the order they first appear.
func groups(results []Result) []Group {
	names, sets := byConfig(results, func(r Result) (string, string) { return r.Run.Config, r.Run.Name })
	out := make([]Group, len(names))
	for i := range names {
		out[i] = Group{Name: names[i], Results: sets[i]}
	}
	return out
}

// byConfig gathers items by the configuration they are a run of (their own name when they
// belong to none), in the order the configurations first appear.
func byConfig[T any](items []T, names func(T) (config, name string)) ([]string, [][]T) {
	var order []string
	var sets [][]T
	index := map[string]int{}
	for _, it := range items {
		config, name := names(it)
		if config == "" {
			config = name
		}
		i, ok := index[config]
		if !ok {
			i = len(order)
			index[config] = i
			order, sets = append(order, config), append(sets, nil)
		}
		sets[i] = append(sets[i], it)
	}
	return order, sets
}

// Spread is a figure's mean over a group's seeds, its sample standard deviation and n.
type Spread struct {
	Mean, SD float64
	N        int
}

func spreadOf(values []float64) Spread {
	s := Spread{N: len(values)}
	switch {
	case s.N == 1:
		s.Mean = values[0]
	case s.N > 1:
		s.Mean, s.SD = stat.MeanStdDev(values, nil) // the sample standard deviation
	}
	return s
}

// Text shows the spread with prec decimals: "0.00367", or "0.00367 ± 0.00012" over seeds.
func (s Spread) Text(prec int) string {
	m := strconv.FormatFloat(s.Mean, 'f', prec, 64)
	if s.N < 2 {
		return m
	}
	return m + " ± " + strconv.FormatFloat(s.SD, 'f', prec, 64)
}

// spread returns a figure of every run of g; nil values (no probe) are left out.
func (g Group) spread(value func(study.Metrics) *float64) Spread {
	var vs []float64
	for _, r := range g.Results {
		if v := value(r.Metrics); v != nil {
			vs = append(vs, *v)
		}
	}
	return spreadOf(vs)
}

// The figures a group's table shows.
func testMSE(m study.Metrics) *float64      { return &m.TestMSE }
func testMSENoisy(m study.Metrics) *float64 { return &m.TestMSENoisy }
func perImageSSE(m study.Metrics) *float64  { return &m.PerImageSSE }
func psnr(m study.Metrics) *float64         { return &m.PSNR }
func probeAcc(m study.Metrics) *float64     { return m.ProbeAccuracy }
func jacobian(m study.Metrics) *float64     { return &m.JacobianFro2 }

// representative is the group as one result: the first seed's run and model, with the
// figures averaged over the seeds (what the reading compares).
func (g Group) representative() Result {
	r := g.Results[0]
	r.Run.Name = g.Name
	mean := func(v func(study.Metrics) *float64) float64 { return g.spread(v).Mean }
	r.Metrics.TestMSE, r.Metrics.TestMSENoisy = mean(testMSE), mean(testMSENoisy)
	r.Metrics.PerImageSSE, r.Metrics.PSNR, r.Metrics.JacobianFro2 = mean(perImageSSE), mean(psnr), mean(jacobian)
	if p := g.spread(probeAcc); p.N > 0 {
		r.Metrics.ProbeAccuracy = &p.Mean
	}
	return r
}

// seeded reports whether any group has several seeds.
func seeded(gs []Group) bool {
	for _, g := range gs {
		if len(g.Results) > 1 {
			return true
		}
	}
	return false
}

// describeN says how many seeds the groups have: "3 seeds" or "1 to 3 seeds".
func describeN(gs []Group) string {
	lo, hi := math.MaxInt, 0
	for _, g := range gs {
		lo, hi = min(lo, len(g.Results)), max(hi, len(g.Results))
	}
	if lo == hi {
		return fmt.Sprintf("%d seeds", hi)
	}
	return fmt.Sprintf("%d to %d seeds", lo, hi)
}

// sweepFigures draw, for each setting a grid sweeps, every figure of the table against the
// setting's values: a line per configuration of the other settings, means over the seeds
// with ±1 standard deviation.
func sweepFigures(results []Result) ([]Figure, error) {
	var keys []string
	valuesOf := map[string][]string{}
	for _, r := range results {
		for _, s := range r.Run.Settings {
			if _, ok := valuesOf[s.Key]; !ok {
				keys = append(keys, s.Key)
			}
			if !slices.Contains(valuesOf[s.Key], s.Value) {
				valuesOf[s.Key] = append(valuesOf[s.Key], s.Value)
			}
		}
	}
	metrics := []struct {
		name  string
		value func(study.Metrics) *float64
	}{{"test_mse", testMSE}, {"test_mse_noisy", testMSENoisy}, {"probe_accuracy", probeAcc}}
	var figs []Figure
	for _, key := range keys {
		values := valuesOf[key]
		// A line is every setting but key: its runs at each value of key, over the seeds.
		var lineNames []string
		runs := map[string]map[string][]Result{}
		for _, r := range results {
			name, at := r.Run.Base, ""
			for _, s := range r.Run.Settings {
				if s.Key == key {
					at = s.Value
				} else {
					name += ", " + s.Key + " " + s.Value
				}
			}
			if runs[name] == nil {
				runs[name] = map[string][]Result{}
				lineNames = append(lineNames, name)
			}
			runs[name][at] = append(runs[name][at], r)
		}
		var panels []report.SweepPanel
		for _, m := range metrics {
			panel := report.SweepPanel{Metric: m.name}
			measured := false
			for _, name := range lineNames {
				line := report.SweepLine{Name: name}
				for _, v := range values {
					s := Group{Results: runs[name][v]}.spread(m.value)
					if s.N == 0 {
						line.Means, line.SDs = append(line.Means, math.NaN()), append(line.SDs, 0)
						continue
					}
					measured = true
					line.Means, line.SDs = append(line.Means, s.Mean), append(line.SDs, s.SD)
				}
				panel.Lines = append(panel.Lines, line)
			}
			if measured {
				panels = append(panels, panel)
			}
		}
		png, err := report.Sweep(key, values, panels)
		if err != nil {
			return nil, err
		}
		figs = append(figs, Figure{File: "sweep-" + fileSafe(key) + ".png", Title: "the sweep of " + key,
			Caption: fmt.Sprintf("Each figure of the results against %s (%s): a line per configuration of the other settings, the mean over its seeds with ±1 standard deviation.", key, strings.Join(values, ", ")),
			PNG:     png})
	}
	return figs, nil
}
