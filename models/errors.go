package models

import "errors"

// ErrDiverged is wrapped by the error training or evaluation returns when the loss becomes NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// ErrInterrupted is wrapped by the error training or evaluation returns when its context is cancelled.
var ErrInterrupted = errors.New("training interrupted")

// SettingError is a setting that cannot work. Setting is its name as configs spell it
// (lr, chains, epochs_per_layer); the command line's flag is the same name in kebab case.
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return "models: " + e.Setting + " " + e.Problem }
