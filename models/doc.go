// Package models holds what aelab's models are: the autoencoder's spec ([Spec]: kind, sizes,
// activations, noise, λ) and the model built from it ([Autoencoder]), the digit classifier
// ([Classifier]), checkpoints ([Save], [Load], [SaveClassifier], [LoadClassifier]) with
// their records, running a stack of layers forward over image sets ([Forward], [Encode],
// [Reconstruct]), and the named random streams every draw comes from ([NewRand]).
//
//	ae, err := models.New(models.Spec{Kind: models.DAE, Layers: []int{784, 128}}, models.InitRand(1))
//	if err != nil {
//		return err
//	}
//	err = models.Save("dae.safetensors", &models.Model{AE: ae})
//
// Training lives in models/train, studying a trained model (evaluation, probe,
// interpolation, the walk) in models/study, the main job in models/experiment and its
// pictures in models/report. None of them builds gorgonia graphs (package graph does) or
// knows which executor runs them: the caller hands them a graph.Backend (cmd/aelab chooses
// it from --device).
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
// ([NewRand] and the Stream constants): initial weights, shuffling, evaluation noise, the
// walks. Training noise is counter-based (datasets.Noise.ApplyAt).
//
// # Errors
//
// Errors start with "models:". Training and evaluation wrap [ErrDiverged] or
// [ErrInterrupted]; unreadable checkpoints are *[CheckpointError].
package models
