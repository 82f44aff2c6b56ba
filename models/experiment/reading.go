package experiment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aelab/aelab/models"
)

// Reading returns short paragraphs that state what the results show, from their numbers:
// the best model, what denoising training does to the error on noisy inputs, what
// fine-tuning adds to pretraining, what the contractive penalty does to the Jacobian, and
// how linearly separable the codes are.
func Reading(results []Result) []string {
	if len(results) == 0 {
		return nil
	}
	var out []string
	byClean := slices.Clone(results)
	slices.SortFunc(byClean, func(a, b Result) int { return cmpFloat(a.Metrics.TestMSE, b.Metrics.TestMSE) })
	byNoisy := slices.Clone(results)
	slices.SortFunc(byNoisy, func(a, b Result) int { return cmpFloat(a.Metrics.TestMSENoisy, b.Metrics.TestMSENoisy) })
	best, worst := byClean[0], byClean[len(byClean)-1]
	out = append(out, fmt.Sprintf("On clean test images %s reconstructs best (test_mse %.5f, %.2f dB), %s worst (%.5f). On corrupted images %s is best (test_mse_noisy %.5f) and %s worst (%.5f).",
		best.Run.Name, best.Metrics.TestMSE, best.Metrics.PSNR, worst.Run.Name, worst.Metrics.TestMSE,
		byNoisy[0].Run.Name, byNoisy[0].Metrics.TestMSENoisy, byNoisy[len(byNoisy)-1].Run.Name, byNoisy[len(byNoisy)-1].Metrics.TestMSENoisy))

	var denoise, finetune, contract []string
	for _, r := range results {
		if r.Run.Kind == "dae" {
			if ae, ok := partner(results, r, "ae", r.Run.Procedure); ok {
				denoise = append(denoise, fmt.Sprintf("%s %.5f against %s %.5f (%.1f× lower; clean: %.5f against %.5f)",
					r.Run.Name, r.Metrics.TestMSENoisy, ae.Run.Name, ae.Metrics.TestMSENoisy,
					ae.Metrics.TestMSENoisy/r.Metrics.TestMSENoisy, r.Metrics.TestMSE, ae.Metrics.TestMSE))
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
		out = append(out, "Denoising training lowers the error on corrupted inputs (test_mse_noisy): "+strings.Join(denoise, "; ")+".")
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
		out = append(out, fmt.Sprintf("A linear classifier on the frozen top code (probe_accuracy) does best on %s's code (%.2f%%) and worst on %s's (%.2f%%).",
			probed[0].Run.Name, 100**probed[0].Metrics.ProbeAccuracy, probed[len(probed)-1].Run.Name, 100**probed[len(probed)-1].Metrics.ProbeAccuracy))
	}
	return out
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
