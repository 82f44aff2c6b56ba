package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
)

// fakeRunner writes a shell script standing in for aelab-cuda-runner: it answers `devices
// --json` with body (and exit code), and leaves a mark when asked, so a test can tell that
// it was.
func fakeRunner(t *testing.T, body string) (path, asked string) {
	t.Helper()
	dir := t.TempDir()
	path, asked = filepath.Join(dir, runnerName), filepath.Join(dir, "asked")
	script := "#!/bin/sh\ntouch " + asked + "\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, asked
}

// missingLibraryRunner builds a program linked against a shared library and then removes the
// library: starting it fails in the dynamic loader, as the CUDA runner does where the NVIDIA
// driver is not installed.
func missingLibraryRunner(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lib := write("driver.c", "int driver_version(void) { return 13; }\n")
	main := write("main.c", "int driver_version(void);\nint main(void) { return driver_version() == 13 ? 0 : 1; }\n")
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-o", filepath.Join(dir, "libaelabdriver.so"), lib},
		{"-o", filepath.Join(dir, runnerName), main, "-L" + dir, "-laelabdriver", "-Xlinker", "-rpath", "-Xlinker", dir},
	} {
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, out)
		}
	}
	if err := os.Remove(filepath.Join(dir, "libaelabdriver.so")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, runnerName)
}

const (
	oneGPU   = `echo '{"cpu":"x","cuda":{"built":true,"devices":[{"ordinal":0,"name":"Fake GPU","memory":1,"compute":"9.0"}]}}'`
	noDevice = `echo '{"cpu":"x","cuda":{"built":true,"devices":[],"error":"cuda: no CUDA driver answers: CUDA_ERROR_NO_DEVICE (100)"}}'`
	noDriver = `echo "` + runnerName + `: error while loading shared libraries: libcuda.so.1: cannot open shared object file: No such file or directory" >&2; exit 127`
)

// TestHandOffToCUDARunner checks how a build without CUDA chooses its device with a CUDA
// runner beside it: the command goes to the runner when a GPU answers, and otherwise stays
// on the CPU with one line saying why (auto) or fails with that line (cuda).
func TestHandOffToCUDARunner(t *testing.T) {
	if _, err := datasets.DefaultDir(); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		name     string
		runner   func(t *testing.T) (path, asked string)
		device   string
		execErr  error
		code     int
		handed   bool
		noteHas  string // in stderr
		notAsked bool
	}{
		{name: "a GPU answers, auto", runner: runnerWith(oneGPU), device: "auto", handed: true},
		{name: "a GPU answers, cuda", runner: runnerWith(oneGPU), device: "cuda", handed: true},
		{name: "a GPU answers, cuda:1", runner: runnerWith(oneGPU), device: "cuda:1", code: exitFailure,
			noteHas: "aelab: --device cuda:1: cuda: device 1 does not exist (1 devices)"},
		{name: "a GPU answers, cpu", runner: runnerWith(oneGPU), device: "cpu", noteHas: "device: cpu\n", notAsked: true},
		{name: "the runner cannot start", runner: runnerWith(oneGPU), device: "auto", execErr: errors.New("exec format error"),
			noteHas: "device: cpu (auto: the CUDA runner"},
		{name: "no device, auto", runner: runnerWith(noDevice), device: "auto",
			noteHas: "device: cpu (auto: cuda: no CUDA driver answers: CUDA_ERROR_NO_DEVICE (100))"},
		{name: "no device, cuda", runner: runnerWith(noDevice), device: "cuda", code: exitFailure,
			noteHas: "aelab: --device cuda: cuda: no CUDA driver answers: CUDA_ERROR_NO_DEVICE (100)\n"},
		{name: "no driver, auto", runner: runnerWith(noDriver), device: "auto",
			noteHas: "cannot start: " + runnerName + ": error while loading shared libraries: libcuda.so.1"},
		{name: "a library missing, auto", runner: func(t *testing.T) (string, string) { return missingLibraryRunner(t), "" },
			device: "auto", noteHas: "error while loading shared libraries: libaelabdriver.so"},
		{name: "a library missing, cuda", runner: func(t *testing.T) (string, string) { return missingLibraryRunner(t), "" },
			device: "cuda", code: exitFailure, noteHas: "aelab: --device cuda: the CUDA runner"},
		{name: "no runner, auto", runner: func(t *testing.T) (string, string) { return filepath.Join(t.TempDir(), runnerName), "" },
			device: "auto", noteHas: "device: cpu (auto: this build has no CUDA)"},
		{name: "no runner, cuda", runner: func(t *testing.T) (string, string) { return filepath.Join(t.TempDir(), runnerName), "" },
			device: "cuda", code: exitFailure, noteHas: "aelab: --device cuda: cuda: this aelab was built without CUDA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, asked := tc.runner(t)
			t.Setenv("AELAB_CUDA_RUNNER", path)
			var execPath string
			var execArgs []string
			execFn := func(p string, argv, env []string) error {
				execPath, execArgs = p, argv
				return tc.execErr
			}
			args := []string{"aelab", "train", "--hidden", "4", "--epochs", "1", "--train-limit", "200", "--batch", "50",
				"--device", tc.device, "--out", filepath.Join(t.TempDir(), "m.safetensors")}
			var out, errb bytes.Buffer
			code := runWith(context.Background(), args, &out, &errb, execFn)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errb.String())
			}
			if tc.handed != (execPath != "" && tc.execErr == nil) {
				t.Fatalf("handed to %q (%v), want a hand-off: %v; stderr:\n%s", execPath, execArgs, tc.handed, errb.String())
			}
			if tc.handed {
				if execPath != path || !slices.Equal(execArgs[1:], args[1:]) {
					t.Errorf("exec %s %v, want %s with the same arguments", execPath, execArgs, path)
				}
				if errb.Len() != 0 || out.Len() != 0 {
					t.Errorf("the command ran here too: %q %q", out.String(), errb.String())
				}
			}
			if !strings.Contains(errb.String(), tc.noteHas) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.noteHas)
			}
			if tc.code != exitOK && strings.Count(errb.String(), "\n") != 1 {
				t.Errorf("a failure takes one line, got %q", errb.String())
			}
			if _, err := os.Stat(asked); tc.notAsked && err == nil {
				t.Errorf("the runner was asked for --device %s", tc.device)
			}
		})
	}
}

// TestSubcommandsHandOff checks that a subcommand with --device (samples score) goes to the
// CUDA runner as a top-level command does, with the same arguments, before it reads anything.
func TestSubcommandsHandOff(t *testing.T) {
	for _, args := range [][]string{
		{"aelab", "samples", "score", "--idx", filepath.Join(t.TempDir(), "none.idx"), "--device", "cuda"},
		{"aelab", "eval", "--model", filepath.Join(t.TempDir(), "none.safetensors"), "--device", "cuda"},
	} {
		t.Run(strings.Join(args[1:len(args)-4], " "), func(t *testing.T) {
			path, _ := fakeRunner(t, oneGPU)
			t.Setenv("AELAB_CUDA_RUNNER", path)
			var handed []string
			execFn := func(p string, argv, env []string) error {
				handed = argv
				return nil
			}
			var out, errb bytes.Buffer
			if code := runWith(context.Background(), args, &out, &errb, execFn); code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
			}
			if !slices.Equal(handed[1:], args[1:]) {
				t.Errorf("handed %v to the runner, want %v", handed, args)
			}
		})
	}
}

func runnerWith(body string) func(t *testing.T) (string, string) {
	return func(t *testing.T) (string, string) { return fakeRunner(t, body) }
}

// TestDevicesThroughRunner checks what `aelab devices` says of the runner.
func TestDevicesThroughRunner(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{oneGPU, "cuda:0 Fake GPU, compute 9.0"},
		{noDevice, "cuda   no device answers (through "},
		{noDriver, "cannot start: " + runnerName + ": error while loading shared libraries: libcuda.so.1"},
	} {
		path, _ := fakeRunner(t, tc.body)
		t.Setenv("AELAB_CUDA_RUNNER", path)
		code, out, errs := aelab(t, "devices")
		if code != exitOK || !strings.Contains(out, tc.want) {
			t.Errorf("devices exited %d with %q (%q), want %q", code, out, errs, tc.want)
		}
	}
}

// TestGEMMFlag checks --gemm: every command that takes --device takes it, and a value that
// is no GEMM path stops the command with one usage line before any work (no data is read).
func TestGEMMFlag(t *testing.T) {
	var check func(prefix string, cmds []*cli.Command)
	check = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			has := map[string]bool{}
			for _, f := range c.Flags {
				has[f.Names()[0]] = true
			}
			if has["device"] && (!has["gemm"] || !has["tf32"]) {
				t.Errorf("%s%s takes --device but not both --tf32 and --gemm", prefix, c.Name)
			}
			check(prefix+c.Name+" ", c.Subcommands)
		}
	}
	check("", newApp(streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}).Commands)
	for _, args := range [][]string{
		{"train", "--device", "cpu", "--gemm", "fast", "--data-dir", t.TempDir()},
		{"bench", "--device", "cuda", "--gemm", "cublasLt", "--data-dir", t.TempDir()},
	} {
		code, _, stderr := aelab(t, args...)
		want := fmt.Sprintf("aelab: --gemm %q: want cublas, lt or tuned\n", args[4])
		if code != exitUsage || stderr != want {
			t.Errorf("aelab %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, stderr, exitUsage, want)
		}
	}
}
