// Package modeltest holds what the tests of aelab's model packages share: MNIST, loaded
// once per test binary, and fresh models.
//
//	trainSet, val := modeltest.SmallMNIST(t, 600, 100)
//	ae := modeltest.NewModel(t, models.DAE, []int{784, 16}, 1)
package modeltest

import (
	"sync"
	"testing"

	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models"
)

// mnist loads the default MNIST once for a test binary.
var mnist = sync.OnceValues(func() (*datasets.Set, error) { return datasets.Load(datasets.Options{}) })

// MNIST returns the default data set.
func MNIST(t testing.TB) *datasets.Set {
	t.Helper()
	set, err := mnist()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// SmallMNIST returns the first nTrain training and nVal validation images.
func SmallMNIST(t testing.TB, nTrain, nVal int) (trainSet, val *datasets.Images) {
	t.Helper()
	set := MNIST(t)
	return set.Train.Slice(0, nTrain), set.Validation.Slice(0, nVal)
}

// NewModel returns a fresh autoencoder of kind and layer sizes, its weights drawn from seed.
func NewModel(t testing.TB, kind models.Kind, layers []int, seed uint64) *models.Autoencoder {
	t.Helper()
	ae, err := models.New(models.Spec{Kind: kind, Layers: layers}, models.InitRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return ae
}
