package plan

import (
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan/plantest"
	"github.com/aelab/aelab/graph/sgemm"
)

// sgemmKernels lists the SGEMM kernels this processor runs: the CPU plan is checked with each.
func sgemmKernels() []sgemm.Kernel {
	var ks []sgemm.Kernel
	for _, k := range []sgemm.Kernel{sgemm.AVX512, sgemm.AVX2, sgemm.NEON, sgemm.Gonum} {
		if k.Available() {
			ks = append(ks, k)
		}
	}
	return ks
}

// TestPlanMatchesTapeMachine runs every program on the CPU plan backend, with each SGEMM
// kernel, and on gorgonia's TapeMachine from the same parameters and inputs.
func TestPlanMatchesTapeMachine(t *testing.T) {
	for _, k := range sgemmKernels() {
		t.Run(k.String(), func(t *testing.T) {
			plantest.Compare(t, graph.Tape{}, New(NewCPUWithKernel(k)), 1e-5)
		})
	}
}

// TestPlanMatchesTapeMachineAtMNISTSizes checks the seed preset's programs at their own sizes,
// where the CPU's products are tiled and split across goroutines, with each SGEMM kernel
// (under -short with the default one only).
func TestPlanMatchesTapeMachineAtMNISTSizes(t *testing.T) {
	for _, k := range sgemmKernels() {
		if testing.Short() && k != sgemm.Best() {
			continue
		}
		t.Run(k.String(), func(t *testing.T) {
			plantest.CompareCases(t, plantest.MNISTSized(), graph.Tape{}, New(NewCPUWithKernel(k)), graph.Adam{LR: 0.01}, 1e-4)
		})
	}
}

// TestPlanMatchesTapeMachineWithWeightDecay trains every program with AdamW's decoupled
// weight decay on both.
func TestPlanMatchesTapeMachineWithWeightDecay(t *testing.T) {
	plantest.CompareCases(t, plantest.Programs(), graph.Tape{}, New(NewCPU()), graph.Adam{LR: 0.01, WeightDecay: 0.5}, 1e-5)
}

// deviceLikeCPU keeps its own copy of every parameter while a plan holds it, as a GPU
// backend does: the host's values change only through SyncParams.
type deviceLikeCPU struct {
	*CPU
	params map[*graph.Param][]float32
	holds  map[*graph.Param]int
}

func newDeviceLikeCPU() *deviceLikeCPU {
	return &deviceLikeCPU{CPU: NewCPU(), params: map[*graph.Param][]float32{}, holds: map[*graph.Param]int{}}
}

func (d *deviceLikeCPU) Param(p *graph.Param) (Memory, bool, error) {
	d.holds[p]++
	if m, ok := d.params[p]; ok {
		return m, false, nil
	}
	m := slices.Clone(p.Data)
	d.params[p] = m
	return m, true, nil
}

// Adopt copies, as a device with memory of its own must.
func (d *deviceLikeCPU) Adopt(values []float32) Memory { return slices.Clone(values) }

func (d *deviceLikeCPU) ReleaseParam(p *graph.Param) error {
	if d.holds[p]--; d.holds[p] == 0 {
		delete(d.params, p)
		delete(d.holds, p)
	}
	return nil
}

// TestDeviceLikeBackendMatchesTapeMachine runs the comparison on a backend that keeps its
// own parameters, as the CUDA backend does.
func TestDeviceLikeBackendMatchesTapeMachine(t *testing.T) {
	plantest.Compare(t, graph.Tape{}, New(newDeviceLikeCPU()), 1e-5)
}

// TestParamsReachTheHostOnlyBySync checks what the comparison relies on: on a backend with
// its own parameters, training leaves the host's values alone until SyncParams.
func TestParamsReachTheHostOnlyBySync(t *testing.T) {
	tc := plantest.Programs()[0]
	p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(p.Params[0].Data)
	ex, err := New(newDeviceLikeCPU()).Compile(p, graph.Adam{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	for range 3 {
		if _, err := ex.Step(tc.Feed(rng, p)...); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(p.Params[0].Data, before) {
		t.Fatal("the host's parameters changed without SyncParams")
	}
	if err := ex.SyncParams(); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(p.Params[0].Data, before) {
		t.Fatal("SyncParams left the host's parameters as they were before training")
	}
}

// TestParamsAreReleased checks that a backend with its own parameter buffers frees them when
// the last plan holding them closes, and that a later plan starts from the host's values.
func TestParamsAreReleased(t *testing.T) {
	be := newDeviceLikeCPU()
	tc := plantest.Programs()[0]
	p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b := New(be)
	first, err := b.Compile(p, graph.Adam{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Compile(p, graph.Adam{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Step(tc.Feed(rand.New(rand.NewPCG(2, 2)), p)...); err != nil {
		t.Fatal(err)
	}
	if err := first.SyncParams(); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if len(be.params) != len(p.Params) {
		t.Fatalf("%d parameter buffers held after one of two plans closed, want %d", len(be.params), len(p.Params))
	}
	second.Close()
	if len(be.params) != 0 {
		t.Fatalf("%d parameter buffers left after every plan closed", len(be.params))
	}
	third, err := b.Compile(p, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if !slices.Equal(be.params[p.Params[0]], p.Params[0].Data) {
		t.Fatal("a new plan does not start from the host's values")
	}
}

// TestExecutorClose checks that closing twice is harmless and that a closed executor
// refuses work with ErrClosed.
func TestExecutorClose(t *testing.T) {
	tc := plantest.Programs()[0]
	p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(NewCPU()).Compile(p, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := ex.Step(tc.Feed(rand.New(rand.NewPCG(2, 2)), p)...); err != ErrClosed {
		t.Fatalf("Step after Close: %v, want ErrClosed", err)
	}
}

// TestFusionKeepsEveryFloat runs every program fused and unfused on the CPU: the fused
// steps use the unfused kernels' loops and sums, so losses, gradients and weights must agree
// to the bit.
func TestFusionKeepsEveryFloat(t *testing.T) {
	plantest.Compare(t, NewWith(NewCPU(), Options{NoFusion: true}), New(NewCPU()), 0)
}

// TestFusionKeepsEveryFloatAtMNISTSizes does the same for the seed preset's programs at their
// own sizes, where fused sums run over blocks of whole rows and work splits across the cores.
func TestFusionKeepsEveryFloatAtMNISTSizes(t *testing.T) {
	plantest.CompareCases(t, plantest.MNISTSized(), NewWith(NewCPU(), Options{NoFusion: true}), New(NewCPU()), graph.Adam{LR: 0.01}, 0)
}

// TestFusionShrinksPlans checks that fusion takes effect: every training program runs in
// fewer steps fused, and the single-layer autoencoder's step is five GEMMs and at most five
// other steps.
func TestFusionShrinksPlans(t *testing.T) {
	for _, tc := range plantest.Programs() {
		p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		fused, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := CompileWith(p, Options{NoFusion: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Trains() && len(fused.Steps) >= len(plain.Steps) {
			t.Errorf("%s: %d steps fused, %d not", tc.Name, len(fused.Steps), len(plain.Steps))
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	p, err := oneLayer(rng, 784, 128, 32, graph.ReLU, graph.Cost{Loss: graph.MSE})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]int{}
	for _, s := range pl.Steps {
		kernels[s.Kernel]++
	}
	if kernels["gemm"] != 5 || len(pl.Steps) > 10 {
		t.Errorf("the 784-128 autoencoder's step: %v\n%s", kernels, pl)
	}
}

// TestTooManyOutputsStayUnfused builds a chain of eight elementwise steps whose every value
// is an output: more than a fused step stores, so they run as plain steps, and still match
// the TapeMachine.
func TestTooManyOutputsStayUnfused(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(make([]float32, 12)))))
	p := &graph.Program{Graph: g, Batch: 4, Inputs: []*G.Node{x}}
	y := x
	for range 8 {
		y = G.Must(G.Sigmoid(G.Must(G.Neg(y))))
		p.Outputs = append(p.Outputs, y)
	}
	pl, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pl.Steps {
		if len(s.Outs) > FusionMaxOutputs {
			t.Fatalf("a fused step stores %d values:\n%s", len(s.Outs), pl)
		}
	}
	in := make([]float32, 12)
	for i := range in {
		in[i] = float32(i)/6 - 1
	}
	results := func(b graph.Backend) [][]float32 {
		ex, err := b.Compile(p, graph.Adam{})
		if err != nil {
			t.Fatal(err)
		}
		defer ex.Close()
		if err := ex.Run(in); err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for i := range p.Outputs {
			out = append(out, slices.Clone(ex.Output(i)))
		}
		return out
	}
	want, got := results(graph.Tape{}), results(New(NewCPU()))
	for i := range want {
		for j := range want[i] {
			if d := got[i][j] - want[i][j]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("output %d[%d] = %g, TapeMachine %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// capturingCPU stands in for a backend that records a sequence on its first run and replays
// the recording afterwards, as the CUDA backend's graphs do: the recording is a copy of the
// operations as they were then, prepared afresh, so any per-step change that the executor
// made to an operation (instead of to the counters in the backend's memory) would be lost.
type capturingCPU struct{ *CPU }

type capturingSequence struct {
	cpu      *CPU
	ops      []Op
	live     Sequence
	captured Sequence
	runs     int
}

func (c capturingCPU) Prepare(ops []Op) (Sequence, error) {
	live, err := c.CPU.Prepare(ops)
	return &capturingSequence{cpu: c.CPU, ops: ops, live: live}, err
}

func (s *capturingSequence) Run(n int) error {
	if s.runs > 0 && s.captured == nil {
		var err error
		if s.captured, err = s.cpu.Prepare(slices.Clone(s.ops)); err != nil {
			return err
		}
	}
	s.runs += n
	if s.captured != nil {
		return s.captured.Run(n)
	}
	return s.live.Run(n)
}

func (s *capturingSequence) Close() error { return nil }

// TestReplayTrainsLikeStepByStep trains every program through a capturing backend and
// through the plain CPU backend: weights, losses and gradients must agree exactly.
func TestReplayTrainsLikeStepByStep(t *testing.T) {
	plantest.Compare(t, New(NewCPU()), New(capturingCPU{NewCPU()}), 0)
}

// TestPlansRunConcurrently trains three autoencoders at once on one CPU backend, as
// experiment --parallel does, and checks that each ends where it ends alone.
func TestPlansRunConcurrently(t *testing.T) {
	const d, hidden, batch = 300, 64, 48
	train := func(b graph.Backend, seed uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, 1))
		p, err := oneLayer(rng, d, hidden, batch, graph.ReLU, graph.Cost{Loss: graph.MSE})
		if err != nil {
			t.Error(err)
			return nil
		}
		ex, err := b.Compile(p, graph.Adam{LR: 0.01})
		if err != nil {
			t.Error(err)
			return nil
		}
		defer ex.Close()
		x := make([]float32, batch*d)
		for range 20 {
			for i := range x {
				x[i] = rng.Float32()
			}
			if _, err := ex.Step(x, x); err != nil {
				t.Error(err)
				return nil
			}
		}
		return slices.Clone(p.Params[0].Data)
	}
	b := New(NewCPU())
	seeds := []uint64{1, 2, 3}
	alone := make([][]float32, len(seeds))
	for i, seed := range seeds {
		alone[i] = train(b, seed)
	}
	together := make([][]float32, len(seeds))
	done := make(chan struct{})
	for i, seed := range seeds {
		go func() {
			together[i] = train(b, seed)
			done <- struct{}{}
		}()
	}
	for range seeds {
		<-done
	}
	for i, seed := range seeds {
		if !slices.Equal(alone[i], together[i]) {
			t.Errorf("the autoencoder of seed %d trained alongside others ends elsewhere", seed)
		}
	}
}

// TestPlanMatchesTapeMachineWithSGD trains every program by SGD with momentum and an L2
// penalty on both.
func TestPlanMatchesTapeMachineWithSGD(t *testing.T) {
	plantest.CompareCases(t, plantest.Programs(), graph.Tape{}, New(NewCPU()), graph.Adam{LR: 0.05, SGD: true, Momentum: 0.9, WeightDecay: 0.01}, 1e-5)
}

// TestScaleLRMatchesTapeMachine checks a learning rate scaled between steps on both.
func TestScaleLRMatchesTapeMachine(t *testing.T) {
	plantest.CompareScaleLR(t, graph.Tape{}, New(NewCPU()), 1e-6)
}

// oneLayer is the training program, for cost at batch, of a d-hidden-d autoencoder: layers
// "e" (hidden units act) and "d" (a sigmoid output), their weights drawn from rng in that
// order.
func oneLayer(rng *rand.Rand, d, hidden, batch int, act graph.Activation, cost graph.Cost) (*graph.Program, error) {
	ae := graph.Autoencoder{Encoder: []*graph.Dense{graph.NewDense("e", d, hidden, act, rng)},
		Decoder: []*graph.Dense{graph.NewDense("d", hidden, d, graph.Sigmoid, rng)}}
	return graph.NewTrainingProgram(ae, cost, batch)
}
