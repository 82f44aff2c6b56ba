package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models"
	"github.com/aelab/aelab/models/experiment"
)

// The end-of-experiment table fits 100 columns, with the seed preset's longest names.
func TestTerminalTableFits100Columns(t *testing.T) {
	probe := 0.9123
	var rows []experiment.Row
	for _, name := range []string{"ae", "deep-dae-pretrained", "deep-cae-finetuned"} {
		rows = append(rows, experiment.Row{Name: name, Procedure: "pretrain+finetune", Epochs: 15, TrainSeconds: 1234.5,
			TestMSE: 0.00367, TestMSENoisy: 0.01234, PSNR: 24.35, ProbeAccuracy: &probe, JacobianFro2: 12345.6})
	}
	var b bytes.Buffer
	printRows(&b, rows)
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("%d columns: %q", n, line)
		}
	}
}

// The progress bar's first frame shows no rate measured over the first step alone.
func TestFirstProgressFrameHasNoAbsurdRate(t *testing.T) {
	var b bytes.Buffer
	p := newTrainProgress(&b, 32)
	p.tty = true
	h := p.hooks(nil)
	h.EpochStart(1, 1, 1000)
	for step := 1; step <= 20; step++ {
		h.Step(step, 0.1)
	}
	for _, m := range regexp.MustCompile(`([0-9,]+) img/s`).FindAllStringSubmatch(b.String(), -1) {
		if rate, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", "")); rate > 0 {
			t.Errorf("a frame drawn within the first steps shows %s img/s", m[1])
		}
	}
	h.EpochEnd(models.EpochStats{Epoch: 1})
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 epochs"}, {1, "1 epoch"}, {4, "4 epochs"}} {
		if got := plural(tc.n, "epoch"); got != tc.want {
			t.Errorf("plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// bench --json numbers epochs as its text does, from 1.
func TestBenchJSONCountsEpochsFromOne(t *testing.T) {
	code, out, stderr := aelab(t, "bench", "--epochs", "2", "--batch", "256", "--device", "cpu", "--json")
	if code != exitOK {
		t.Fatalf("bench: %s", stderr)
	}
	var epochs []int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e benchEpoch
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		epochs = append(epochs, e.Epoch)
	}
	if !slices.Equal(epochs, []int{1, 2}) {
		t.Errorf("epochs %v, want [1 2]", epochs)
	}
}

// bench --profile times every operation of the step after the epochs: the 784-128
// autoencoder's five products among them, and their sum beside the step's own time.
func TestBenchProfile(t *testing.T) {
	code, out, stderr := aelab(t, "bench", "--epochs", "1", "--batch", "256", "--device", "cpu", "--profile", "--json")
	if code != exitOK {
		t.Fatalf("bench --profile: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var prof struct {
		Ops  []opProfile `json:"profile"`
		Sum  float64     `json:"sum_microseconds"`
		Step float64     `json:"step_microseconds"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &prof); err != nil {
		t.Fatalf("%q: %v", lines[len(lines)-1], err)
	}
	gemms, shares := 0, 0.0
	for _, o := range prof.Ops {
		if strings.HasPrefix(o.Op, "gemm") {
			gemms++
		}
		shares += o.Share
	}
	if gemms != 5 || prof.Sum <= 0 || prof.Step <= 0 || math.Abs(shares-1) > 1e-6 {
		t.Errorf("%d products (want 5), sum %g µs, step %g µs, shares adding to %g: %+v", gemms, prof.Sum, prof.Step, shares, prof)
	}
}

// samples score reads an IDX file and prints the judge's figures, every field in --json.
func TestSamplesScore(t *testing.T) {
	dir := t.TempDir()
	set, err := datasets.Load(datasets.Options{})
	if err != nil {
		t.Skip(err)
	}
	var b bytes.Buffer
	if err := datasets.WriteImages(&b, set.Train.Slice(0, 200)); err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(dir, "s-idx3-ubyte")
	if err := os.WriteFile(idx, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	judge := filepath.Join(dir, "judge.safetensors")
	if err := models.SaveClassifier(judge, models.NewClassifier([]int{784, 16, 11}, 1)); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := aelab(t, "samples", "score", "--idx", idx, "--classifier", judge, "--json", "--device", "cpu")
	if code != exitOK {
		t.Fatalf("samples score: %s", stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	for _, field := range []string{"parzen_ll", "parzen_se", "parzen_sigma", "classes_covered", "class_entropy", "plausible_share", "near_copy_share", "fd", "fd_floor", "n", "class_counts"} {
		if _, ok := got[field]; !ok {
			t.Errorf("no %s in %s", field, out)
		}
	}
	if got["n"] != float64(200) {
		t.Errorf("n = %v, want 200", got["n"])
	}
}

// One epoch is said "1 epoch" wherever aelab speaks of it.
func TestOneEpochIsSingular(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	code, stdout, stderr := aelab(t, "train", "--hidden", "8", "--epochs", "1", "--train-limit", "200", "--batch", "50", "--device", "cpu", "--out", out)
	if code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	_, info, _ := aelab(t, "info", "--model", out)
	for _, text := range []string{stdout, stderr, info} {
		if strings.Contains(text, "1 epochs") || !strings.Contains(text, "1 epoch") {
			t.Errorf("%q: want \"1 epoch\", never \"1 epochs\"", text)
		}
	}
}
