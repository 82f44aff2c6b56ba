package experiment

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/study"
)

// Reading returns short paragraphs that state what the results show, from their numbers:
// the best model, what denoising training does to the error on noisy inputs, what
// fine-tuning adds to pretraining, what the contractive penalty does to the Jacobian, and
// how linearly separable the codes are.
//
// With several seeds of a configuration its mean is compared, and a model is named best only
// when it leads by more than the spread of the seeds; with one, by more than 2%.
func Reading(all []Result) []string {
	if len(all) == 0 {
		return nil
	}
	gs := groups(all)
	rd := reader{groups: map[string]Group{}}
	var results []Result // one per configuration, its figures the seeds' means
	for _, g := range gs {
		rd.groups[g.Name] = g
		results = append(results, g.representative())
	}
	var out []string
	if seeded(gs) {
		out = append(out, fmt.Sprintf("Figures are means over %s; a model is called best only when it leads by more than the seeds' spread (the two standard deviations added).", describeN(gs)))
	}
	byClean := slices.Clone(results)
	slices.SortFunc(byClean, func(a, b Result) int { return cmpFloat(a.Metrics.TestMSE, b.Metrics.TestMSE) })
	byNoisy := slices.Clone(results)
	slices.SortFunc(byNoisy, func(a, b Result) int { return cmpFloat(a.Metrics.TestMSENoisy, b.Metrics.TestMSENoisy) })
	mse := func(r Result) float64 { return r.Metrics.TestMSE }
	noisy := func(r Result) float64 { return r.Metrics.TestMSENoisy }
	out = append(out, fmt.Sprintf("On clean test images %s, and %s worst (%.5f). On corrupted images %s, and %s worst (%.5f).",
		rd.leaders(byClean, testMSE, "reconstructs best", "test_mse %.5f"), byClean[len(byClean)-1].Run.Name, mse(byClean[len(byClean)-1]),
		rd.leaders(byNoisy, testMSENoisy, "is best", "test_mse_noisy %.5f"), byNoisy[len(byNoisy)-1].Run.Name, noisy(byNoisy[len(byNoisy)-1])))
	var denoise, finetune, contract []string
	for _, r := range results {
		if r.Run.Kind == "dae" {
			if ae, ok := partner(results, r, "ae", r.Run.Procedure); ok {
				effect := "no clear difference"
				if ratio := ae.Metrics.TestMSENoisy / r.Metrics.TestMSENoisy; ratio > 1+closeCall {
					effect = fmt.Sprintf("%.2f× lower", ratio)
				} else if ratio < 1-closeCall {
					effect = fmt.Sprintf("%.2f× higher", 1/ratio)
				}
				denoise = append(denoise, fmt.Sprintf("%s %.5f against %s %.5f (%s; clean: %.5f against %.5f)",
					r.Run.Name, r.Metrics.TestMSENoisy, ae.Run.Name, ae.Metrics.TestMSENoisy, effect, r.Metrics.TestMSE, ae.Metrics.TestMSE))
			}
		}
		if r.Run.Procedure == models.ProcedureFinetune {
			if pre, ok := partner(results, r, r.Run.Kind, models.ProcedurePretrain); ok {
				finetune = append(finetune, fmt.Sprintf("%s from %.5f to %.5f (noisy inputs: %.5f to %.5f)",
					r.Run.Kind, pre.Metrics.TestMSE, r.Metrics.TestMSE, pre.Metrics.TestMSENoisy, r.Metrics.TestMSENoisy))
			}
		}
		if r.Run.Kind == "cae" {
			if ae, ok := partner(results, r, "ae", r.Run.Procedure); ok {
				contract = append(contract, fmt.Sprintf("%s %.1f against %s %.1f", r.Run.Name, r.Metrics.JacobianFro2, ae.Run.Name, ae.Metrics.JacobianFro2))
			}
		}
	}
	if len(denoise) > 0 {
		out = append(out, "Denoising training against the error on corrupted inputs (test_mse_noisy): "+strings.Join(denoise, "; ")+".")
	}
	if len(finetune) > 0 {
		out = append(out, "Fine-tuning the pretrained stack end to end changes test_mse: "+strings.Join(finetune, "; ")+".")
	}
	if len(contract) > 0 {
		out = append(out, "The contractive penalty flattens the encoder (mean ‖J_f(x)‖²_F on test images): "+strings.Join(contract, "; ")+".")
	}
	var probed []Result
	for _, r := range results {
		if r.Metrics.ProbeAccuracy != nil {
			probed = append(probed, r)
		}
	}
	if len(probed) > 0 {
		slices.SortFunc(probed, func(a, b Result) int { return cmpFloat(*b.Metrics.ProbeAccuracy, *a.Metrics.ProbeAccuracy) })
		probe := func(r Result) float64 { return *r.Metrics.ProbeAccuracy }
		worst := probed[len(probed)-1]
		out = append(out, fmt.Sprintf("A linear classifier on the frozen top code (probe_accuracy): %s, and worst on %s's (%.4f).",
			rd.leaders(probed, probeAcc, "has the most separable code", "%.4f"), worst.Run.Name, probe(worst)))
	}
	return out
}

// closeCall is the relative difference below which one run per model cannot tell two models
// apart: seeds move these figures by about that much.
const closeCall = 0.02

// reader reads results grouped by configuration.
type reader struct {
	groups map[string]Group
}

// leaders says which of sorted (best first by metric) leads: the best alone when the next
// is behind by more than the seeds' spread (by more than closeCall with one seed each), else
// every model as close to the best, called even.
func (rd reader) leaders(sorted []Result, metric func(study.Metrics) *float64, verb, format string) string {
	value := func(r Result) float64 { return *metric(r.Metrics) }
	spread := func(r Result) Spread {
		if g, ok := rd.groups[r.Run.Name]; ok {
			return g.spread(metric)
		}
		return Spread{Mean: value(r), N: 1}
	}
	best := value(sorted[0])
	tied := func(r Result) bool {
		a, b := spread(sorted[0]), spread(r)
		if a.N > 1 && b.N > 1 {
			return math.Abs(value(r)-best) <= a.SD+b.SD
		}
		return relDiff(value(r), best) <= closeCall+1e-12
	}
	n := 1
	for n < len(sorted) && tied(sorted[n]) {
		n++
	}
	switch {
	case len(sorted) == 1:
		return fmt.Sprintf("%s %s ("+format+")", sorted[0].Run.Name, verb, best)
	case n == 1:
		return fmt.Sprintf("%s %s ("+format+"; the next is %.0f%% behind)", sorted[0].Run.Name, verb, best, 100*relDiff(value(sorted[1]), best))
	}
	var names []string
	for _, r := range sorted[:n] {
		names = append(names, r.Run.Name)
	}
	last := strings.TrimSpace(fmt.Sprintf(format[strings.LastIndex(format, "%"):], value(sorted[n-1])))
	if spread(sorted[0]).N > 1 {
		return fmt.Sprintf("no clear difference: %s %s within the spread of their seeds ("+format+" to %s)",
			strings.Join(names, ", "), "are", best, last)
	}
	return fmt.Sprintf("no model clearly %s: %s are within %.0f%% of each other ("+format+" to %s), a difference one run of each cannot tell from chance",
		verb, strings.Join(names, ", "), 100*closeCall, best, last)
}

func relDiff(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Abs(a-b) / math.Abs(b)
}

// partner finds the result of the given kind and procedure with the same hidden sizes as r.
func partner(results []Result, r Result, kind, procedure string) (Result, bool) {
	for _, o := range results {
		if o.Run.Kind == kind && o.Run.Procedure == procedure && slices.Equal(o.Run.Hidden, r.Run.Hidden) && o.Run.Name != r.Run.Name {
			return o, true
		}
	}
	return Result{}, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
