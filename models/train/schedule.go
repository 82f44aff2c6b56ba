package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aelab/aelab/models"
)

// Schedule is a learning-rate schedule over epochs, as Keras' and PyTorch's epoch schedulers
// give it: the factor on the configured learning rate in each epoch. The zero value keeps
// the rate constant.
type Schedule struct {
	Kind   string  // ScheduleConstant (""), ScheduleCosine, ScheduleStep or SchedulePlateau
	Every  int     // step: epochs between cuts; plateau: epochs without a better validation loss before a cut
	Gamma  float64 // step, plateau: the factor of each cut
	Warmup int     // epochs 1…Warmup rise linearly to the full rate: epoch e takes e/(Warmup+1) of it
}

// The kinds of schedule.
const (
	ScheduleConstant = "constant"
	ScheduleCosine   = "cosine"  // half a cosine from the full rate towards 0 over the epochs after the warm-up
	ScheduleStep     = "step"    // cut by Gamma every Every epochs after the warm-up
	SchedulePlateau  = "plateau" // cut by Gamma when the validation loss has not improved for Every epochs
)

// defaultGamma is a cut's factor when the spec gives none (as PyTorch's StepLR).
const defaultGamma = 0.1

// ParseSchedule reads "constant", "cosine", "step:N[:γ]" or "plateau:N[:γ]".
func ParseSchedule(spec string) (Schedule, error) {
	bad := func(why string) (Schedule, error) {
		return Schedule{}, &models.SettingError{Setting: "lr_schedule", Problem: fmt.Sprintf("%q: %s (want constant, cosine, step:N[:γ] or plateau:N[:γ])", spec, why)}
	}
	parts := strings.Split(strings.TrimSpace(spec), ":")
	switch kind := parts[0]; kind {
	case "", ScheduleConstant, ScheduleCosine:
		if len(parts) > 1 {
			return bad(kind + " takes no settings")
		}
		if kind == ScheduleConstant {
			kind = ""
		}
		return Schedule{Kind: kind}, nil
	case ScheduleStep, SchedulePlateau:
		if len(parts) < 2 || len(parts) > 3 {
			return bad("give the epochs N, and the factor γ if not 0.1")
		}
		s := Schedule{Kind: kind, Gamma: defaultGamma}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n <= 0 {
			return bad(fmt.Sprintf("N %q is not a positive whole number", parts[1]))
		}
		s.Every = n
		if len(parts) == 3 {
			g, err := strconv.ParseFloat(parts[2], 64)
			if err != nil || !(g > 0 && g < 1) {
				return bad(fmt.Sprintf("γ %q is not in (0, 1)", parts[2]))
			}
			s.Gamma = g
		}
		return s, nil
	}
	return bad("unknown schedule")
}

// String returns the spec ParseSchedule reads back (the warm-up is apart).
func (s Schedule) String() string {
	switch s.Kind {
	case "":
		return ScheduleConstant
	case ScheduleCosine:
		return s.Kind
	}
	spec := fmt.Sprintf("%s:%d", s.Kind, s.Every)
	if s.Gamma != defaultGamma {
		spec += ":" + strconv.FormatFloat(s.Gamma, 'g', -1, 64)
	}
	return spec
}

// IsConstant reports whether every epoch takes the full rate.
func (s Schedule) IsConstant() bool { return s.Kind == "" && s.Warmup == 0 }

// Factor returns the factor on the learning rate in epoch (1-based) of a run of epochs,
// given the history of the epochs before it (the plateau schedule reads their validation
// losses; a resumed run's history gives the same factors as the uninterrupted run's).
func (s Schedule) Factor(epoch, epochs int, history []models.EpochStats) float64 {
	if epoch <= s.Warmup {
		return float64(epoch) / float64(s.Warmup+1)
	}
	after := epoch - s.Warmup - 1 // epochs since the warm-up
	switch s.Kind {
	case ScheduleCosine:
		return 0.5 * (1 + math.Cos(math.Pi*float64(after)/float64(max(1, epochs-s.Warmup))))
	case ScheduleStep:
		return math.Pow(s.Gamma, float64(after/s.Every))
	case SchedulePlateau:
		factor, best, since := 1.0, math.Inf(1), 0
		for _, h := range history {
			if h.Epoch <= s.Warmup {
				continue
			}
			if h.ValLoss < best {
				best, since = h.ValLoss, 0
				continue
			}
			if since++; since >= s.Every {
				factor, since = factor*s.Gamma, 0
			}
		}
		return factor
	}
	return 1
}

// spec is what a record keeps: "" for a constant rate, else String.
func (s Schedule) spec() string {
	if s.Kind == "" {
		return ""
	}
	return s.String()
}

// recordedSchedule reads a schedule back from a record.
func recordedSchedule(spec string, warmup int) (Schedule, error) {
	s, err := ParseSchedule(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("models: the checkpoint's learning-rate schedule: %w", err)
	}
	s.Warmup = warmup
	return s, nil
}
