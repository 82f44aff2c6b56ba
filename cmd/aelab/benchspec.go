package main

import (
	"fmt"

	"github.com/aelab/aelab/models"

	"github.com/aelab/aelab/graph"
)

// benchArchs lists the architectures `aelab bench` times, as named there.
func benchArchs() []string { return []string{"784-128", "784-512-128", "hinton"} }

// benchSpec returns the spec of a benchmark architecture: 784-128 and 784-512-128 have
// ReLU hidden units and code; hinton is Hinton & Salakhutdinov's 784-1000-500-250-30 with
// logistic hidden units and a linear code. All reconstruct through a sigmoid with MSE, as
// the PyTorch reference (scripts/torch_ref.py) does.
func benchSpec(arch string, kind models.Kind) (models.Spec, error) {
	spec := models.Spec{Kind: kind}
	switch arch {
	case "784-128":
		spec.Layers = []int{784, 128}
	case "784-512-128":
		spec.Layers = []int{784, 512, 128}
	case "hinton":
		spec.Layers = []int{784, 1000, 500, 250, 30}
		spec.Activation, spec.Code = graph.Sigmoid, graph.Linear
	default:
		return models.Spec{}, fmt.Errorf("models: unknown benchmark architecture %q (want 784-128, 784-512-128 or hinton)", arch)
	}
	return spec.WithDefaults(), nil
}
