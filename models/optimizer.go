package models

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/aelab/aelab/graph"
)

// The optimiser's state is kept beside a checkpoint, not inside it, so the checkpoint stays
// exactly what PyTorch's strict load_state_dict expects.
const optimizerFormat = "aelab-optimizer"

// OptimizerRecord says which stage of training an optimiser state belongs to.
type OptimizerRecord struct {
	Format  string `json:"format"`
	Version int    `json:"format_version"`
	Stage   string `json:"stage"`  // "train", "level L" (pretraining) or "finetune"
	Epochs  int    `json:"epochs"` // the stage's epochs completed when it was saved
}

// OptimizerPath returns where the optimiser state of the checkpoint at path is kept:
// beside it, NAME.optimizer.safetensors for NAME.safetensors. The state of the epoch before
// is kept too, at PreviousOptimizerPath: the state is written before the checkpoint, so a
// run stopped between the two writes has a checkpoint one epoch behind the newest state.
func OptimizerPath(checkpoint string) string {
	return strings.TrimSuffix(checkpoint, ".safetensors") + ".optimizer.safetensors"
}

// PreviousOptimizerPath returns where the optimiser state of the epoch before is kept.
func PreviousOptimizerPath(checkpoint string) string {
	return strings.TrimSuffix(checkpoint, ".safetensors") + ".optimizer-previous.safetensors"
}

// SaveOptimizer writes Adam's state for params (in their order) atomically to path.
func SaveOptimizer(path string, rec OptimizerRecord, params []*graph.Param, s graph.AdamState) error {
	if err := s.Check(params); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	rec.Format, rec.Version = optimizerFormat, formatVersion
	js, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("models: encode the record of %s: %w", path, err)
	}
	tensors := map[string]tensorView{}
	for i, p := range params {
		tensors[p.Name+".exp_avg"] = newTensorView(s.M[i], len(p.Data))
		tensors[p.Name+".exp_avg_sq"] = newTensorView(s.V[i], len(p.Data))
	}
	meta := map[string]string{keyFormat: optimizerFormat, keyVersion: strconv.Itoa(formatVersion), keyRecord: string(js),
		"steps": strconv.Itoa(s.Steps)}
	return writeAtomically(path, func(w io.Writer) error {
		return safetensors.SerializeToWriter(tensors, meta, w)
	})
}

// LoadOptimizer reads the optimiser state SaveOptimizer wrote for params.
func LoadOptimizer(path string, params []*graph.Param) (OptimizerRecord, graph.AdamState, error) {
	var rec OptimizerRecord
	buf, err := os.ReadFile(path)
	if err != nil {
		return rec, graph.AdamState{}, fmt.Errorf("models: %w", err)
	}
	if err := readHeader(path, buf, optimizerFormat, &rec); err != nil {
		return rec, graph.AdamState{}, err
	}
	bad := func(f string, args ...any) error {
		return &CheckpointError{File: path, Problem: fmt.Sprintf(f, args...)}
	}
	_, header, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return rec, graph.AdamState{}, bad("not a valid safetensors file (%v)", err)
	}
	steps, err := strconv.Atoi(header.Metadata()["steps"])
	if err != nil || steps < 0 {
		return rec, graph.AdamState{}, bad("no step count")
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return rec, graph.AdamState{}, bad("not a valid safetensors file (%v)", err)
	}
	if got, want := len(st.Names()), 2*len(params); got != want {
		return rec, graph.AdamState{}, bad("%d tensors, the model's optimiser needs %d", got, want)
	}
	s := graph.AdamState{Steps: steps}
	for _, p := range params {
		m, err := readTensor(st, p.Name+".exp_avg", len(p.Data))
		if err != nil {
			return rec, graph.AdamState{}, bad("%v", err)
		}
		v, err := readTensor(st, p.Name+".exp_avg_sq", len(p.Data))
		if err != nil {
			return rec, graph.AdamState{}, bad("%v", err)
		}
		s.M, s.V = append(s.M, m), append(s.V, v)
	}
	return rec, s, nil
}
