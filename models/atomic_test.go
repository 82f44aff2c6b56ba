package models

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHelperPartialWrite is not a test: TestKilledWriteKeepsPreviousCheckpoint runs it in a
// child process, which starts replacing a checkpoint and then waits to be killed.
func TestHelperPartialWrite(t *testing.T) {
	path := os.Getenv("AELAB_PARTIAL_WRITE")
	if path == "" {
		t.Skip("helper process of TestKilledWriteKeepsPreviousCheckpoint")
	}
	writeAtomically(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("partial "), 4096))
		fmt.Println("half-written")
		time.Sleep(time.Minute)
		return nil
	})
}

// TestKilledWriteKeepsPreviousCheckpoint kills a process halfway through replacing a
// checkpoint and checks that the previous checkpoint is intact.
func TestKilledWriteKeepsPreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	ae := newModel(t, AE, []int{10, 4}, 1)
	if err := Save(path, &Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPartialWrite$")
	cmd.Env = append(os.Environ(), "AELAB_PARTIAL_WRITE="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "half-written") {
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the checkpoint changed under a killed writer (err %v)", err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.AE.Params()[0].Data, ae.Params()[0].Data) {
		t.Error("the checkpoint loads different weights")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("want the checkpoint and the killed writer's temporary file, got %d entries", len(entries))
	}
}
