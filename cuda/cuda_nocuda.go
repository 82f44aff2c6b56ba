//go:build !aelabcuda

package cuda

import "github.com/aelab/aelab/graph"

// Built reports whether this aelab was built with CUDA support.
const Built = false

// Open returns a *NotBuiltError: this build has no CUDA executor.
func Open(ordinal int) (graph.Backend, error) { return nil, &NotBuiltError{} }

// OpenWith returns a *NotBuiltError: this build has no CUDA executor.
func OpenWith(ordinal int, opt Options) (graph.Backend, error) { return nil, &NotBuiltError{} }

// Devices returns a *NotBuiltError: this build has no CUDA executor.
func Devices() ([]Device, error) { return nil, &NotBuiltError{} }
