// Package plantest checks a plan backend against a reference on every kind of program
// aelab builds: the CPU plan against gorgonia's TapeMachine in CI, the CUDA backend against
// the CPU plan on a GPU machine.
package plantest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// Case builds one of the programs aelab trains or runs, from fresh parameters drawn
// from a generator, and the inputs of its runs.
type Case struct {
	Name  string
	Build func(rng *rand.Rand) (*graph.Program, error)
	Feed  func(rng *rand.Rand, p *graph.Program) [][]float32
}

func stack(rng *rand.Rand, sizes []int, hidden, last graph.Activation, prefix string) []*graph.Dense {
	var ls []*graph.Dense
	for i := 0; i+1 < len(sizes); i++ {
		act := hidden
		if i+2 == len(sizes) {
			act = last
		}
		ls = append(ls, graph.NewDense(fmt.Sprintf("%s.%d", prefix, 2*i), sizes[i], sizes[i+1], act, rng))
	}
	return ls
}

func autoencoder(rng *rand.Rand, sizes []int, hidden, code, out graph.Activation) graph.Autoencoder {
	enc := stack(rng, sizes, hidden, code, "encoder")
	rev := make([]int, len(sizes))
	for i, s := range sizes {
		rev[len(sizes)-1-i] = s
	}
	return graph.Autoencoder{Encoder: enc, Decoder: stack(rng, rev, hidden, out, "decoder")}
}

// uniform feeds every input with values in [0,1).
func uniform(rng *rand.Rand, p *graph.Program) [][]float32 {
	var in [][]float32
	for _, n := range p.Inputs {
		v := make([]float32, n.Shape().TotalSize())
		for i := range v {
			v[i] = rng.Float32()
		}
		in = append(in, v)
	}
	return in
}

// labelled feeds a batch, one-hot labels and, to a program with dropout, masks that drop
// half the units and double the rest.
func labelled(rng *rand.Rand, p *graph.Program) [][]float32 {
	in := uniform(rng, p)
	y := in[1]
	clear(y)
	classes := p.Inputs[1].Shape()[1]
	for r := range len(y) / classes {
		y[r*classes+rng.IntN(classes)] = 1
	}
	for _, mask := range in[2:] {
		for i := range mask {
			mask[i] = float32(2 * rng.IntN(2))
		}
	}
	return in
}

func trainingCase(name string, sizes []int, hidden, code, out graph.Activation, obj graph.Cost) Case {
	return batchCase(name, sizes, hidden, code, out, obj, 8)
}

func batchCase(name string, sizes []int, hidden, code, out graph.Activation, obj graph.Cost, batch int) Case {
	return Case{Name: name, Feed: uniform, Build: func(rng *rand.Rand) (*graph.Program, error) {
		return graph.NewTrainingProgram(autoencoder(rng, sizes, hidden, code, out), obj, batch)
	}}
}

// MNISTSized lists the training programs of the seed preset at their own sizes (784 pixels,
// batch 32, λ 1e-5): a backend whose kernels split work by size (grids, partial sums) meets
// there the shapes that the small programs never reach.
func MNISTSized() []Case {
	mse, cae := graph.Cost{Loss: graph.MSE}, graph.Cost{Loss: graph.MSE, Contractive: 1e-5}
	r, s := graph.ReLU, graph.Sigmoid
	return []Case{
		batchCase("ae 784-128", []int{784, 128}, r, r, s, mse, 32),
		batchCase("cae 784-128", []int{784, 128}, r, r, s, cae, 32),
		batchCase("cae 784-512", []int{784, 512}, r, r, s, cae, 32),
		batchCase("cae 512-128, relu output (a second level)", []int{512, 128}, r, r, r, cae, 32),
		// Logistic units: a deep ReLU stack trained by Adam amplifies rounding (a unit that
		// switches on one side only), and its loss leaves float32 agreement within 20 steps on
		// the CPU itself, plan against TapeMachine; logistic units stay within the tolerance.
		batchCase("deep cae 784-512-128, logistic", []int{784, 512, 128}, s, s, s, cae, 32),
	}
}

// Programs lists every kind of program aelab builds, small.
func Programs() []Case {
	mse, bce := graph.Cost{Loss: graph.MSE}, graph.Cost{Loss: graph.BCE}
	cae := graph.Cost{Loss: graph.MSE, Contractive: 0.05}
	r, s, t, l := graph.ReLU, graph.Sigmoid, graph.Tanh, graph.Linear
	return []Case{
		trainingCase("ae relu", []int{12, 6}, r, r, s, mse),
		trainingCase("ae sigmoid bce", []int{12, 6}, s, s, s, bce),
		trainingCase("ae tanh linear", []int{12, 6}, t, t, l, mse),
		trainingCase("cae relu", []int{12, 6}, r, r, s, cae),
		trainingCase("cae sigmoid", []int{12, 6}, s, s, s, cae),
		trainingCase("cae tanh", []int{12, 6}, t, t, s, cae),
		trainingCase("deep relu", []int{12, 9, 5}, r, r, s, mse),
		trainingCase("deep cae", []int{12, 9, 5}, r, r, s, cae),
		trainingCase("hinton-like", []int{12, 10, 8, 6, 3}, s, l, s, mse),
		{Name: "forward stack", Feed: uniform, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewStackProgram(autoencoder(rng, []int{12, 9, 5}, r, r, s).Layers(), 7)
		}},
		{Name: "energy gradient", Feed: uniform, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewEnergyProgram(autoencoder(rng, []int{12, 9, 5}, r, r, s), 4)
		}},
		{Name: "energy gradient sigmoid", Feed: uniform, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewEnergyProgram(autoencoder(rng, []int{12, 6}, s, s, s), 4)
		}},
		{Name: "classifier", Feed: labelled, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewClassifierTrainingProgram(stack(rng, []int{12, 8, 4}, s, l, "encoder"), 6, false)
		}},
		{Name: "classifier dropout", Feed: labelled, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewClassifierTrainingProgram(stack(rng, []int{12, 8, 6, 4}, r, l, "encoder"), 6, true)
		}},
		{Name: "probe", Feed: labelled, Build: func(rng *rand.Rand) (*graph.Program, error) {
			return graph.NewClassifierTrainingProgram(stack(rng, []int{5, 10}, l, l, "probe"), 6, false)
		}},
	}
}

func close32(a, b float32, tol float64) bool {
	return math.Abs(float64(a)-float64(b)) <= tol*(1+math.Abs(float64(b)))
}

// Compare runs every program on two backends from the same parameters and inputs: 20 Adam
// steps (losses, first gradients, updated weights) for programs that train, one run
// (outputs) for the others; tol is the relative tolerance of losses and outputs (gradients
// get 10×, weights after 20 steps 100×).
func Compare(t *testing.T, reference, backend graph.Backend, tol float64) {
	CompareCases(t, Programs(), reference, backend, graph.Adam{LR: 0.01}, tol)
}

// CompareCases is Compare over cases, training with adam.
func CompareCases(t *testing.T, cases []Case, reference, backend graph.Backend, adam graph.Adam, tol float64) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ref, got := twins(t, tc)
			tape, ex := compileBoth(t, reference, backend, ref, got, adam)
			rng := rand.New(rand.NewPCG(2, 2))
			if !ref.Trains() {
				in := tc.Feed(rng, ref)
				if err := tape.Run(in...); err != nil {
					t.Fatal(err)
				}
				if err := ex.Run(in...); err != nil {
					t.Fatal(err)
				}
				for i := range ref.Outputs {
					for j, want := range tape.Output(i) {
						if g := ex.Output(i)[j]; !close32(g, want, tol) {
							t.Fatalf("output %d[%d] = %g, reference %g", i, j, g, want)
						}
					}
				}
				return
			}
			for step := range 20 {
				in := tc.Feed(rng, ref)
				lw, err := tape.Step(in...)
				if err != nil {
					t.Fatal(err)
				}
				lg, err := ex.Step(in...)
				if err != nil {
					t.Fatal(err)
				}
				if !close32(lg, lw, tol) {
					t.Fatalf("step %d: loss %g, reference %g", step, lg, lw)
				}
				if step == 0 {
					for i, p := range ref.Params {
						for j, want := range tape.Gradient(i) {
							if g := ex.Gradient(i)[j]; !close32(g, want, 10*tol) {
								t.Fatalf("gradient of %s[%d] = %g, reference %g", p.Name, j, g, want)
							}
						}
					}
				}
			}
			sameWeights(t, tape, ex, ref, got, 100*tol, "after 20 steps")
		})
	}
	for _, tc := range cases {
		t.Run(tc.Name+" device data", func(t *testing.T) {
			compareDeviceData(t, tc, reference, backend, adam, tol)
		})
	}
}

// twins builds tc's program twice from the same parameters.
func twins(t *testing.T, tc Case) (ref, got *graph.Program) {
	t.Helper()
	var err error
	if ref, err = tc.Build(rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	if got, err = tc.Build(rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	return ref, got
}

// compileBoth compiles ref on reference and got on backend, closing both when t ends.
func compileBoth(t *testing.T, reference, backend graph.Backend, ref, got *graph.Program, adam graph.Adam) (refEx, ex graph.Executor) {
	t.Helper()
	var err error
	if refEx, err = reference.Compile(ref, adam); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { refEx.Close() })
	if ex, err = backend.Compile(got, adam); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return refEx, ex
}

// sameWeights syncs both executors' parameters to the host and compares them.
func sameWeights(t *testing.T, refEx, gotEx graph.Executor, ref, got *graph.Program, tol float64, when string) {
	t.Helper()
	if err := refEx.SyncParams(); err != nil {
		t.Fatal(err)
	}
	if err := gotEx.SyncParams(); err != nil {
		t.Fatal(err)
	}
	for i, p := range ref.Params {
		for j, want := range p.Data {
			if g := got.Params[i].Data[j]; !close32(g, want, tol) {
				t.Fatalf("%s %s[%d] = %g, reference %g", when, p.Name, j, g, want)
			}
		}
	}
}

// compareDeviceData trains an autoencoder program for two epochs through the backend's
// device-data path (graph.DeviceData: batches gathered and corrupted on the backend, losses
// kept there) and through Step on the reference with the same batches built on the host.
// Programs that are not autoencoder training programs are skipped.
func compareDeviceData(t *testing.T, tc Case, reference, backend graph.Backend, adam graph.Adam, tol float64) {
	ref, got := twins(t, tc)
	if !ref.Trains() || len(ref.Inputs) != 2 || ref.Inputs[0].Shape().TotalSize() != ref.Inputs[1].Shape().TotalSize() {
		t.Skip("not an autoencoder training program")
	}
	refEx, ex := compileBoth(t, reference, backend, ref, got, adam)
	dd, ok := ex.(graph.DeviceData)
	if !ok {
		t.Fatalf("%T does not keep training data", ex)
	}
	batchRows, d := ref.Inputs[0].Shape()[0], ref.Inputs[0].Shape()[1]
	rng := rand.New(rand.NewPCG(3, 3))
	// Batches per epoch: more than a replaying backend captures in one graph (CUDA's 16), so
	// that both its long and its single-step graphs run; images: a few more than they use.
	const batches = 20
	n := batches*batchRows + 5
	images := make([]float32, n*d) // pixels as MNIST's: bytes over 255
	for i := range images {
		images[i] = float32(rng.IntN(256)) / 255
	}
	noise := datasets.Noise{Kind: datasets.Gaussian, Level: 0.3}
	const seed = 11
	if err := dd.SetData(images, d, noise, seed); err != nil {
		t.Fatal(err)
	}
	clean, noisy := make([]float32, batchRows*d), make([]float32, batchRows*d)
	for epoch := range 2 {
		order := make([]int32, batches*batchRows)
		for i, j := range rng.Perm(n)[:len(order)] {
			order[i] = int32(j)
		}
		first := uint32(epoch * batches)
		if err := dd.StartEpoch(order, first); err != nil {
			t.Fatal(err)
		}
		// Queue the epoch in two parts, as a training loop that reports progress does.
		if err := dd.StepBatches(1); err != nil {
			t.Fatal(err)
		}
		if err := dd.StepBatches(batches - 1); err != nil {
			t.Fatal(err)
		}
		losses, err := dd.Losses()
		if err != nil {
			t.Fatal(err)
		}
		if len(losses) != batches {
			t.Fatalf("epoch %d: %d losses for %d steps", epoch+1, len(losses), batches)
		}
		for s := range batches {
			for k, i := range order[s*batchRows : (s+1)*batchRows] {
				copy(clean[k*d:(k+1)*d], images[int(i)*d:(int(i)+1)*d])
			}
			noise.ApplyImagesAt(noisy, clean, d, seed, first+uint32(s))
			want, err := refEx.Step(noisy, clean)
			if err != nil {
				t.Fatal(err)
			}
			if !close32(losses[s], want, tol) {
				t.Fatalf("epoch %d, step %d: loss %g, reference %g", epoch+1, s+1, losses[s], want)
			}
		}
	}
	sameWeights(t, refEx, ex, ref, got, 100*tol, "after two epochs")
}

// CompareScaleLR takes steps at the configured rate, then at a tenth of it
// (graph.Executor.ScaleLR), with AdamW's weight decay (which the factor scales too), on
// reference and on backend, with host batches and then device batches: the weights must
// agree within tol.
func CompareScaleLR(t *testing.T, reference, backend graph.Backend, tol float64) {
	build := func() *graph.Program {
		rng := rand.New(rand.NewPCG(4, 4))
		ae := graph.Autoencoder{Encoder: []*graph.Dense{graph.NewDense("e", 12, 5, graph.ReLU, rng)},
			Decoder: []*graph.Dense{graph.NewDense("d", 5, 12, graph.Sigmoid, rng)}}
		p, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE}, 4)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ref, got := build(), build()
	refEx, err := reference.Compile(ref, graph.Adam{LR: 0.01, WeightDecay: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer refEx.Close()
	ex, err := backend.Compile(got, graph.Adam{LR: 0.01, WeightDecay: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	images := make([]float32, 8*12)
	for i := range images {
		images[i] = rng.Float32()
	}
	for step := range 6 {
		if step == 3 {
			for _, e := range []graph.Executor{refEx, ex} {
				if err := e.ScaleLR(0.1); err != nil {
					t.Fatal(err)
				}
			}
		}
		x := images[(step%2)*48 : (step%2+1)*48]
		if _, err := refEx.Step(x, x); err != nil {
			t.Fatal(err)
		}
		if _, err := ex.Step(x, x); err != nil {
			t.Fatal(err)
		}
	}
	// Two more steps through the device-data path, at the scaled rate.
	dd, ok := ex.(graph.DeviceData)
	if !ok {
		t.Fatalf("%T does not keep training data", ex)
	}
	if err := dd.SetData(images, 12, datasets.Noise{}, 1); err != nil {
		t.Fatal(err)
	}
	if err := dd.StartEpoch([]int32{0, 1, 2, 3, 4, 5, 6, 7}, 0); err != nil {
		t.Fatal(err)
	}
	if err := dd.StepBatches(2); err != nil {
		t.Fatal(err)
	}
	for step := range 2 {
		x := images[step*48 : (step+1)*48]
		if _, err := refEx.Step(x, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.SyncParams(); err != nil {
		t.Fatal(err)
	}
	for i, p := range ref.Params {
		for j, w := range p.Data {
			if !close32(got.Params[i].Data[j], w, tol) {
				t.Fatalf("%s[%d] = %g, reference %g", p.Name, j, got.Params[i].Data[j], w)
			}
		}
	}
}
