//go:build !amd64

package vec

// Prefetch is a hint to bring b's cache lines nearer (written for amd64 only; here it does
// nothing).
func Prefetch(b []byte) {}
