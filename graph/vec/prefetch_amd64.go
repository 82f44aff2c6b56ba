package vec

// prefetch asks for the lines of n bytes from p (n > 0).
//
//go:noescape
func prefetch(p *byte, n int)

// Prefetch asks the processor to start bringing b's cache lines into its nearest cache and
// goes on without waiting for them. It is a hint: it changes no value, and reads nothing
// outside b's lines. A loop over rows scattered in memory (a batch's images) prefetches the
// row it will reach a few rows later, so their loads overlap instead of waiting in turn.
func Prefetch(b []byte) {
	if len(b) > 0 {
		prefetch(&b[0], len(b))
	}
}
