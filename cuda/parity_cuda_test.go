//go:build aelabcuda

package cuda

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
	"github.com/aelab/aelab/graph/plan/plantest"
)

// openDevice opens device 0, or skips the test where none answers (scripts/gpu-check.sh sets
// AELAB_REQUIRE_GPU, so that there a missing device fails instead).
func openDevice(t *testing.T, opt Options) *backend {
	t.Helper()
	b, err := OpenWith(0, opt)
	if err != nil {
		if os.Getenv("AELAB_REQUIRE_GPU") != "" {
			t.Fatalf("open device 0: %v", err)
		}
		t.Skipf("no CUDA device: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	cb, ok := plan.Unwrap(b).(*backend)
	if !ok {
		t.Fatalf("%T is not the CUDA backend", b)
	}
	return cb
}

// gemmPaths are the ways the backend computes matrix products, each a dimension of the
// parity tests.
func gemmPaths() []GEMM { return []GEMM{GEMMCublas, GEMMLt, GEMMTuned} }

// TestCUDAMatchesCPU runs every program aelab builds on the GPU and on the CPU plan: losses
// over 20 steps, gradients and updated weights, and two epochs through the device-data path
// (batches gathered and corrupted on the GPU); with steps replayed as CUDA graphs or queued
// one by one, with elementwise chains fused or not; and with TF32 products, whose inputs keep
// 10 of float32's 23 mantissa bits, to a tolerance TF32 training meets: on an H200 the deep
// CAE's loss drifted 2% from float32's within 18 steps. Each with the products computed by
// cublasSgemm, by cublasLtMatmul, and by whichever of them was timed fastest, to the same
// tolerances.
func TestCUDAMatchesCPU(t *testing.T) {
	for _, gemm := range gemmPaths() {
		t.Run(gemm.String(), func(t *testing.T) {
			for _, tc := range []struct {
				name string
				opt  Options
				tol  float64
			}{
				{"replay", Options{}, 1e-4},
				{"queued", Options{NoReplay: true}, 1e-4},
				{"replay unfused", Options{Plan: plan.Options{NoFusion: true}}, 1e-4},
				{"replay tf32", Options{TF32: true}, 3e-2},
			} {
				t.Run(tc.name, func(t *testing.T) {
					opt := tc.opt
					opt.GEMM = gemm
					plantest.Compare(t, plan.NewWith(plan.NewCPU(), opt.Plan), plan.NewWith(openDevice(t, opt), opt.Plan), tc.tol)
				})
			}
		})
	}
}

// TestCUDAMatchesCPUAtMNISTSizes runs the seed preset's programs at their own sizes on the GPU
// and on the CPU plan, where grids and partial sums are as training makes them, with each
// GEMM path (products of 784 by 128 by the batch, as the GPU check times them).
func TestCUDAMatchesCPUAtMNISTSizes(t *testing.T) {
	for _, gemm := range gemmPaths() {
		t.Run(gemm.String(), func(t *testing.T) {
			plantest.CompareCases(t, plantest.MNISTSized(), plan.New(plan.NewCPU()), plan.New(openDevice(t, Options{GEMM: gemm})), graph.Adam{LR: 0.01}, 1e-4)
		})
	}
}

// TestReplayMatchesQueued checks that steps replayed as CUDA graphs give exactly the losses
// and weights of the same steps queued one by one: 20 steps fed from the host (each replayed
// alone) for every training program, then, for the autoencoders, an epoch of 20 batches
// gathered and corrupted on the device (replayed 16 steps a graph, then one by one). With
// the GEMM paths that choose the same way every time (two backends tuned apart may each
// time another product fastest).
func TestReplayMatchesQueued(t *testing.T) {
	for _, gemm := range []GEMM{GEMMCublas, GEMMLt} {
		t.Run(gemm.String(), func(t *testing.T) {
			queued := plan.New(openDevice(t, Options{NoReplay: true, GEMM: gemm}))
			replayed := plan.New(openDevice(t, Options{GEMM: gemm}))
			for _, tc := range plantest.Programs() {
				t.Run(tc.Name, func(t *testing.T) { replayMatchesQueued(t, tc, queued, replayed) })
			}
		})
	}
}

func replayMatchesQueued(t *testing.T, tc plantest.Case, queued, replayed graph.Backend) {
	var progs [2]*graph.Program
	var exs [2]graph.Executor
	for i, b := range []graph.Backend{queued, replayed} {
		p, err := tc.Build(rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if !p.Trains() {
			t.Skip("does not train")
		}
		ex, err := b.Compile(p, graph.Adam{LR: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ex.Close() })
		progs[i], exs[i] = p, ex
	}
	sameWeights := func(when string) {
		t.Helper()
		for _, ex := range exs {
			if err := ex.SyncParams(); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range progs[0].Params {
			for j, want := range p.Data {
				if got := progs[1].Params[i].Data[j]; got != want {
					t.Fatalf("%s: %s[%d] replayed %g, queued %g", when, p.Name, j, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for step := range 20 {
		in := tc.Feed(rng, progs[0])
		want, err := exs[0].Step(in...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := exs[1].Step(in...)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("step %d: loss replayed %g, queued %g", step, got, want)
		}
	}
	sameWeights("after 20 steps")
	ins := progs[0].Inputs
	if len(ins) != 2 || ins[0].Shape().TotalSize() != ins[1].Shape().TotalSize() {
		return // not an autoencoder: no device data
	}
	batchRows, d := ins[0].Shape()[0], ins[0].Shape()[1]
	const batches = 20
	n := batches*batchRows + 5
	images := make([]float32, n*d)
	for i := range images {
		images[i] = rng.Float32()
	}
	order := make([]int32, batches*batchRows)
	for i, j := range rng.Perm(n)[:len(order)] {
		order[i] = int32(j)
	}
	var losses [2][]float32
	for i, ex := range exs {
		dd, ok := ex.(graph.DeviceData)
		if !ok {
			t.Fatalf("%T does not keep training data", ex)
		}
		if err := dd.SetData(images, d, datasets.Noise{Kind: datasets.Gaussian, Level: 0.3}, 11); err != nil {
			t.Fatal(err)
		}
		if err := dd.StartEpoch(order, 20); err != nil {
			t.Fatal(err)
		}
		// One step first: a sequence's first run is queued, the ones after it replayed.
		if err := dd.StepBatches(1); err != nil {
			t.Fatal(err)
		}
		if err := dd.StepBatches(batches - 1); err != nil {
			t.Fatal(err)
		}
		l, err := dd.Losses()
		if err != nil {
			t.Fatal(err)
		}
		if len(l) != batches {
			t.Fatalf("%d losses for %d steps", len(l), batches)
		}
		losses[i] = append([]float32(nil), l...)
	}
	for s := range losses[0] {
		if losses[1][s] != losses[0][s] {
			t.Fatalf("device batch %d: loss replayed %g, queued %g", s+1, losses[1][s], losses[0][s])
		}
	}
	sameWeights("after an epoch of device batches")
}

// TestGEMMPathsMatchHost computes products of every transpose, of sizes from a vector and an
// outer product to MNIST's, with their matrices at offsets that leave them aligned to 256, 16
// or 4 bytes (cuBLASLt's algorithms ask for alignments), by each GEMM path, queued and then
// replayed, against a float64 product on the host.
func TestGEMMPathsMatchHost(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, gemm := range gemmPaths() {
		t.Run(gemm.String(), func(t *testing.T) {
			dev := openDevice(t, Options{GEMM: gemm})
			for _, size := range [][3]int{{32, 128, 784}, {128, 784, 32}, {5, 7, 3}, {7, 1, 9}, {6, 5, 1}} {
				m, n, k := size[0], size[1], size[2]
				for trans := range 4 {
					tA, tB := trans&1, trans>>1
					for _, off := range [][3]int{{0, 0, 0}, {1, 1, 1}, {4, 0, 1}} {
						a, b := make([]float32, m*k), make([]float32, k*n)
						for i := range a {
							a[i] = rng.Float32()*2 - 1
						}
						for i := range b {
							b[i] = rng.Float32()*2 - 1
						}
						// at(x, cols, t, i, j) is element (i, j) of op(x), x stored row-major with cols
						// columns, transposed when t is 1.
						at := func(x []float32, cols, t, i, j int) float64 {
							if t == 1 {
								return float64(x[j*cols+i])
							}
							return float64(x[i*cols+j])
						}
						colsA, colsB := k, n
						if tA == 1 {
							colsA = m
						}
						if tB == 1 {
							colsB = k
						}
						place := func(values []float32, off int) plan.Slice {
							s := upload(t, dev, append(make([]float32, off), values...))
							s.Off, s.Len = off, len(values)
							return s
						}
						out := place(make([]float32, m*n), off[2])
						op := plan.KernelOp{Kernel: "gemm", Dims: []int{m, n, k, tA, tB}, Out: out, In: []plan.Slice{place(a, off[0]), place(b, off[1])}}
						queued, replayed := make([]float32, m*n), make([]float32, m*n)
						err := dev.Run(func() error {
							seq, err := dev.Prepare([]plan.Op{op})
							if err != nil {
								return err
							}
							defer seq.Close()
							if err := seq.Run(1); err != nil {
								return err
							}
							if err := dev.Read(queued, out); err != nil {
								return err
							}
							if err := dev.Write(out, make([]float32, m*n)); err != nil { // a replay that ran nothing shows
								return err
							}
							if err := seq.Run(2); err != nil {
								return err
							}
							return dev.Read(replayed, out)
						})
						if err != nil {
							t.Fatalf("%s, offsets %v: %v", plan.Describe(op), off, err)
						}
						for i := range m {
							for j := range n {
								want, scale := 0.0, 0.0
								for l := range k {
									p := at(a, colsA, tA, i, l) * at(b, colsB, tB, l, j)
									want, scale = want+p, scale+math.Abs(p)
								}
								for run, got := range map[string][]float32{"queued": queued, "replayed": replayed} {
									if g := float64(got[i*n+j]); math.Abs(g-want) > 1e-5*scale+1e-7 {
										t.Fatalf("%s, offsets %v, %s: C[%d,%d] = %g, want %g", plan.Describe(op), off, run, i, j, g, want)
									}
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestScaleLROnTheGPU checks a learning rate scaled between steps (a schedule's) against the CPU.
func TestScaleLROnTheGPU(t *testing.T) {
	plantest.CompareScaleLR(t, plan.New(plan.NewCPU()), plan.New(openDevice(t, Options{})), 1e-5)
}

// TestCUDAMatchesCPUWithSGD trains every program by SGD with momentum and an L2 penalty on both.
func TestCUDAMatchesCPUWithSGD(t *testing.T) {
	plantest.CompareCases(t, plantest.Programs(), plan.New(plan.NewCPU()), plan.New(openDevice(t, Options{})), graph.Adam{LR: 0.05, SGD: true, Momentum: 0.9, WeightDecay: 0.01}, 1e-4)
}

// TestCUDAMatchesCPUWithWeightDecay trains every program with AdamW's weight decay on both.
func TestCUDAMatchesCPUWithWeightDecay(t *testing.T) {
	plantest.CompareCases(t, plantest.Programs(), plan.New(plan.NewCPU()), plan.New(openDevice(t, Options{})), graph.Adam{LR: 0.01, WeightDecay: 0.5}, 1e-4)
}

// TestProfileOnTheGPU profiles a small autoencoder's training step on the GPU and on the CPU:
// the GPU times one launch fewer (Adam and the counters' advance are one), each above zero,
// each product's name says what computed it, and a step taken afterwards still works.
func TestProfileOnTheGPU(t *testing.T) {
	for _, gemm := range gemmPaths() {
		t.Run(gemm.String(), func(t *testing.T) { profileOnTheGPU(t, gemm) })
	}
}

func profileOnTheGPU(t *testing.T, gemm GEMM) {
	dev := openDevice(t, Options{GEMM: gemm})
	profile := func(b graph.Backend) []plan.OpTime {
		rng := rand.New(rand.NewPCG(1, 1))
		ae := graph.Autoencoder{Encoder: []*graph.Dense{graph.NewDense("e", 20, 8, graph.ReLU, rng)},
			Decoder: []*graph.Dense{graph.NewDense("d", 8, 20, graph.Sigmoid, rng)}}
		prog, err := graph.NewTrainingProgram(ae, graph.Cost{Loss: graph.MSE}, 4)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := b.Compile(prog, graph.Adam{})
		if err != nil {
			t.Fatal(err)
		}
		defer ex.Close()
		ops, err := ex.(plan.Profiler).Profile(5)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 4*20)
		if _, err := ex.Step(x, x); err != nil {
			t.Fatalf("a step after profiling: %v", err)
		}
		return ops
	}
	cpu, gpu := profile(plan.New(plan.NewCPU())), profile(plan.New(dev))
	if len(gpu) != len(cpu)-1 || !strings.HasSuffix(gpu[len(gpu)-1].Op, "+ advance") {
		t.Fatalf("GPU operations %v against the CPU's %v: want Adam and advance as one", gpu, cpu)
	}
	// What each path calls a product it computed; where cuBLASLt offers no algorithm,
	// cublasSgemm computes it and the name says so.
	paths := map[GEMM][]string{
		GEMMCublas: {" (cublas)"},
		GEMMLt:     {" (lt)", " (cublas: cuBLASLt has no algorithm for it)"},
		GEMMTuned:  {" (lt, tuned: heuristic's #", " (cublas, tuned against ", " (cublas: cuBLASLt has no algorithm for it)"},
	}[gemm]
	products := 0
	for _, o := range gpu {
		if o.Time <= 0 {
			t.Errorf("%s took %v", o.Op, o.Time)
		}
		if !strings.HasPrefix(o.Op, "gemm ") {
			continue
		}
		products++
		named := false
		for _, p := range paths {
			named = named || strings.Contains(o.Op, p)
		}
		if !named {
			t.Errorf("%s: the name does not say what computed it with GEMM %s", o.Op, gemm)
		}
		if strings.Contains(o.Op, "no algorithm") {
			t.Logf("%s", o.Op)
		}
	}
	if products == 0 {
		t.Errorf("no product among %v", gpu)
	}
}

// runOps prepares ops on be, runs them times times and reads out.
func runOps(t *testing.T, be plan.Device, times int, out plan.Slice, ops ...plan.Op) []float32 {
	t.Helper()
	run := func() []float32 {
		seq, err := be.Prepare(ops)
		if err != nil {
			t.Fatal(err)
		}
		defer seq.Close()
		if err := seq.Run(times); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, out.Len)
		if err := be.Read(got, out); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if r, ok := be.(plan.Runner); ok {
		var got []float32
		if err := r.Run(func() error { got = run(); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	return run()
}

// upload allocates a buffer on be holding values.
func upload(t *testing.T, be plan.Device, values []float32) plan.Slice {
	t.Helper()
	var s plan.Slice
	do := func() error {
		m, err := be.Alloc(len(values))
		if err != nil {
			return err
		}
		s = plan.Slice{Mem: m, Len: len(values)}
		return be.Write(s, values)
	}
	var err error
	if r, ok := be.(plan.Runner); ok {
		err = r.Run(do)
	} else {
		err = do()
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSumsMatchCPU checks the three sums on shapes from one value to a whole MNIST batch,
// and that the sum of everything gives the same bits every time.
func TestSumsMatchCPU(t *testing.T) {
	dev := openDevice(t, Options{})
	cpu := plan.NewCPU()
	rng := rand.New(rand.NewPCG(5, 5))
	for _, shape := range [][2]int{{1, 1}, {7, 10}, {32, 784}, {256, 784}, {256, 128}, {1000, 3}} {
		rows, cols := shape[0], shape[1]
		in := make([]float32, rows*cols)
		for i := range in {
			in[i] = rng.Float32()*2 - 1
		}
		for axis, n := range []int{cols, rows, 1} {
			op := func(be plan.Device) (plan.Slice, plan.Op) {
				out := upload(t, be, make([]float32, n))
				return out, plan.KernelOp{Kernel: "sum", Dims: []int{rows, cols, axis}, Out: out, In: []plan.Slice{upload(t, be, in)}}
			}
			wantOut, wantOp := op(cpu)
			want := runOps(t, cpu, 1, wantOut, wantOp)
			gotOut, gotOp := op(dev)
			got := runOps(t, dev, 3, gotOut, gotOp)
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-5*float64(rows)+1e-6 {
					t.Fatalf("%d×%d axis %d: [%d] = %g, the CPU %g", rows, cols, axis, i, got[i], want[i])
				}
			}
			if again := runOps(t, dev, 1, gotOut, gotOp); axis == 2 && again[0] != got[0] {
				t.Errorf("%d×%d: the sum of everything was %g, then %g", rows, cols, got[0], again[0])
			}
		}
	}
}

// TestGatherCorruptMatchesCPU checks the device's batch gathering and corruption against
// datasets.Noise.ApplyAt, value for value.
func TestGatherCorruptMatchesCPU(t *testing.T) {
	dev := openDevice(t, Options{})
	const d, n, batch = 7, 10, 4
	rng := rand.New(rand.NewPCG(1, 1))
	data := make([]float32, n*d)
	for i := range data {
		data[i] = rng.Float32()
	}
	order := []int32{0, 1, 2, 3, 7, 2, 2, 9} // the second batch is taken
	for _, noise := range []datasets.Noise{{}, {Kind: datasets.Gaussian, Level: 0.4}, {Kind: datasets.Mask, Level: 0.3}, {Kind: datasets.SaltPepper, Level: 0.2},
		{Kind: datasets.Gaussian, Level: 0.1, Max: 1}, {Kind: datasets.Mask, Level: 0, Max: 0.6}} {
		var noisy, clean []float32
		err := dev.Run(func() error {
			dm, err := dev.Alloc(n * d)
			if err != nil {
				return err
			}
			if err := dev.Write(plan.Slice{Mem: dm, Len: n * d}, data); err != nil {
				return err
			}
			om, err := dev.AllocIndices(len(order))
			if err != nil {
				return err
			}
			if err := dev.WriteIndices(om, order); err != nil {
				return err
			}
			ctr, err := dev.NewCounters()
			if err != nil {
				return err
			}
			if err := dev.SetCounters(ctr, plan.Counters{Batch: 1, Noise: 5}); err != nil {
				return err
			}
			nm, _ := dev.Alloc(batch * d)
			cm, _ := dev.Alloc(batch * d)
			ns, cs := plan.Slice{Mem: nm, Len: batch * d}, plan.Slice{Mem: cm, Len: batch * d}
			seq, err := dev.Prepare([]plan.Op{plan.GatherOp{Noisy: ns, Clean: cs, Data: dm, Order: om, B: batch, D: d, Noise: noise, Seed: 99, Counters: ctr}})
			if err != nil {
				return err
			}
			defer seq.Close()
			if err := seq.Run(1); err != nil {
				return err
			}
			noisy, clean = make([]float32, batch*d), make([]float32, batch*d)
			if err := dev.Read(noisy, ns); err != nil {
				return err
			}
			return dev.Read(clean, cs)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, batch*d)
		for k, i := range order[batch:] {
			copy(want[k*d:(k+1)*d], data[int(i)*d:(int(i)+1)*d])
		}
		for i := range want {
			if clean[i] != want[i] {
				t.Fatalf("%s: clean[%d] = %g, want %g", noise, i, clean[i], want[i])
			}
		}
		noise.ApplyImagesAt(want, want, d, 99, 5)
		for i := range want {
			if math.Abs(float64(noisy[i]-want[i])) > 2e-5 {
				t.Fatalf("%s: noisy[%d] = %g, the CPU corrupts to %g", noise, i, noisy[i], want[i])
			}
		}
	}
}

// TestAdvanceMatchesHost checks that the device moves the step counters on and computes
// Adam's next update as the host does.
func TestAdvanceMatchesHost(t *testing.T) {
	dev := openDevice(t, Options{})
	cfg := graph.Adam{LR: 0.003, Beta1: 0.85}
	want := plan.Counters{Steps: 41, Batch: 2, Noise: 900, Adam: plan.AdamAt(cfg, 42)}
	var got plan.Counters
	err := dev.Run(func() error {
		ctr, err := dev.NewCounters()
		if err != nil {
			return err
		}
		if err := dev.SetCounters(ctr, want); err != nil {
			return err
		}
		seq, err := dev.Prepare([]plan.Op{plan.AdvanceOp{Counters: ctr, Adam: cfg}})
		if err != nil {
			return err
		}
		defer seq.Close()
		if err := seq.Run(1); err != nil {
			return err
		}
		if err := seq.Run(2); err != nil { // replayed
			return err
		}
		got, err = dev.ReadCounters(ctr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		want = want.Advance(cfg)
	}
	if got != want {
		t.Fatalf("after three advances the device has %+v, the host %+v", got, want)
	}
}

// TestCloseTwice checks that closing a backend twice, and an executor after its backend,
// neither panics nor hangs.
func TestCloseTwice(t *testing.T) {
	b, err := Open(0)
	if err != nil {
		t.Skipf("no CUDA device: %v", err)
	}
	p, err := plantest.Programs()[0].Build(rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := b.Compile(p, graph.Adam{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := ex.Close(); err != nil {
		t.Fatalf("executor Close after the backend's: %v", err)
	}
	if _, err := ex.Step(plantest.Programs()[0].Feed(rand.New(rand.NewPCG(2, 2)), p)...); err == nil {
		t.Fatal("a step after Close succeeded")
	}
}
