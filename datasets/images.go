package datasets

import "math/rand/v2"

// Images is a set of equally sized grey-scale images with optional labels.
type Images struct {
	Rows, Cols int
	Pixels     []float32 // N × D row-major, D = Rows*Cols, values in [0,1]
	Labels     []uint8   // N class indices, or nil when the set has no labels
}

// Dim returns the number of pixels per image (D).
func (im *Images) Dim() int { return im.Rows * im.Cols }

// Len returns the number of images (N).
func (im *Images) Len() int {
	if im == nil || im.Dim() == 0 {
		return 0
	}
	return len(im.Pixels) / im.Dim()
}

// Image returns image i's pixels; the slice shares memory with im.
func (im *Images) Image(i int) []float32 {
	d := im.Dim()
	return im.Pixels[i*d : (i+1)*d]
}

// Slice returns images [lo, hi) sharing memory with im.
func (im *Images) Slice(lo, hi int) *Images {
	d := im.Dim()
	out := &Images{Rows: im.Rows, Cols: im.Cols, Pixels: im.Pixels[lo*d : hi*d]}
	if im.Labels != nil {
		out.Labels = im.Labels[lo:hi]
	}
	return out
}

// ClassCounts returns how many images carry each label (all zero when unlabelled).
func (im *Images) ClassCounts() [NumClasses]int {
	var c [NumClasses]int
	for _, l := range im.Labels {
		c[l]++
	}
	return c
}

// PickByClass returns n images (copies) whose labels cycle through 0, 1, …, 9, each drawn
// at random by rng from the images of its class; unlabelled sets give n random images.
func PickByClass(im *Images, n int, rng *rand.Rand) *Images {
	byClass := make([][]int, NumClasses)
	for i, l := range im.Labels {
		byClass[l] = append(byClass[l], i)
	}
	out := &Images{Rows: im.Rows, Cols: im.Cols}
	var labels []uint8
	for k := 0; len(labels) < n && k < n*NumClasses; k++ {
		var idx int
		if im.Labels == nil {
			idx = rng.IntN(im.Len())
		} else {
			class := byClass[k%NumClasses]
			if len(class) == 0 {
				continue
			}
			idx = class[rng.IntN(len(class))]
		}
		out.Pixels = append(out.Pixels, im.Image(idx)...)
		if im.Labels != nil {
			labels = append(labels, im.Labels[idx])
		} else {
			labels = append(labels, 0)
		}
	}
	if im.Labels != nil {
		out.Labels = labels
	}
	return out
}
