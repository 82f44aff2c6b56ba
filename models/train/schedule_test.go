package train

import (
	"math"
	"testing"

	"github.com/aelab/aelab/models"
)

func TestScheduleFactors(t *testing.T) {
	history := func(losses ...float64) []models.EpochStats {
		var h []models.EpochStats
		for i, l := range losses {
			h = append(h, models.EpochStats{Epoch: i + 1, ValLoss: l})
		}
		return h
	}
	cases := []struct {
		name    string
		s       Schedule
		epoch   int
		history []models.EpochStats
		want    float64
	}{
		{"constant", Schedule{}, 7, nil, 1},
		{"warm-up, first epoch", Schedule{Warmup: 3}, 1, nil, 0.25},
		{"warm-up, last epoch", Schedule{Warmup: 3}, 3, nil, 0.75},
		{"warm-up over", Schedule{Warmup: 3}, 4, nil, 1},
		{"cosine starts at the full rate", Schedule{Kind: ScheduleCosine}, 1, nil, 1},
		{"cosine, epoch 6 of 11", Schedule{Kind: ScheduleCosine}, 6, nil, 0.5 * (1 + math.Cos(math.Pi*5/11))},
		{"cosine after a warm-up", Schedule{Kind: ScheduleCosine, Warmup: 2}, 3, nil, 1},
		{"step, before the first cut", Schedule{Kind: ScheduleStep, Every: 3, Gamma: 0.5}, 3, nil, 1},
		{"step, after two cuts", Schedule{Kind: ScheduleStep, Every: 3, Gamma: 0.5}, 7, nil, 0.25},
		{"plateau, improving", Schedule{Kind: SchedulePlateau, Every: 2, Gamma: 0.1}, 4, history(3, 2, 1), 1},
		{"plateau, two epochs without improving", Schedule{Kind: SchedulePlateau, Every: 2, Gamma: 0.1}, 5, history(3, 2, 2.5, 2.1), 0.1},
		{"plateau, cut twice", Schedule{Kind: SchedulePlateau, Every: 1, Gamma: 0.5}, 4, history(1, 2, 3), 0.25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Factor(tc.epoch, 11, tc.history); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("epoch %d of 11: factor %g, want %g", tc.epoch, got, tc.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Schedule
		err  bool
	}{
		{"constant", Schedule{}, false},
		{"cosine", Schedule{Kind: ScheduleCosine}, false},
		{"step:10", Schedule{Kind: ScheduleStep, Every: 10, Gamma: 0.1}, false},
		{"plateau:3:0.5", Schedule{Kind: SchedulePlateau, Every: 3, Gamma: 0.5}, false},
		{"step", Schedule{}, true},
		{"step:0", Schedule{}, true},
		{"step:2:1.5", Schedule{}, true},
		{"cosine:5", Schedule{}, true},
		{"exp", Schedule{}, true},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseSchedule(tc.spec)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("ParseSchedule(%q) = %+v, %v", tc.spec, got, err)
			}
			if !tc.err {
				if back, _ := ParseSchedule(got.String()); back != got {
					t.Errorf("%q reads back as %+v", got.String(), back)
				}
			}
		})
	}
}
