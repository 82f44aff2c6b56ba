package study

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// Walk methods: how a point moves towards the data manifold.
const (
	// WalkScore steps along r(x) − x, which for a denoising autoencoder estimates the score
	// ∂ log p(x)/∂x (Alain & Bengio, 2014): x ← x + η (r(x) − x).
	WalkScore = "score"
	// WalkEnergy ascends −‖r(x) − x‖² with its gradient from gorgonia's symbolic
	// differentiation of the model's graph: x ← x − η ∇ₓ‖r(x) − x‖².
	WalkEnergy = "energy"
	// WalkChain runs the generalised denoising-autoencoder Markov chain (Bengio et al., 2013):
	// corrupt, reconstruct, repeat.
	WalkChain = "chain"
	// WalkAnnealed is the chain with its corruption annealed: the level starts at Anneal
	// times the chain noise's and falls linearly to the chain noise's own by the last step,
	// so early steps jump between modes and late ones settle where the model was trained.
	WalkAnnealed = "annealed"
	// WalkLangevin takes annealed Langevin steps along the score a denoising autoencoder
	// estimates (Alain & Bengio 2014: r(x) − x ≈ σ²∇log p(x) for a DAE trained with Gaussian
	// noise σ): x += η(r(x) − x) + T·σ√(2η)·z with z standard normal, which at temperature
	// T = 1 is a Langevin step of size 2ησ². T falls linearly from Anneal at the first step
	// to 0 at the last, so the walk explores first and then settles on the manifold.
	WalkLangevin = "langevin"
	// WalkDiffusion samples as a diffusion model does, with the DAE as its blind denoiser
	// (one that is not told the noise level, as in Kadkhodaie & Simoncelli 2021): first
	// Langevin steps at the top of the chain noise's range of levels, x += η(r(x) − x) +
	// σ√(2η)·z, which forget the start and reach the data blurred by that noise; then
	// ancestral steps down a geometric ladder of levels σ → σ' to the range's bottom, x ←
	// r(x) + (σ'/σ)²(x − r(x)) + σ'√(1 − (σ'/σ)²)·z (DDPM's step, Ho et al. 2020, for noise
	// that adds to the image), which keep just the noise of the next level; the last step
	// is r(x). Uncorrupting a little at a time keeps detail a full reconstruction blurs.
	WalkDiffusion = "diffusion"
)

// The defaults and limits of a walk, for the command line and configs alike.
const (
	DefaultWalkMethod = WalkScore
	DefaultWalkStart  = "uniform"
	DefaultWalkSteps  = 100
	DefaultWalkEta    = 1.0
	DefaultChains     = 8
	DefaultAnneal     = 2.5
	MaxChains         = 100000 // many chains make many samples at once
	maxEta            = 1e6
)

// WalkConfig is a walk's settings.
type WalkConfig struct {
	Method     string         // score, energy, chain, annealed, langevin or diffusion
	Steps      int            // number of steps
	Eta        float64        // step size (score, energy); the share of r(x) − x a Langevin step takes (langevin, diffusion)
	ChainNoise datasets.Noise // corruption of the chain; none means the model's training noise
	Clip       bool           // keep pixels in [0,1] after every step
	Snapshots  []int          // steps to record, 0 the start; nil means DefaultSnapshots(Steps)
	Anneal     float64        // annealed: the corruption's level at the start, times ChainNoise's; langevin: the temperature at the start
	BurnIn     int            // diffusion: Langevin steps at the top level before the descent; 0 means a sixth of Steps
	Seed       uint64         // seeds the chain's corruption
}

// Validate reports, as a *models.SettingError, the first setting that cannot work.
func (c WalkConfig) Validate() error {
	bad := func(setting, format string, args ...any) error {
		return &models.SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case !slices.Contains([]string{WalkScore, WalkEnergy, WalkChain, WalkAnnealed, WalkLangevin, WalkDiffusion}, c.Method):
		return bad("method", "%q: want score, energy, chain, annealed, langevin or diffusion", c.Method)
	case c.Method == WalkAnnealed && !(c.Anneal >= 0.1 && c.Anneal <= 100):
		return bad("anneal", "must be between 0.1 and 100 (times the chain noise's level at the start), got %g", c.Anneal)
	case c.Method == WalkLangevin && !(c.Anneal >= 0 && c.Anneal <= 100):
		return bad("anneal", "must be between 0 and 100 (the temperature at the start), got %g", c.Anneal)
	case (c.Method == WalkLangevin || c.Method == WalkDiffusion) && !(c.Eta > 0 && c.Eta <= 1):
		return bad("eta", "must be in (0, 1] for a %s walk (the share of r(x) − x a Langevin step takes), got %g", c.Method, c.Eta)
	case c.BurnIn < 0 || c.Method == WalkDiffusion && c.Steps > 0 && c.BurnIn >= c.Steps:
		return bad("burn-in", "must be 0 or more and fewer than the %d steps, got %d", c.Steps, c.BurnIn)
	case c.Steps < 0:
		return bad("steps", "must be 0 or more, got %d", c.Steps)
	case (c.Method == WalkScore || c.Method == WalkEnergy) && !(c.Eta > 0 && c.Eta <= maxEta):
		return bad("eta", "must be positive (it is the step size η), got %g", c.Eta)
	}
	for _, s := range c.Snapshots {
		if s < 0 || s > c.Steps {
			return bad("snapshots", "step %d is outside the walk's 0 to %d steps", s, c.Steps)
		}
	}
	return nil
}

// DefaultSnapshots returns the steps a walk of n steps records by default: 0, 1, 2, 5, 10,
// 20, 50, 100, 200, 500, … below n, and n.
func DefaultSnapshots(n int) []int {
	out := []int{0}
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*base >= n {
				if n > 0 {
					out = append(out, n)
				}
				return out
			}
			out = append(out, m*base)
		}
	}
}

// CheckWalkStart reports, as a *models.SettingError, a start that is none of noise,
// uniform and image:I, or a number of chains outside 1 to MaxChains.
func CheckWalkStart(start string, chains int) error {
	if start != "noise" && start != "uniform" && !strings.HasPrefix(start, "image:") {
		return &models.SettingError{Setting: "start", Problem: fmt.Sprintf("%q: want noise, uniform or image:I", start)}
	}
	if chains < 1 || chains > MaxChains {
		return &models.SettingError{Setting: "chains", Problem: fmt.Sprintf("must be between 1 and %d, got %d", MaxChains, chains)}
	}
	return nil
}

// ParseSnapshots reads a list of steps such as "0,1,2,5,10".
func ParseSnapshots(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("models: snapshot %q is not a step number", strings.TrimSpace(f))
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// WalkStart makes the starting points: "noise" (standard normal pixels), "uniform"
// (pixels uniform in [0,1]) or "image:I" (test image I, the same for every chain).
func WalkStart(spec string, chains int, test *datasets.Images, seed uint64) ([]float32, error) {
	if err := CheckWalkStart(spec, chains); err != nil {
		return nil, err
	}
	d := test.Dim()
	x := make([]float32, chains*d)
	rng := models.NewRand(seed, models.StreamWalk)
	switch {
	case spec == "noise":
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
	case spec == "uniform":
		for i := range x {
			x[i] = rng.Float32()
		}
	case strings.HasPrefix(spec, "image:"):
		i, err := strconv.Atoi(strings.TrimPrefix(spec, "image:"))
		if err != nil || i < 0 || i >= test.Len() {
			return nil, &models.SettingError{Setting: "start", Problem: fmt.Sprintf("%q: want image:I with I a test image from 0 to %d", spec, test.Len()-1)}
		}
		for c := range chains {
			copy(x[c*d:(c+1)*d], test.Image(i))
		}
	}
	return x, nil
}

// Snapshot is the state of every chain at one step of a walk.
type Snapshot struct {
	Step   int
	Images [][]float32 // per chain
	Energy []float64   // ‖r(x) − x‖² per chain
}

// Walk moves the points x (chains × D) towards the data manifold of ae and records them
// at the snapshot steps.
func Walk(ctx context.Context, backend graph.Backend, ae *models.Autoencoder, x []float32, cfg WalkConfig) ([]Snapshot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Snapshots == nil {
		cfg.Snapshots = DefaultSnapshots(cfg.Steps)
	}
	d := ae.Spec.Layers[0]
	if len(x) == 0 || len(x)%d != 0 {
		return nil, fmt.Errorf("models: %d values are not whole images of %d pixels", len(x), d)
	}
	w, err := newWalker(backend, ae, slices.Clone(x), cfg)
	if err != nil {
		return nil, err
	}
	defer w.close()
	var snaps []Snapshot
	for step := 0; step <= cfg.Steps; step++ {
		if slices.Contains(cfg.Snapshots, step) {
			s, err := w.snapshot(step)
			if err != nil {
				return nil, err
			}
			snaps = append(snaps, s)
		}
		if step == cfg.Steps {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("models: %w", models.ErrInterrupted)
		}
		if err := w.step(); err != nil {
			return nil, err
		}
		if !finite(w.x) {
			return nil, fmt.Errorf("models: the walk diverged at step %d (try a smaller --eta or --clip)", step+1)
		}
	}
	return snaps, nil
}

// walker holds a walk's points (chains × D) and the compiled programs that move them.
type walker struct {
	cfg       WalkConfig
	x         []float32      // the points, chains × D
	d, chains int            // values an image, chains walked
	fwd       graph.Executor // r(x)
	out       int            // fwd's output of the reconstruction
	grad      graph.Executor // ∂‖r(x) − x‖²/∂x, for the energy walk
	noise     datasets.Noise // the chain's corruption
	rng       *rand.Rand
	corrupted []float32
	steps     int // taken so far
}

func newWalker(backend graph.Backend, ae *models.Autoencoder, x []float32, cfg WalkConfig) (*walker, error) {
	d := ae.Spec.Layers[0]
	w := &walker{cfg: cfg, x: x, d: d, chains: len(x) / d, rng: models.NewRand(cfg.Seed, models.StreamChain),
		corrupted: make([]float32, len(x)), noise: cfg.ChainNoise}
	if w.noise.IsNone() {
		w.noise = EvalNoise(datasets.Noise{}, ae.Spec)
	}
	if cfg.Method == WalkDiffusion && w.noise.Kind != datasets.Gaussian {
		return nil, &models.SettingError{Setting: "chain-noise", Problem: fmt.Sprintf("a diffusion walk needs Gaussian levels (gaussian:σ or a range such as gaussian:0.02..1), got %s", w.noise)}
	}
	layers := ae.Graph().Layers()
	w.out = len(layers) - 1
	prog, err := graph.NewStackProgram(layers, w.chains)
	if err != nil {
		return nil, err
	}
	if w.fwd, err = backend.Compile(prog, graph.Adam{}); err != nil {
		return nil, err
	}
	if cfg.Method == WalkEnergy {
		prog, err := graph.NewEnergyProgram(ae.Graph(), w.chains)
		if err == nil {
			w.grad, err = backend.Compile(prog, graph.Adam{})
		}
		if err != nil {
			w.fwd.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *walker) close() {
	w.fwd.Close()
	if w.grad != nil {
		w.grad.Close()
	}
}

// reconstruct returns r(in), valid until the next call.
func (w *walker) reconstruct(in []float32) ([]float32, error) {
	if err := w.fwd.Run(in); err != nil {
		return nil, err
	}
	return w.fwd.Output(w.out), nil
}

// snapshot records every chain's image and its energy ‖r(x) − x‖².
func (w *walker) snapshot(step int) (Snapshot, error) {
	r, err := w.reconstruct(w.x)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Step: step}
	for c := range w.chains {
		img := slices.Clone(w.x[c*w.d : (c+1)*w.d])
		var e float64
		for j, v := range img {
			diff := float64(r[c*w.d+j] - v)
			e += diff * diff
		}
		s.Images, s.Energy = append(s.Images, img), append(s.Energy, e)
	}
	return s, nil
}

// step moves every point once, by the walk's method.
func (w *walker) step() error {
	x, eta := w.x, float32(w.cfg.Eta)
	switch w.cfg.Method {
	case WalkScore:
		r, err := w.reconstruct(x)
		if err != nil {
			return err
		}
		for i := range x {
			x[i] += eta * (r[i] - x[i])
		}
	case WalkEnergy:
		if err := w.grad.Run(x); err != nil {
			return err
		}
		for i, g := range w.grad.Output(1) {
			x[i] -= eta * g
		}
	case WalkLangevin:
		r, err := w.reconstruct(x)
		if err != nil {
			return err
		}
		// σ is the chain noise's level: the Gaussian σ the DAE was trained with, by default
		// (the middle of a range of them).
		sigma := w.noise.Level
		if w.noise.IsRange() {
			sigma = (w.noise.Level + w.noise.Max) / 2
		}
		f := float64(w.steps) / float64(max(1, w.cfg.Steps-1))
		w.langevinMove(x, r, float32(w.cfg.Anneal*(1-f)*sigma*math.Sqrt(2*w.cfg.Eta)))
	case WalkDiffusion:
		r, err := w.reconstruct(x)
		if err != nil {
			return err
		}
		w.diffusionStep(x, r)
	case WalkChain, WalkAnnealed:
		noise := w.noise
		if w.cfg.Method == WalkAnnealed { // from Anneal× the level down to the level itself, linearly
			f := float64(w.steps) / float64(max(1, w.cfg.Steps-1))
			k := w.cfg.Anneal*(1-f) + f
			noise.Level, noise.Max = noise.Level*k, noise.Max*k
		}
		noise.ApplyImages(w.corrupted, x, w.d, w.rng)
		r, err := w.reconstruct(w.corrupted)
		if err != nil {
			return err
		}
		copy(x, r)
	}
	w.steps++
	if w.cfg.Clip {
		for i, v := range x {
			x[i] = min(max(v, 0), 1)
		}
	}
	return nil
}

// langevinMove takes x the share η of the way to its reconstruction r and adds Gaussian
// noise of standard deviation spread: the Langevin and diffusion walks' step.
func (w *walker) langevinMove(x, r []float32, spread float32) {
	eta := float32(w.cfg.Eta)
	for i := range x {
		x[i] += eta*(r[i]-x[i]) + spread*float32(w.rng.NormFloat64())
	}
}

// diffusionStep moves x, whose reconstruction is r, by the diffusion walk's step number
// w.steps: a Langevin step at the top level during the burn-in, then an ancestral step
// from the ladder's level to the next.
func (w *walker) diffusionStep(x, r []float32) {
	top, bottom := w.noise.Level, w.noise.Level/10 // one level: the ladder falls tenfold
	if w.noise.IsRange() {
		top, bottom = w.noise.Max, w.noise.Level
	}
	burnIn := w.cfg.BurnIn
	if burnIn == 0 {
		burnIn = w.cfg.Steps / 6
	}
	if w.steps < burnIn {
		w.langevinMove(x, r, float32(top*math.Sqrt(2*w.cfg.Eta)))
		return
	}
	rungs := w.cfg.Steps - burnIn
	level := func(k int) float64 { // the ladder's kth level; 0 past its end
		if k >= rungs {
			return 0
		}
		return top * math.Pow(bottom/top, float64(k)/float64(max(1, rungs-1)))
	}
	from, to := level(w.steps-burnIn), level(w.steps-burnIn+1)
	if to == 0 {
		copy(x, r)
		return
	}
	keep := (to / from) * (to / from)
	keep32, spread := float32(keep), float32(to*math.Sqrt(1-keep))
	for i := range x {
		x[i] = r[i] + keep32*(x[i]-r[i]) + spread*float32(w.rng.NormFloat64())
	}
}

// finite reports whether every value of x is a number.
func finite(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// NearestDistances returns, for each image (N×D), the Euclidean distance to the nearest of
// the reference images, their dot products multiplied by mul.
func NearestDistances(mul graph.MatMul, images []float32, ref *datasets.Images) []float64 {
	d := ref.Dim()
	n, m := len(images)/d, ref.Len()
	refNorms, norms := rowNorms(ref.Pixels, d), rowNorms(images, d)
	const chunk = 256 // images at a time: chunk × m dot products in memory, not n × m
	dots := make([]float32, min(chunk, n)*m)
	out := make([]float64, n)
	for lo := 0; lo < n; lo += chunk {
		c := min(chunk, n-lo)
		mul.Gemm(false, true, c, m, d, images[lo*d:(lo+c)*d], d, ref.Pixels, d, dots[:c*m], m)
		for i := range c {
			best := math.Inf(1)
			for j := range m {
				best = min(best, norms[lo+i]+refNorms[j]-2*float64(dots[i*m+j]))
			}
			out[lo+i] = math.Sqrt(max(best, 0))
		}
	}
	return out
}

// Reference is what walked images are measured against: the training images, and the
// distance within which an image counts as near them — as near as most real test digits are
// to their nearest training image, so a blob far from every digit is not called one.
type Reference struct {
	Train        *datasets.Images
	NearDistance float64 // the nearQuantile of test digits' distances to their nearest training image
	CopyDistance float64 // the copyQuantile of them: closer than this is a near-copy of a training image
}

// An image is near the data when it is as close to a training image as 99% of a sample of
// test digits are. Nearness alone does not tell a digit (a smooth blob is as near to some
// training "0" as most test digits are); it marks images far from everything.
const (
	nearQuantile = 0.99
	copyQuantile = 0.01 // closer to a training image than 99% of test digits are: a near-copy
	nearSample   = 1000
)

// NewReference measures the near distance on the first test images.
func NewReference(mul graph.MatMul, trainSet, test *datasets.Images) Reference {
	n := min(nearSample, test.Len())
	dists := NearestDistances(mul, test.Pixels[:n*test.Dim()], trainSet)
	slices.Sort(dists)
	return Reference{Train: trainSet, NearDistance: dists[int(nearQuantile*float64(n-1))], CopyDistance: dists[int(copyQuantile*float64(n-1))]}
}

// WalkPoint measures one chain at one snapshot.
type WalkPoint struct {
	Step            int     `json:"step"`
	Chain           int     `json:"chain"`
	Energy          float64 `json:"energy"`           // ‖r(x) − x‖²
	NearestDistance float64 `json:"nearest_distance"` // Euclidean distance to the closest training image
	Near            bool    `json:"near"`             // NearestDistance within the reference's near distance
	// The digit classifier's verdict, when there is one.
	Class      *int     `json:"class,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
}

// Plausible reports whether the point is a digit by both measures: the classifier finds a
// digit and is sure of it (p ≥ 0.9), and the point is near the training images. Without a
// classifier it is nil.
func (p WalkPoint) Plausible() *bool {
	if p.Confidence == nil || p.Class == nil {
		return nil
	}
	ok := *p.Class != models.NotADigit && *p.Confidence >= confidentThreshold && p.Near
	return &ok
}

// MeasureWalk measures every chain at every snapshot: the energy, the distance to the
// nearest training image and, with a judge, the classifier's verdict.
func MeasureWalk(ctx context.Context, backend graph.Backend, judge *models.Classifier, ref Reference, snaps []Snapshot) ([]WalkPoint, error) {
	var all []float32
	for _, s := range snaps {
		for _, im := range s.Images {
			all = append(all, im...)
		}
	}
	var judged []models.Judgement
	if judge != nil {
		var err error
		if judged, err = judge.Judge(ctx, backend, all); err != nil {
			return nil, err
		}
	}
	dists := NearestDistances(backend.MatMul(), all, ref.Train)
	var points []WalkPoint
	k := 0
	for _, s := range snaps {
		for c := range s.Images {
			p := WalkPoint{Step: s.Step, Chain: c + 1, Energy: s.Energy[c], NearestDistance: dists[k], Near: dists[k] <= ref.NearDistance}
			if judged != nil {
				p.Class, p.Confidence = &judged[k].Class, &judged[k].Confidence
			}
			points = append(points, p)
			k++
		}
	}
	return points, nil
}

// WalkSummary averages a snapshot's points over the chains.
type WalkSummary struct {
	Step                int     `json:"step"`
	MeanEnergy          float64 `json:"mean_energy"`
	MeanNearestDistance float64 `json:"mean_nearest_distance"`
	NearFraction        float64 `json:"near_fraction"` // share of chains near the training images
	// With a classifier: its mean confidence, and the share of chains that are plausible
	// digits (sure and near).
	MeanConfidence    *float64 `json:"mean_confidence,omitempty"`
	PlausibleFraction *float64 `json:"plausible_fraction,omitempty"`
}

// SummarizeWalk averages points per step, in step order.
func SummarizeWalk(points []WalkPoint) []WalkSummary {
	var out []WalkSummary
	index := map[int]int{}
	counts := map[int]int{}
	for _, p := range points {
		i, ok := index[p.Step]
		if !ok {
			i = len(out)
			index[p.Step] = i
			out = append(out, WalkSummary{Step: p.Step})
			if p.Confidence != nil {
				out[i].MeanConfidence, out[i].PlausibleFraction = new(float64), new(float64)
			}
		}
		w := &out[i]
		w.MeanEnergy += p.Energy
		w.MeanNearestDistance += p.NearestDistance
		if p.Near {
			w.NearFraction++
		}
		if p.Confidence != nil && w.MeanConfidence != nil {
			*w.MeanConfidence += *p.Confidence
			if *p.Plausible() {
				*w.PlausibleFraction++
			}
		}
		counts[p.Step]++
	}
	for i := range out {
		n := float64(counts[out[i].Step])
		w := &out[i]
		w.MeanEnergy /= n
		w.MeanNearestDistance /= n
		w.NearFraction /= n
		if w.MeanConfidence != nil {
			*w.MeanConfidence /= n
			*w.PlausibleFraction /= n
		}
	}
	return out
}

// ReferenceCost estimates the multiply-adds of NewReference, for a progress line.
func ReferenceCost(trainSet, test *datasets.Images) float64 {
	return float64(min(nearSample, test.Len())) * float64(trainSet.Len()*trainSet.Dim())
}

// WalkCost estimates the multiply-adds of a walk of chains by a model of spec and of its
// measurement against trainSet (classified when judged), for a progress line.
func WalkCost(spec models.Spec, cfg WalkConfig, chains int, trainSet *datasets.Images, judged bool) float64 {
	step := spec.ForwardMACs()
	if cfg.Method == WalkEnergy {
		step *= 3 // the gradient's backward pass
	}
	snapshots := len(cfg.Snapshots)
	if cfg.Snapshots == nil {
		snapshots = len(DefaultSnapshots(cfg.Steps))
	}
	measure := spec.ForwardMACs() + float64(trainSet.Len()*trainSet.Dim())
	if judged {
		measure += DigitClassifierMACs(trainSet.Dim())
	}
	return float64(chains) * (float64(cfg.Steps)*step + float64(snapshots)*measure)
}
