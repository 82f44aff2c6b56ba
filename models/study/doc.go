// Package study measures what trained models learned: reconstruction errors from clean and
// noisy inputs and the encoder's Jacobian ([Evaluate]), a linear probe of the codes
// ([Probe]), the digit classifier that judges images ([DigitClassifier]), interpolations
// in code space ([Interpolate], [InterpolationStudy]), and the walk from noise towards the
// data ([Walk], [MeasureWalk]).
//
//	m, err := study.Evaluate(ctx, backend, model.AE, set, study.EvalOptions{Noise: noise, Seed: 1})
//
// Every figure is computed on the test images by the backend the caller hands in; host-side
// products (Jacobians, distances to the training images) use the backend's MatMul.
package study
