// Package models holds what aelab's autoencoders are and what is done with them: the spec
// ([Spec]: kind, sizes, activations, noise, λ), the model ([Autoencoder]), training
// ([Train]) with divergence detection and interruption, evaluation ([Evaluate]) and
// checkpoints ([Save], [Load]).
//
// It never builds gorgonia graphs itself (package graph does) and does not know which
// executor runs them: the caller hands them a graph.Backend (cmd/aelab chooses it from --device).
//
// # Checkpoints
//
// One safetensors file: the weights under PyTorch's names and layouts (encoder.{2i}.weight
// is Out×In, as torch.nn.Linear inside an nn.Sequential that alternates Linear and
// activation modules), and a JSON [Record] in the header's metadata with the spec, the
// training settings, the per-epoch losses, the data's checksum and aelab's version. Files
// are written atomically; [Load] checks the format version and every tensor's shape.
//
// # Randomness
//
// Every random draw comes from a PCG generator seeded by the run's seed, one stream per use
// ([NewRand]): initial weights, shuffling, corruption and evaluation noise.
//
// # Errors
//
// Errors start with "models:". Training errors wrap [ErrDiverged] or [ErrInterrupted];
// unreadable checkpoints are *[CheckpointError].
package models
