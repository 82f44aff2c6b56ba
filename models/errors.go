package models

import "errors"

// ErrDiverged is wrapped by the error training or evaluation returns when the loss becomes NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// ErrInterrupted is wrapped by the error training or evaluation returns when its context is cancelled.
var ErrInterrupted = errors.New("training interrupted")
