//go:build !amd64

package vec

// Sigmoid writes the logistic function of x into o (as long as x).
func Sigmoid(o, x []float32) { sigmoidGo(o[:len(x)], x) }
