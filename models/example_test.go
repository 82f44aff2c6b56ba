package models_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/models"
)

// Save a fresh DAE and load it back: the record names what it is, and the weights are
// stored under PyTorch's names.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "aelab-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ae, err := models.New(models.Spec{Kind: models.DAE, Layers: []int{784, 128}}, models.InitRand(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, "dae.safetensors")
	if err := models.Save(path, &models.Model{AE: ae}); err != nil {
		fmt.Println(err)
		return
	}
	m, err := models.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.AE.Spec.Kind, m.AE.Spec, m.AE.NumParams())
	for _, p := range m.AE.Params()[:2] {
		fmt.Println(p.Name, p.Shape)
	}
	_, err = models.Load(filepath.Join(dir, "missing.safetensors"))
	fmt.Println(err != nil)
	// Output:
	// dae 784-128-784 201616
	// encoder.0.weight [784 128]
	// encoder.0.bias [128]
	// true
}
