package models

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/graph"
)

func newModel(t *testing.T, kind Kind, layers []int, seed uint64) *Autoencoder {
	t.Helper()
	ae, err := New(Spec{Kind: kind, Layers: layers}, InitRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

func TestCheckpointRoundTrip(t *testing.T) {
	set, err := datasets.Load(datasets.Options{})
	if err != nil {
		t.Skip(err)
	}
	val := set.Validation.Slice(0, 100)
	hist := []EpochStats{{Epoch: 1, TrainLoss: 0.07, ValLoss: 0.06, Seconds: 1.5}}
	for _, layers := range [][]int{{784, 24}, {784, 40, 12}} {
		ae := newModel(t, CAE, layers, 3)
		path := filepath.Join(t.TempDir(), "m.safetensors")
		rec := Record{Training: TrainingSettings{Procedure: "train", Epochs: 1, Batch: 30}, History: hist}
		if err := Save(path, &Model{AE: ae, Record: rec}); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.AE.Spec.String() != ae.Spec.String() || got.AE.Spec.Lambda != ae.Spec.Lambda || got.Record.History[0] != hist[0] {
			t.Errorf("record changed: %+v", got.Record)
		}
		for i, p := range got.AE.Params() {
			if !slices.Equal(p.Data, ae.Params()[i].Data) || p.Name != ae.Params()[i].Name {
				t.Fatalf("parameter %s changed in the round trip", p.Name)
			}
		}
		want, err := Reconstruct(context.Background(), graph.Tape{}, ae.Graph(), val)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Reconstruct(context.Background(), graph.Tape{}, got.AE.Graph(), val)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(want, again) {
			t.Error("the loaded model reconstructs differently")
		}
	}
}

// TestCheckpointLayout checks the PyTorch names and the Out×In weight layout.
func TestCheckpointLayout(t *testing.T) {
	ae := newModel(t, AE, []int{6, 4, 3}, 1)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, &Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := string(buf[8 : 8+binary.LittleEndian.Uint64(buf)])
	for _, want := range []string{
		`"encoder.0.weight":{"dtype":"F32","shape":[4,6]`, `"encoder.2.weight":{"dtype":"F32","shape":[3,4]`,
		`"decoder.0.weight":{"dtype":"F32","shape":[4,3]`, `"decoder.2.weight":{"dtype":"F32","shape":[6,4]`,
		`"decoder.2.bias":{"dtype":"F32","shape":[6]`,
	} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %s:\n%s", want, header)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	ae := newModel(t, AE, []int{8, 3}, 1)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := Save(good, &Model{AE: ae}); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(good)
	badVersion := bytes.Replace(valid, []byte(`"format_version":"1"`), []byte(`"format_version":"9"`), 1)
	wrongShape := bytes.Replace(valid, []byte(`\"layers\":[8,3]`), []byte(`\"layers\":[8,2]`), 1)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short for a safetensors header"},
		{"text", []byte("this is not a checkpoint at all\n"), "cut short or not a safetensors file"},
		{"cut short", valid[:len(valid)-10], "not a valid safetensors file"},
		{"header cut", valid[:40], "cut short or not a safetensors file"},
		{"other version", badVersion, `format version "9"`},
		{"wrong shape", wrongShape, "needs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			os.WriteFile(path, tc.data, 0o644)
			_, err := Load(path)
			var ce *CheckpointError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want a *CheckpointError naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	ae, err := New(Spec{Kind: AE, Layers: []int{5, 2}}, InitRand(1))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "seed.safetensors")
	if err := Save(path, &Model{AE: ae}); err != nil {
		f.Fatal(err)
	}
	valid, _ := os.ReadFile(path)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("not a checkpoint"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode("fuzz", data)
		if err == nil && m.AE.Spec.Validate() != nil {
			t.Fatal("decoded a model with an invalid spec")
		}
	})
}

func TestLevelActivations(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want []graph.Activation // the decoder's, top-down
	}{
		{Spec{Kind: AE, Layers: []int{784, 512, 128}}, []graph.Activation{graph.ReLU, graph.Sigmoid}},
		{Spec{Kind: AE, Layers: []int{784, 1000, 500, 250, 30}, Activation: graph.Sigmoid, Code: graph.Linear},
			[]graph.Activation{graph.Sigmoid, graph.Sigmoid, graph.Sigmoid, graph.Sigmoid}},
		{Spec{Kind: AE, Layers: []int{784, 64, 32, 16}, Activation: graph.Tanh, Code: graph.Linear, Output: graph.Linear},
			[]graph.Activation{graph.Tanh, graph.Tanh, graph.Linear}},
	} {
		ae, err := New(tc.spec, InitRand(1))
		if err != nil {
			t.Fatal(err)
		}
		var got []graph.Activation
		for _, l := range ae.Decoder {
			got = append(got, l.Act)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: decoder activations %v, want %v", ae.Spec, got, tc.want)
		}
		if top := ae.Encoder[len(ae.Encoder)-1].Act; top != ae.Spec.Code {
			t.Errorf("%s: top code activation %s, want %s", ae.Spec, top, ae.Spec.Code)
		}
	}
}
