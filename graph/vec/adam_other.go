//go:build !amd64

package vec

// Adam updates w in place from the gradient g and the moments m and v (the vector form is
// written for amd64 only).
func Adam(s AdamStep, w, g, m, v []float32) { adamGo(s, w, g, m, v) }
