package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
	"github.com/aelab/aelab/models"
)

// TestMain lets a test start this binary as aelab itself: with AELAB_AS_MAIN set, it runs
// main with the arguments in AELAB_ARGS.
func TestMain(m *testing.M) {
	if os.Getenv("AELAB_AS_MAIN") != "" {
		os.Args = append([]string{"aelab"}, strings.Fields(os.Getenv("AELAB_ARGS"))...)
		main()
	}
	os.Exit(m.Run())
}

// aelab runs the app in-process and returns the exit code, stdout and stderr.
func aelab(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"aelab"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEveryCommandAndFlagIsDocumented(t *testing.T) {
	app := newApp(streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	var check func(prefix string, cmds []*cli.Command)
	check = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := prefix + c.Name
			if c.Usage == "" {
				t.Errorf("command %s has no usage text", name)
			}
			for _, f := range c.Flags {
				df, ok := f.(cli.DocGenerationFlag)
				if !ok || df.GetUsage() == "" {
					t.Errorf("flag --%s of %s has no usage text", f.Names()[0], name)
				}
			}
			check(name+" ", c.Subcommands)
		}
	}
	check("", app.Commands)
	code, out, _ := aelab(t, "--help")
	if code != exitOK {
		t.Fatalf("--help exited %d", code)
	}
	for _, c := range app.Commands {
		if !strings.Contains(out, c.Name) || !strings.Contains(out, c.Usage) {
			t.Errorf("--help does not list %s with its description", c.Name)
		}
	}
}

// TestCommandLineConventions checks the exit code and the one line of natural mistakes.
func TestCommandLineConventions(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"misspelt command", []string{"trian"}, `unknown command "trian". Did you mean "train"?`},
		{"misspelt flag", []string{"train", "--epoch", "3"}, `unknown flag --epoch. Did you mean "--epochs"?`},
		{"stray argument", []string{"reconstruct", "--model", "m.safetensors", "out.png"}, `reconstruct takes no arguments, but was given "out.png"`},
		{"gpu for cuda", []string{"train", "--device", "gpu"}, "an NVIDIA GPU is cuda"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := aelab(t, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
	// Help states each default once, and never a meaningless one.
	app := newApp(streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	for _, c := range app.Commands {
		_, out, _ := aelab(t, c.Name, "--help")
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "default") > 1 || strings.Contains(line, "(default: false)") || strings.Contains(line, "(default: 0)") {
				t.Errorf("aelab %s --help: %q", c.Name, strings.TrimSpace(line))
			}
		}
	}
}

// badDataDir writes a data folder whose training images are damaged by damage.
func badDataDir(t *testing.T, damage func(images []byte) []byte) string {
	t.Helper()
	src, err := datasets.DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, name := range datasets.FileNames() {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == datasets.TrainImagesFile {
			data = damage(data)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// plainIDX returns a small uncompressed images file with a chosen magic number and count.
func plainIDX(magic uint32, n int) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{magic, uint32(n), 28, 28} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write(make([]byte, n*784))
	return b.Bytes()
}

// tinyModel saves an untrained 784-8 autoencoder in dir and returns its path.
func tinyModel(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "good.safetensors")
	ae, err := models.New(models.Spec{Kind: models.AE, Layers: []int{784, 8}}, models.InitRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Save(path, &models.Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	return path
}

// linearJudge saves an untrained one-layer digit classifier (784-10) in dir and returns its path.
func linearJudge(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "classifier.safetensors")
	head := graph.NewDense("layers.0", 784, 10, graph.Linear, models.InitRand(1))
	if err := models.SaveClassifier(path, &models.Classifier{Layers: []*graph.Dense{head}, Record: models.ClassifierRecord{Layers: []int{784, 10}}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// unlabelledDir is a copy of the default MNIST without its label files.
func unlabelledDir(t *testing.T) string {
	t.Helper()
	dir := badDataDir(t, func(b []byte) []byte { return b })
	os.Remove(filepath.Join(dir, datasets.TrainLabelsFile))
	os.Remove(filepath.Join(dir, datasets.TestLabelsFile))
	return dir
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notCkpt := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCkpt, []byte("these are my notes, not a model\n"), 0o644)
	good := tinyModel(t, dir)
	m, err := models.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	stack := filepath.Join(dir, "stack.safetensors")
	if err := models.Save(stack, &models.Model{AE: m.AE, Record: models.Record{
		Training: models.TrainingSettings{Procedure: "pretrain", Batch: 32}, Levels: []models.LevelRecord{{Level: 1}}}}); err != nil {
		t.Fatal(err)
	}
	unlabelled := unlabelledDir(t)
	classifier := linearJudge(t, dir)
	badConfig := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badConfig, []byte("name: x\nruns:\n  - name: a\n    kind: ae\n    hidden: [128, 0]\n    epochs: 1\n"), 0o644)
	full, _ := os.ReadFile(good)
	cut := filepath.Join(dir, "cut.safetensors")
	os.WriteFile(cut, full[:len(full)/2], 0o644)

	truncated := func(b []byte) []byte { return b[:len(b)/2] }
	corrupted := func(b []byte) []byte {
		c := bytes.Clone(b)
		c[len(c)/2] ^= 0xff
		return c
	}
	wrongMagic := func([]byte) []byte { return plainIDX(0x00000801, 100) }
	fewer := func([]byte) []byte { return plainIDX(0x00000803, 100) }

	train := func(extra ...string) []string {
		return append([]string{"train", "--out", filepath.Join(dir, "m.safetensors"), "--train-limit", "100"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated IDX", train("--data-dir", badDataDir(t, truncated)), "truncated"},
		{"corrupted IDX", train("--data-dir", badDataDir(t, corrupted)), "corrupted gzip stream"},
		{"wrong magic", train("--data-dir", badDataDir(t, wrongMagic)), "wrong magic number"},
		{"count mismatch", train("--data-dir", badDataDir(t, fewer)), "has 100 images but train-labels-idx1-ubyte.gz has 60000 labels"},
		{"not a checkpoint", []string{"eval", "--model", notCkpt}, "not a safetensors file"},
		{"cut checkpoint", []string{"eval", "--model", cut}, "not a valid safetensors file"},
		{"missing checkpoint", []string{"eval", "--model", filepath.Join(dir, "nope")}, "no such file"},
		{"unknown kind", train("--kind", "vae"), `unknown kind "vae"`},
		{"bad noise", train("--kind", "dae", "--noise", "gaussian:x"), `level "x" is not a number`},
		{"noise kind", train("--kind", "dae", "--noise", "speckle:0.1"), `unknown kind "speckle"`},
		{"zero epochs", train("--epochs", "0"), "--epochs must be positive"},
		{"negative epochs", train("--epochs", "-2"), "--epochs must be positive"},
		{"zero batch", train("--batch", "0"), "--batch must be positive"},
		{"negative batch", train("--batch", "-4"), "--batch must be positive"},
		{"zero lr", train("--lr", "0"), "--lr must be in (0, 10]"},
		{"negative lr", train("--lr", "-0.1"), "--lr must be in (0, 10]"},
		{"negative weight decay", train("--weight-decay", "-1"), "--weight-decay must be 0 (none) or more, got -1"},
		{"too much walkback", train("--walkback", "101"), "--walkback must be 0 (none) to 100 rounds, got 101"},
		{"unknown optimizer", train("--optimizer", "rmsprop"), `--optimizer "rmsprop": want adam or sgd`},
		{"momentum for adam", train("--momentum", "0.9"), "--momentum is for the sgd optimizer"},
		{"momentum of one", train("--optimizer", "sgd", "--momentum", "1"), "--momentum must be in [0, 1), got 1"},
		{"weight decay past the lr", train("--lr", "0.1", "--weight-decay", "10"), "--weight-decay 10 times the learning rate 0.1 must be below 1"},
		{"empty hidden", train("--hidden", ""), "no layer sizes given"},
		{"non-numeric hidden", train("--hidden", "12a"), `layer size "12a" is not a whole number`},
		{"zero hidden", train("--hidden", "128,0"), "layer size 0 must be positive"},
		{"missing folder", []string{"train", "--out", filepath.Join(dir, "no", "such", "m.safetensors")}, "folder " + filepath.Join(dir, "no", "such") + " does not exist"},
		{"reconstruct missing folder", []string{"reconstruct", "--model", good, "--out", "/no/such/dir/r.png"}, "does not exist"},
		{"unknown flag", []string{"train", "--epoch", "3"}, "unknown flag --epoch"},
		{"unknown device", train("--device", "tpu"), `unknown device "tpu"`},
		{"interpolate class out of range", []string{"interpolate", "--model", good, "--same-class", "10"}, "--same-class 10: a class is a digit 0-9"},
		{"interpolate classes out of range", []string{"interpolate", "--model", good, "--classes", "3,11"}, "class 11 is not a digit 0-9"},
		{"interpolate one step", []string{"interpolate", "--model", good, "--steps", "1"}, "--steps must be between 2 and 101"},
		{"interpolate index out of range", []string{"interpolate", "--model", good, "--indices", "5,10000"}, "test image 10000 does not exist"},
		{"interpolate two ways", []string{"interpolate", "--model", good, "--indices", "5,6", "--same-class", "3"}, "give one of"},
		{"interpolate a classifier", []string{"interpolate", "--model", classifier}, "an aelab classifier, not an aelab checkpoint"},
		{"walk zero eta", []string{"walk", "--model", good, "--eta", "0"}, "--eta must be positive"},
		{"walk negative eta", []string{"walk", "--model", good, "--eta", "-1"}, "--eta must be positive"},
		{"walk bad method", []string{"walk", "--model", good, "--method", "gibbs"}, `--method "gibbs": want score, energy, chain, annealed, langevin or diffusion`},
		{"walk diffusion burn-in past the end", []string{"walk", "--model", good, "--method", "diffusion", "--steps", "10", "--burn-in", "10"}, "--burn-in must be 0 or more and fewer than the 10 steps, got 10"},
		{"walk diffusion by masking", []string{"walk", "--model", good, "--method", "diffusion", "--chain-noise", "mask:0.2"}, "--chain-noise a diffusion walk needs Gaussian levels"},
		{"walk too many chains", []string{"walk", "--model", good, "--chains", "100001"}, "--chains must be between 1 and 100000"},
		{"walk bad start", []string{"walk", "--model", good, "--start", "image:99999"}, "want image:I with I a test image"},
		{"walk snapshot past the end", []string{"walk", "--model", good, "--steps", "10", "--snapshots", "0,20"}, "--snapshots step 20 is outside"},
		{"walk a classifier", []string{"walk", "--model", classifier}, "an aelab classifier, not an aelab checkpoint"},
		{"bad experiment config", []string{"experiment", "--config", badConfig}, badConfig + ":5: runs[0].hidden: layer size 0 is impossible"},
		{"unknown preset", []string{"experiment", "--preset", "huge"}, `unknown preset "huge"`},
		{"missing config", []string{"experiment", "--config", filepath.Join(dir, "none.yaml")}, "no such file"},
		{"finetune a non-stack", []string{"finetune", "--model", good}, "is not a pretrained stack"},
		{"finetune hidden mismatch", []string{"finetune", "--model", stack, "--hidden", "512,128"}, "--hidden 512,128 does not match"},
		{"classify without labels", []string{"finetune", "--model", stack, "--objective", "classify", "--data-dir", unlabelled}, "needs labels"},
		{"unknown objective", []string{"finetune", "--model", stack, "--objective", "sparse"}, `--objective "sparse"`},
		{"dropout in reconstruction", []string{"finetune", "--model", stack, "--dropout", "0.5"}, "--dropout is for --objective classify"},
		{"dropout of every unit", []string{"finetune", "--model", stack, "--objective", "classify", "--dropout", "1"}, "--dropout must be in [0, 1), got 1"},
		{"refit with a patience", []string{"finetune", "--model", stack, "--objective", "classify", "--refit", "--patience", "3"}, "--refit trains on the validation images too"},
		{"pretrain zero layers", []string{"pretrain", "--hidden", " ", "--out", filepath.Join(dir, "p.safetensors")}, "no layer sizes given"},
		{"pretrain layer of size 0", []string{"pretrain", "--hidden", "512,0", "--out", filepath.Join(dir, "p.safetensors")}, "layer size 0 must be positive"},
		{"pretrain level noise", []string{"pretrain", "--kind", "ae", "--level-noise", "gaussian:0.2", "--out", filepath.Join(dir, "p.safetensors")}, "--level-noise is for --kind dae"},
		{"cuda without cuda", train("--device", "cuda"), "built without CUDA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := aelab(t, tc.args...)
			if code == exitOK {
				t.Fatalf("exit code 0 for %v", tc.args)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "aelab: ") || !strings.Contains(last, tc.want) {
				t.Errorf("stderr ends %q, want an aelab: line saying %q", last, tc.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic:\n%s", stderr)
			}
		})
	}
}

// weightBytes returns a checkpoint's tensor data: the file after its header.
func weightBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[8+binary.LittleEndian.Uint64(b):]
}

func TestSameSeedSameWeights(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors"), filepath.Join(dir, "c.safetensors")}
	seeds := []string{"7", "7", "8"}
	for i, p := range paths {
		code, _, stderr := aelab(t, "train", "--kind", "dae", "--hidden", "16", "--epochs", "1", "--train-limit", "1000",
			"--seed", seeds[i], "--device", "cpu", "--out", p)
		if code != exitOK {
			t.Fatalf("train exited %d: %s", code, stderr)
		}
	}
	if !bytes.Equal(weightBytes(t, paths[0]), weightBytes(t, paths[1])) {
		t.Error("the same seed wrote different weights")
	}
	if bytes.Equal(weightBytes(t, paths[0]), weightBytes(t, paths[2])) {
		t.Error("different seeds wrote the same weights")
	}
}

// TestCtrlCWritesLastEpoch sends SIGINT to a training aelab during its second epoch.
func TestCtrlCWritesLastEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "AELAB_AS_MAIN=1",
		"AELAB_ARGS=train --hidden 32 --epochs 50 --train-limit 5000 --device cpu --out "+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(out); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint after two minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want code %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "training interrupted") || !strings.Contains(stderr.String(), out+" holds epoch") {
		t.Errorf("stderr does not say what was kept:\n%s", stderr.String())
	}
	m, err := models.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Record.History); n < 1 || n >= 50 {
		t.Errorf("checkpoint holds %d epochs", n)
	}
}

func TestTrainEvalReconstruct(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "dae.safetensors")
	if code, _, stderr := aelab(t, "train", "--kind", "dae", "--hidden", "32", "--epochs", "2", "--train-limit", "2000", "--out", ckpt); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	code, out, stderr := aelab(t, "eval", "--model", ckpt, "--json")
	if code != exitOK {
		t.Fatalf("eval: %s", stderr)
	}
	for _, field := range []string{"test_mse", "test_mse_noisy", "per_image_sse", "psnr_db", "jacobian_fro2", "n_test"} {
		if !strings.Contains(out, `"`+field+`":`) {
			t.Errorf("eval --json lacks %s: %s", field, out)
		}
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("eval --json printed more than one line: %s", out)
	}
	png := filepath.Join(dir, "r.png")
	if code, _, stderr := aelab(t, "reconstruct", "--model", ckpt, "--out", png); code != exitOK {
		t.Fatalf("reconstruct: %s", stderr)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("reconstruct wrote no PNG (%v)", err)
	}
	if code, out, _ := aelab(t, "info", "--model", ckpt); code != exitOK || !strings.Contains(out, "epoch   2") {
		t.Errorf("info: %s", out)
	}
}

// A walk's default snapshots follow --steps: 0, 1, 2, 5, 10, 20 for 20 steps.
func TestWalkSnapshotsFollowSteps(t *testing.T) {
	dir := t.TempDir()
	model, judge := tinyModel(t, dir), linearJudge(t, dir)
	for _, tc := range []struct {
		steps string
		want  []string
	}{
		{"20", []string{"0", "1", "2", "5", "10", "20"}},
		{"3", []string{"0", "1", "2", "3"}},
	} {
		t.Run(tc.steps, func(t *testing.T) {
			code, out, stderr := aelab(t, "walk", "--model", model, "--classifier", judge, "--steps", tc.steps, "--chains", "2",
				"--out", filepath.Join(dir, "walk.png"), "--json")
			if code != exitOK {
				t.Fatalf("walk --steps %s: %s", tc.steps, stderr)
			}
			var got struct{ Summary []struct{ Step int } }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("walk --json: %v", err)
			}
			var steps []string
			for _, s := range got.Summary {
				steps = append(steps, strconv.Itoa(s.Step))
			}
			if !slices.Equal(steps, tc.want) {
				t.Errorf("snapshots at steps %v, want %v", steps, tc.want)
			}
		})
	}
}

// On data without labels the studies run, unjudged, and say so.
func TestUnlabelledStudies(t *testing.T) {
	dir := t.TempDir()
	model, unlabelled := tinyModel(t, dir), unlabelledDir(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"interpolate", []string{"interpolate", "--model", model, "--indices", "1,2", "--out", filepath.Join(dir, "i.png")}, "not classified"},
		{"walk", []string{"walk", "--model", model, "--steps", "3", "--chains", "2", "--out", filepath.Join(dir, "w.png")}, "n/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := aelab(t, append(tc.args, "--data-dir", unlabelled)...)
			if code != exitOK || !strings.Contains(out, tc.want) || !strings.Contains(stderr, "has no labels") {
				t.Errorf("exit %d, stdout %q, stderr %q; want success saying %q, and the missing labels noted", code, out, stderr, tc.want)
			}
		})
	}
}

// Two epochs, then --resume to four, give the weights of four epochs at once.
func TestResumeGivesTheUninterruptedWeights(t *testing.T) {
	dir := t.TempDir()
	whole, halves := filepath.Join(dir, "whole.safetensors"), filepath.Join(dir, "halves.safetensors")
	common := []string{"--kind", "dae", "--hidden", "16", "--train-limit", "500", "--batch", "50"}
	for _, args := range [][]string{
		append([]string{"train", "--epochs", "4", "--out", whole}, common...),
		append([]string{"train", "--epochs", "2", "--out", halves}, common...),
		{"train", "--resume", halves, "--epochs", "4"},
	} {
		if code, _, stderr := aelab(t, args...); code != exitOK {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	a, err := models.Load(whole)
	if err != nil {
		t.Fatal(err)
	}
	b, err := models.Load(halves)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range a.AE.Graph().Params() {
		if !slices.Equal(p.Data, b.AE.Graph().Params()[i].Data) {
			t.Errorf("%s: 2 + 2 epochs differ from 4", p.Name)
		}
	}
	if len(b.Record.History) != 4 {
		t.Errorf("%d epochs recorded after resuming, want 4", len(b.Record.History))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--resume", halves, "--lr", "0.1"}, "--lr comes from"},
		{[]string{"pretrain", "--resume", halves}, "go on with aelab train --resume"},
	} {
		if code, _, stderr := aelab(t, tc.args...); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}
