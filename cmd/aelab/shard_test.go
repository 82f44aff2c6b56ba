package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// sweepConfig sweeps 3 noise levels × 2 code sizes × 2 seeds on the quick preset's data (the
// first 10,000 training images).
const sweepConfig = `name: sweep
train_limit: 10000
defaults: {batch: 100}
runs:
  - {name: dae, kind: dae, hidden: [8], noise: "gaussian:0.4", epochs: 2}
grid: {noise: ["gaussian:0.2", "gaussian:0.4", "gaussian:0.8"], hidden: [[8], [16]]}
seeds: [1, 2]
`

// aelabProcess starts this test binary as aelab in a process of its own.
func aelabProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "AELAB_AS_MAIN=1", "AELAB_ARGS="+strings.Join(args, " "))
	return cmd
}

// metricsWithoutTimes reads metrics.json with the training times left out.
func metricsWithoutTimes(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		delete(r, "train_seconds")
	}
	return rows
}

// TestShardsMakeTheSweepOneProcessMakes runs a sweep as 3 shards in 3 processes at once into
// one folder, kills one shard mid-run and starts it again, builds the report with
// --report-only, and gets the metrics one process running it all gets.
func TestShardsMakeTheSweepOneProcessMakes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 small models twice")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(config, []byte(sweepConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, shared := filepath.Join(dir, "whole"), filepath.Join(dir, "shared")
	common := []string{"--config", config, "--device", "cpu"}
	if code, _, stderr := aelab(t, append([]string{"experiment", "--out", whole}, common...)...); code != exitOK {
		t.Fatalf("one process: %s", stderr)
	}

	run := func(k int, killAfterAnEpoch bool) error {
		cmd := aelabProcess(append([]string{"experiment", "--out", shared, "--shard", fmt.Sprintf("%d/3", k)}, common...)...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		var log strings.Builder
		scan := bufio.NewScanner(stderr)
		for scan.Scan() {
			log.WriteString(scan.Text() + "\n")
			if killAfterAnEpoch && strings.Contains(scan.Text(), " epoch 2 ") {
				cmd.Process.Kill()
				cmd.Wait()
				return nil
			}
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("shard %d/3: %v\n%s", k, err, log.String())
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for k := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); errs[k] = run(k, k == 0) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The killed shard lacks runs: the report says which.
	code, out, stderr := aelab(t, append([]string{"experiment", "--out", shared, "--report-only"}, common...)...)
	if code != exitOK {
		t.Fatalf("report-only: %s", stderr)
	}
	if !strings.Contains(out, "not finished yet") {
		t.Log("the killed shard had finished its runs before it was killed")
	}
	if err := run(0, false); err != nil { // started again, it finishes what it left
		t.Fatal(err)
	}
	if code, out, stderr = aelab(t, append([]string{"experiment", "--out", shared, "--report-only"}, common...)...); code != exitOK || strings.Contains(out, "not finished yet") {
		t.Fatalf("report-only after every shard: exit %d, %s%s", code, out, stderr)
	}
	got, want := metricsWithoutTimes(t, shared), metricsWithoutTimes(t, whole)
	if len(want) != 12 || !reflect.DeepEqual(got, want) {
		t.Errorf("3 shards made\n%v\none process made\n%v", got, want)
	}
}
