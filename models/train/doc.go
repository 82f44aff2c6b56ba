// Package train fits aelab's models: an autoencoder end to end ([Autoencoder]), a stack
// greedily level by level ([Pretrain]), a classifier on labels ([Classifier]), and the
// procedures that make a checkpointed model from a spec ([NewModel], [NewStack],
// [Finetune]) and go on with one that stopped ([Continue], from the optimiser's state kept
// beside the checkpoint) — the training loop, its hooks for progress, divergence detection (the
// parameters go back to the last good epoch) and interruption.
//
//	hist, err := train.Autoencoder(ctx, backend, ae.Graph(), ae.Spec.Cost(), train.Run{
//		Train: set.Train, Val: set.Validation, Noise: ae.Spec.Noise,
//		Config: train.Config{Epochs: 10, Batch: 32, Seed: 1},
//	})
//
// On an executor that keeps the training images on its device (graph.DeviceData) the
// batches are gathered and corrupted there and the losses read back only to report them;
// elsewhere the loop builds each batch on the host, with the same counter-based noise, so
// both paths train to the same weights.
package train
