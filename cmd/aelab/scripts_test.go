package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// stubAelab writes an aelab that prints its arguments, and returns its folder.
func stubAelab(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "aelab"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The Slurm array script turns its task index and the array's size into --shard K/N, and
// with REPORT set builds the report.
func TestSlurmScriptPassesItsShard(t *testing.T) {
	script := filepath.Join("..", "..", "scripts", "slurm-sweep.sh")
	stub := stubAelab(t)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"array task", []string{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=5"}, "experiment --config s.yaml --out /runs/s --device auto --shard 2/5"},
		{"report", []string{"REPORT=1"}, "experiment --config s.yaml --out /runs/s --device auto --report-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("bash", script, "s.yaml", "/runs/s")
			cmd.Env = append(append(os.Environ(), "AELAB="+filepath.Join(stub, "aelab")), tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != tc.want {
				t.Errorf("%v: %q, want %q", err, out, tc.want)
			}
		})
	}
	if out, err := exec.Command("bash", script, "s.yaml", "/runs/s").CombinedOutput(); err == nil {
		t.Errorf("outside a job array it ran: %s", out)
	}
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "#SBATCH --job-name=") {
		t.Error("the script has no #SBATCH directives")
	}
}

// The Kubernetes manifest is an Indexed Job whose pods run --shard INDEX/COMPLETIONS.
func TestKubernetesManifestIsAnIndexedJob(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "scripts", "k8s-sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string `yaml:"command"`
						Args    []string `yaml:"args"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(text, &job); err != nil {
		t.Fatalf("not valid YAML: %v", err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions < 1 {
		t.Fatalf("not an Indexed Job: %+v", job)
	}
	cs := job.Spec.Template.Spec.Containers
	if len(cs) != 1 || len(cs[0].Command) != 2 || cs[0].Command[0] != "/bin/sh" || len(cs[0].Args) != 1 {
		t.Fatalf("want one container running its args with /bin/sh -c: %+v", cs)
	}
	// Run the pod's command as Kubernetes would for index 3, aelab a stub.
	cmd := exec.Command(cs[0].Command[0], cs[0].Command[1], cs[0].Args[0])
	cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX=3", "PATH="+stubAelab(t)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	want := "--shard 3/" + strconv.Itoa(job.Spec.Completions)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), want) {
		t.Errorf("pod 3 ran %q (%v), want it to end with %q", out, err, want)
	}
}
