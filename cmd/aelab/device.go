package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/cuda"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/graph/plan"
)

// Where aelab computes is chosen here, at the edge, and nowhere else.
//
// A CUDA-enabled aelab is two programs (scripts/build-cuda.sh): aelab itself, pure Go, which
// starts anywhere, and the CUDA runner beside it, aelab built with CUDA, which needs the
// NVIDIA driver's library to start at all. When a command asks for auto or cuda, aelab
// asks the runner which devices answer and, if one does, hands the command over to it
// (the process becomes the runner: same arguments, output, signals and exit code). Where
// the runner cannot start or finds no device, aelab says why in one line and computes on
// the CPU — or, for an explicit --device cuda, fails with that line.

// runnerName is the CUDA runner's file name, beside aelab (AELAB_CUDA_RUNNER overrides the
// path).
const runnerName = "aelab-cuda-runner"

// errHandedOff ends a command that was handed to the runner (seen only where exec returns,
// as a test's stand-in does).
var errHandedOff = errors.New("handed over to the CUDA runner")

// cudaRunner is the CUDA runner beside this aelab, and what became of handing it a command.
type cudaRunner struct {
	path     string   // "" where there is none
	argv     []string // this process's arguments, passed on
	exec     func(path string, argv, env []string) error
	fallback string // why the last command stayed here
}

// findRunner returns the runner of a build without CUDA, or nil.
func findRunner(argv []string, execFn func(string, []string, []string) error) *cudaRunner {
	if cuda.Built {
		return nil
	}
	path := os.Getenv("AELAB_CUDA_RUNNER")
	if path == "" {
		self, err := os.Executable()
		if err != nil {
			return nil
		}
		path = filepath.Join(filepath.Dir(self), runnerName)
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return nil
	}
	return &cudaRunner{path: path, argv: argv, exec: execFn}
}

// device is a parsed --device.
type device struct {
	kind    string // auto, cpu, tape or cuda
	ordinal int
}

func parseDevice(name string) (device, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case n == "" || n == "auto":
		return device{kind: "auto"}, nil
	case n == "cpu" || n == "tape":
		return device{kind: n}, nil
	case n == "cuda":
		return device{kind: "cuda"}, nil
	case strings.HasPrefix(n, "cuda:"):
		if i, err := strconv.Atoi(n[len("cuda:"):]); err == nil && i >= 0 {
			return device{kind: "cuda", ordinal: i}, nil
		}
		return device{}, usagef("--device %q: want cuda:N with N a device number", name)
	}
	return device{}, usagef("unknown device %q (want auto, cpu, tape, cuda or cuda:N; an NVIDIA GPU is cuda)", name)
}

// handOff is the Before of every command with --device: it hands the command to the CUDA
// runner when the device may be CUDA and the runner has one.
func handOff(s streams) cli.BeforeFunc {
	return func(c *cli.Context) error {
		d, err := parseDevice(c.String("device"))
		if err == nil {
			_, err = parseGEMM(c) // a mistake in the line is told here, not by the runner
		}
		if err != nil || s.runner == nil || (d.kind != "auto" && d.kind != "cuda") {
			return err
		}
		r := s.runner
		why := r.probe(c.Context, d.ordinal)
		if why == "" {
			if err := r.exec(r.path, append([]string{r.path}, r.argv[1:]...), os.Environ()); err != nil {
				why = fmt.Sprintf("the CUDA runner %s cannot start: %v", r.path, err)
			} else {
				return errHandedOff
			}
		}
		if d.kind == "cuda" {
			return fmt.Errorf("--device %s: %s", d, why) // before any work
		}
		r.fallback = why
		return nil
	}
}

// devicesReport is what `aelab devices --json` prints.
type devicesReport struct {
	CPU  string `json:"cpu"`
	CUDA struct {
		Built   bool          `json:"built"`
		Runner  string        `json:"runner,omitempty"`
		Devices []cuda.Device `json:"devices"`
		Error   string        `json:"error,omitempty"`
	} `json:"cuda"`
}

// ask runs `runner devices --json`: the devices that answer, or why none does.
func (r *cudaRunner) ask(ctx context.Context) (devicesReport, string) {
	var rep devicesReport
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, r.path, "devices", "--json")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg == "" {
			msg = err.Error()
		}
		return rep, fmt.Sprintf("the CUDA runner %s cannot start: %s", r.path, msg)
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return rep, fmt.Sprintf("the CUDA runner %s answered %q", r.path, oneLine(out.String()))
	}
	if !rep.CUDA.Built {
		return rep, fmt.Sprintf("%s was built without CUDA", r.path)
	}
	if len(rep.CUDA.Devices) == 0 {
		return rep, rep.CUDA.Error
	}
	return rep, ""
}

// probe says why device ordinal cannot be used through the runner, or "" if it can.
func (r *cudaRunner) probe(ctx context.Context, ordinal int) string {
	rep, why := r.ask(ctx)
	if why == "" && ordinal >= len(rep.CUDA.Devices) {
		why = fmt.Sprintf("cuda: device %d does not exist (%d devices)", ordinal, len(rep.CUDA.Devices))
	}
	return why
}

// openBackend opens the --device backend and logs the choice in one line.
func openBackend(c *cli.Context, s streams) (graph.Backend, error) {
	d, err := parseDevice(c.String("device"))
	if err != nil {
		return nil, err
	}
	fallback := ""
	if s.runner != nil {
		fallback = s.runner.fallback
	}
	gemm, err := parseGEMM(c)
	if err != nil {
		return nil, err
	}
	opt := backendOptions{noReplay: c.Bool("no-replay"), noFusion: c.Bool("no-fusion"), tf32: c.Bool("tf32"), gemm: gemm}
	b, note, err := chooseBackend(d, fallback, opt)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(s.Err, note)
	return b, nil
}

// backendOptions are the bench's switches for comparing executors.
type backendOptions struct {
	noReplay bool      // CUDA: queue every operation from the host, no captured steps
	noFusion bool      // every elementwise kernel a step of its own
	tf32     bool      // CUDA: matrix products on tensor cores with TF32 inputs
	gemm     cuda.GEMM // CUDA: what computes the matrix products
}

// chooseBackend opens d; fallback, when not empty, says why the CUDA runner did not take
// the command.
func chooseBackend(d device, fallback string, opt backendOptions) (backend graph.Backend, note string, err error) {
	planOpt := plan.Options{NoFusion: opt.noFusion}
	cpu := func() graph.Backend { return plan.NewWith(plan.NewCPU(), planOpt) }
	switch d.kind {
	case "cpu":
		return cpu(), "device: cpu", nil
	case "tape":
		return graph.Tape{}, "device: tape (gorgonia's TapeMachine on the CPU)", nil
	}
	var b graph.Backend
	switch {
	case fallback != "":
		err = errors.New(fallback)
	case !cuda.Built:
		err = &cuda.NotBuiltError{}
	default:
		b, err = cuda.OpenWith(d.ordinal, cuda.Options{NoReplay: opt.noReplay, TF32: opt.tf32, GEMM: opt.gemm, Plan: planOpt})
	}
	if d.kind == "cuda" {
		if err != nil {
			return nil, "", fmt.Errorf("--device %s: %w", d, err)
		}
		return b, "device: " + b.Name(), nil
	}
	if err == nil {
		return b, "device: " + b.Name() + " (auto)", nil
	}
	var nb *cuda.NotBuiltError
	if errors.As(err, &nb) {
		return cpu(), "device: cpu (auto: this build has no CUDA)", nil
	}
	return cpu(), fmt.Sprintf("device: cpu (auto: %v)", oneLine(err.Error())), nil
}

// String gives the device as --device takes it.
func (d device) String() string {
	if d.kind == "cuda" && d.ordinal > 0 {
		return "cuda:" + strconv.Itoa(d.ordinal)
	}
	return d.kind
}
