package models

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/nlpodyssey/safetensors"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

// Version is aelab's version, recorded in every checkpoint.
const Version = "0.1.0"

// Checkpoint file identity, in the safetensors header's __metadata__.
const (
	formatName    = "aelab-checkpoint"
	formatVersion = 1
	keyFormat     = "format"
	keyVersion    = "format_version"
	keyRecord     = "aelab"
)

// maxCheckpointBytes bounds the file Load reads.
const maxCheckpointBytes = 4 << 30

// TrainingSettings records how a model was trained.
type TrainingSettings struct {
	Procedure string  `json:"procedure"` // ProcedureTrain or ProcedurePretrain
	Epochs    int     `json:"epochs"`    // per level, when pretraining
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	// WeightDecay is AdamW's decoupled weight decay (graph.Adam); 0: none. LRSchedule and
	// Warmup vary the learning rate over the epochs (train.Schedule); empty: constant.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	LRSchedule  string  `json:"lr_schedule,omitempty"`
	Warmup      int     `json:"warmup,omitempty"`
	Walkback    int     `json:"walkback,omitempty"`  // rounds of walkback training (train.Config)
	Optimizer   string  `json:"optimizer,omitempty"` // "sgd", or "" for Adam
	Momentum    float64 `json:"momentum,omitempty"`
	Seed        uint64  `json:"seed"`
	Device      string  `json:"device"`
	TrainLimit  int     `json:"train_limit,omitempty"`
	Seconds     float64 `json:"seconds"` // wall time of the training steps
	// Patience and Keep are the early stopping asked for; KeptEpoch the epoch whose weights
	// training ended with, when not its last (0).
	Patience     int    `json:"patience,omitempty"`
	Keep         string `json:"keep,omitempty"`
	KeptEpoch    int    `json:"kept_epoch,omitempty"`
	StoppedEarly bool   `json:"stopped_early,omitempty"` // the patience ran out before the epochs asked for
}

// DataInfo records the data a model was trained on.
type DataInfo struct {
	Name        string          `json:"name"`
	Checksum    string          `json:"checksum"` // datasets.Set.Checksum
	Files       []datasets.File `json:"files"`
	TrainImages int             `json:"train_images"`
}

// NewDataInfo describes set.
func NewDataInfo(set *datasets.Set) DataInfo {
	return DataInfo{Name: set.Name, Checksum: set.Checksum(), Files: set.Files, TrainImages: set.Train.Len()}
}

// FinetuneRecord records the fine-tuning of a pretrained stack.
type FinetuneRecord struct {
	Objective    string       `json:"objective"` // "reconstruct" or "classify"
	Noise        string       `json:"noise"`
	Epochs       int          `json:"epochs"`
	Batch        int          `json:"batch"`
	LR           float64      `json:"lr"`
	Seed         uint64       `json:"seed"`
	Device       string       `json:"device"`
	Seconds      float64      `json:"seconds"`
	History      []EpochStats `json:"history"`
	Patience     int          `json:"patience,omitempty"`
	Keep         string       `json:"keep,omitempty"`
	KeptEpoch    int          `json:"kept_epoch,omitempty"` // when not the last (0)
	StoppedEarly bool         `json:"stopped_early,omitempty"`
	Dropout      float64      `json:"dropout,omitempty"` // share of hidden units dropped a step (classify)
	Refit        bool         `json:"refit,omitempty"`   // trained on the training and validation images together
	WeightDecay  float64      `json:"weight_decay,omitempty"`
	LRSchedule   string       `json:"lr_schedule,omitempty"`
	Warmup       int          `json:"warmup,omitempty"`
	Walkback     int          `json:"walkback,omitempty"`
	Optimizer    string       `json:"optimizer,omitempty"`
	Momentum     float64      `json:"momentum,omitempty"`
}

// Fine-tuning objectives: what a pretrained stack is fine-tuned for.
const (
	ObjectiveReconstruct = "reconstruct"
	ObjectiveClassify    = "classify"
)

// Procedures: how a model is made.
const (
	ProcedureTrain    = "train"             // end to end from random weights
	ProcedurePretrain = "pretrain"          // greedily, level by level
	ProcedureFinetune = "pretrain+finetune" // greedily, then end to end on reconstruction
	ProcedureClassify = "pretrain+classify" // greedily, then encoder and softmax on the labels
)

// Record is everything a checkpoint holds besides the weights.
type Record struct {
	Format  string `json:"format"`
	Version int    `json:"format_version"`
	Aelab   string `json:"aelab_version"`
	// ConfigHash identifies the configuration that made the model, when a tool (aelab
	// experiment) needs to recognise it.
	ConfigHash string           `json:"config_hash,omitempty"`
	Spec       Spec             `json:"spec"`
	Training   TrainingSettings `json:"training"`
	History    []EpochStats     `json:"history"`            // the epochs of end-to-end training
	Levels     []LevelRecord    `json:"levels,omitempty"`   // each pretraining level's epochs
	Finetune   *FinetuneRecord  `json:"finetune,omitempty"` // the fine-tuning, if any
	Data       DataInfo         `json:"data"`
}

// Procedure names how the model was made: one of the Procedure constants.
func (r Record) Procedure() string {
	switch {
	case r.Finetune != nil && r.Finetune.Objective == ObjectiveClassify:
		return ProcedureClassify
	case r.Finetune != nil:
		return ProcedureFinetune
	}
	return r.Training.Procedure
}

// Epochs returns the number of epochs the model was trained for, all stages together.
func (r Record) Epochs() int {
	n := len(r.History)
	for _, l := range r.Levels {
		n += len(l.History)
	}
	if r.Finetune != nil {
		n += len(r.Finetune.History)
	}
	return n
}

// Seconds returns the wall time of all training stages.
func (r Record) Seconds() float64 {
	s := r.Training.Seconds
	if r.Finetune != nil {
		s += r.Finetune.Seconds
	}
	return s
}

// Model is what a checkpoint holds: an autoencoder and its record.
type Model struct {
	AE     *Autoencoder
	Record Record
}

// CheckpointError reports a file that is not a readable aelab checkpoint.
type CheckpointError struct {
	File    string
	Problem string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("models: %s: %s", e.File, e.Problem)
}

// Save writes m to path atomically: a temporary file in the same folder, then a rename, so
// a reader (or a crash) never sees a half-written checkpoint.
func Save(path string, m *Model) error {
	rec := m.Record
	rec.Format, rec.Version, rec.Aelab, rec.Spec = formatName, formatVersion, Version, m.AE.Spec
	layers := m.AE.Graph().Layers()
	if m.AE.Head != nil {
		layers = append(layers, m.AE.Head)
	}
	return saveLayers(path, formatName, rec, layers)
}

// saveLayers writes layers (weights as Out×In, as torch.nn.Linear) and a JSON record under
// the format name into a safetensors file.
func saveLayers(path, format string, record any, layers []*graph.Dense) error {
	js, err := json.Marshal(record)
	if err != nil {
		return fmt.Errorf("models: encode the record of %s: %w", path, err)
	}
	tensors := map[string]tensorView{}
	for _, l := range layers {
		tensors[l.W.Name] = newTensorView(transpose(l.W.Data, l.In(), l.Out()), l.Out(), l.In())
		tensors[l.B.Name] = newTensorView(l.B.Data, l.Out())
	}
	meta := map[string]string{keyFormat: format, keyVersion: strconv.Itoa(formatVersion), keyRecord: string(js)}
	return writeAtomically(path, func(w io.Writer) error {
		return safetensors.SerializeToWriter(tensors, meta, w)
	})
}

// writeAtomically creates path with what write writes: renameio writes a temporary file in
// the same folder and renames it over path only once it is complete and synced, so a reader
// (or a crash) never sees a half-written file.
func writeAtomically(path string, write func(io.Writer) error) error {
	pf, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644), renameio.WithTempDir(filepath.Dir(path)))
	if err != nil {
		return fmt.Errorf("models: write %s: %w", path, err)
	}
	defer pf.Cleanup()
	if err := write(pf); err != nil {
		return fmt.Errorf("models: write %s: %w", path, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("models: write %s: %w", path, err)
	}
	return nil
}

// Load reads a checkpoint written by Save and checks every tensor against the spec.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", path, err)
	}
	if len(buf) > maxCheckpointBytes {
		return nil, &CheckpointError{path, "larger than any aelab checkpoint"}
	}
	return decode(path, buf)
}

func decode(path string, buf []byte) (*Model, error) {
	bad := func(format string, args ...any) error {
		return &CheckpointError{File: path, Problem: fmt.Sprintf(format, args...)}
	}
	var rec Record
	if err := readHeader(path, buf, formatName, &rec); err != nil {
		return nil, err
	}
	spec := rec.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, bad("invalid spec: %v", err)
	}
	// The weights must fit in the file before any are allocated.
	if n := spec.paramCount(); n < 0 || 4*n > len(buf) {
		return nil, bad("the spec %s needs more weights than the file holds", spec)
	}
	ae, err := New(spec, NewRand(0, 0))
	if err != nil {
		return nil, bad("%v", err)
	}
	layers := ae.Graph().Layers()
	if hasTensor(buf, headName+".weight") {
		ae.Head = ae.NewHead(NewRand(0, 0))
		layers = append(layers, ae.Head)
	}
	if err := readLayers(path, buf, layers); err != nil {
		return nil, err
	}
	return &Model{AE: ae, Record: rec}, nil
}

// readHeader checks that buf is a safetensors file of the given format and version and
// decodes its record.
func readHeader(path string, buf []byte, format string, record any) error {
	bad := func(f string, args ...any) error {
		return &CheckpointError{File: path, Problem: fmt.Sprintf(f, args...)}
	}
	if len(buf) < 8 {
		return bad("not an aelab checkpoint (%d bytes, too short for a safetensors header)", len(buf))
	}
	if n := binary.LittleEndian.Uint64(buf); n > uint64(len(buf)-8) {
		return bad("cut short or not a safetensors file (its header claims %d bytes, the file has %d)", n, len(buf)-8)
	}
	_, header, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return bad("not a valid safetensors file (%v); it may be cut short", err)
	}
	meta := header.Metadata()
	switch got := meta[keyFormat]; {
	case got == "":
		return bad("a safetensors file, but not one of aelab's (no %q metadata)", format)
	case got != format:
		return bad("an aelab %s, not an aelab %s", strings.TrimPrefix(got, "aelab-"), strings.TrimPrefix(format, "aelab-"))
	}
	if v, err := strconv.Atoi(meta[keyVersion]); err != nil || v != formatVersion {
		return bad("checkpoint format version %q, this aelab reads version %d", meta[keyVersion], formatVersion)
	}
	if err := json.Unmarshal([]byte(meta[keyRecord]), record); err != nil {
		return bad("unreadable record: %v", err)
	}
	return nil
}

// hasTensor reports whether a valid safetensors buffer holds a tensor of that name.
func hasTensor(buf []byte, name string) bool {
	_, header, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return false
	}
	_, ok := header.Tensors()[name]
	return ok
}

// readLayers fills layers from the file's tensors; the file must hold exactly those.
func readLayers(path string, buf []byte, layers []*graph.Dense) error {
	bad := func(f string, args ...any) error {
		return &CheckpointError{File: path, Problem: fmt.Sprintf(f, args...)}
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return bad("not a valid safetensors file (%v)", err)
	}
	if got, want := len(st.Names()), 2*len(layers); got != want {
		return bad("%d tensors, the model needs %d", got, want)
	}
	for _, l := range layers {
		w, err := readTensor(st, l.W.Name, l.Out(), l.In())
		if err != nil {
			return bad("%v", err)
		}
		copy(l.W.Data, transpose(w, l.Out(), l.In()))
		b, err := readTensor(st, l.B.Name, l.Out())
		if err != nil {
			return bad("%v", err)
		}
		copy(l.B.Data, b)
	}
	return nil
}

// readTensor returns the float32 values of tensor name, checking its dtype and shape.
func readTensor(st safetensors.SafeTensors, name string, shape ...int) ([]float32, error) {
	tv, ok := st.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s is missing", name)
	}
	if tv.DType() != safetensors.F32 {
		return nil, fmt.Errorf("tensor %s is %s, want F32", name, tv.DType())
	}
	got := tv.Shape()
	same := len(got) == len(shape)
	for i := 0; same && i < len(shape); i++ {
		same = got[i] == uint64(shape[i])
	}
	if !same {
		return nil, fmt.Errorf("tensor %s has shape %v, the spec needs %v", name, got, shape)
	}
	raw := tv.Data()
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("tensor %s holds %g at index %d", name, v, i)
		}
	}
	return out, nil
}

// transpose returns the cols×rows transpose of a rows×cols matrix.
func transpose(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for r := range rows {
		for c := range cols {
			t[c*rows+r] = a[r*cols+c]
		}
	}
	return t
}

// tensorView is a float32 tensor as safetensors serialises it (little-endian).
type tensorView struct {
	shape []uint64
	data  []byte
}

func newTensorView(values []float32, shape ...int) tensorView {
	v := tensorView{data: make([]byte, 4*len(values))}
	for _, s := range shape {
		v.shape = append(v.shape, uint64(s))
	}
	for i, x := range values {
		binary.LittleEndian.PutUint32(v.data[4*i:], math.Float32bits(x))
	}
	return v
}

func (v tensorView) DType() safetensors.DType { return safetensors.F32 }
func (v tensorView) Shape() []uint64          { return v.shape }
func (v tensorView) Data() []byte             { return v.data }
func (v tensorView) DataLen() uint64          { return uint64(len(v.data)) }
