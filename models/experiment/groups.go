package experiment

import (
	"fmt"
	"math"
	"strconv"

	"github.com/aelab/aelab/models/study"
)

// Group is one configuration's runs: one per seed.
type Group struct {
	Name    string
	Results []Result
}

// groups gathers results by configuration, in the order they first appear.
func groups(results []Result) []Group {
	var out []Group
	index := map[string]int{}
	for _, r := range results {
		name := r.Run.Config
		if name == "" {
			name = r.Run.Name
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, Group{Name: name})
		}
		out[i].Results = append(out[i].Results, r)
	}
	return out
}

// Spread is a figure's mean over a group's seeds, its sample standard deviation and n.
type Spread struct {
	Mean, SD float64
	N        int
}

func spreadOf(values []float64) Spread {
	s := Spread{N: len(values)}
	if s.N == 0 {
		return s
	}
	for _, v := range values {
		s.Mean += v / float64(s.N)
	}
	if s.N > 1 {
		var ss float64
		for _, v := range values {
			ss += (v - s.Mean) * (v - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(s.N-1))
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
