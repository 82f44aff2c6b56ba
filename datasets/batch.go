package datasets

import (
	"fmt"
	"math/rand/v2"
)

// Batcher hands out shuffled mini-batches of a set, a new order every epoch.
// An epoch has Len()/size full batches; the few images left over are not used in that
// epoch (they differ from epoch to epoch, since the order does).
type Batcher struct {
	data  *Images
	size  int
	order []int
	rng   *rand.Rand
}

// NewBatcher returns a batcher of batches of size images over data, shuffled by rng.
func NewBatcher(data *Images, size int, rng *rand.Rand) (*Batcher, error) {
	if size <= 0 {
		return nil, fmt.Errorf("datasets: batch size %d must be positive", size)
	}
	if data.Len() < size {
		return nil, fmt.Errorf("datasets: %d images are fewer than one batch of %d", data.Len(), size)
	}
	order := make([]int, data.Len())
	for i := range order {
		order[i] = i
	}
	return &Batcher{data: data, size: size, order: order, rng: rng}, nil
}

// Steps returns the number of batches per epoch.
func (b *Batcher) Steps() int { return len(b.order) / b.size }

// Shuffle draws a new order for the next epoch.
func (b *Batcher) Shuffle() {
	b.rng.Shuffle(len(b.order), func(i, j int) { b.order[i], b.order[j] = b.order[j], b.order[i] })
}

// Gather copies batch step's images into pixels (size × D) and, when labels is not nil and
// the set has labels, their labels into labels (size).
func (b *Batcher) Gather(step int, pixels []float32, labels []uint8) {
	d := b.data.Dim()
	for k, idx := range b.order[step*b.size : (step+1)*b.size] {
		copy(pixels[k*d:(k+1)*d], b.data.Image(idx))
		if labels != nil && b.data.Labels != nil {
			labels[k] = b.data.Labels[idx]
		}
	}
}

// Indices returns the set indices of batch step's images (valid until the next Shuffle).
func (b *Batcher) Indices(step int) []int {
	return b.order[step*b.size : (step+1)*b.size]
}

// Order appends the epoch's order of set indices, its batches one after another
// (Steps × size values), to dst as int32, for a device that gathers batches itself.
func (b *Batcher) Order(dst []int32) []int32 {
	for _, i := range b.order[:b.Steps()*b.size] {
		dst = append(dst, int32(i))
	}
	return dst
}
