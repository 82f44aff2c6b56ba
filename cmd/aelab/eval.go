package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models/study"
)

func evalCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "measure a trained model on the test set (MSE clean and noisy, SSE per image, PSNR, Jacobian norm)",
		Flags: []cli.Flag{
			modelFlag(),
			noiseFlag("corruption for test_mse_noisy (default: the model's training noise, else gaussian:0.4)"),
			seedFlag(),
			&cli.BoolFlag{Name: "no-probe", Usage: "skip probe_accuracy (a linear classifier trained on the top code of the training images)"},
			jsonFlag(),
			deviceFlag(),
			tf32Flag(),
			gemmFlag(),
			dataDirFlag(),
		},
		Action: func(c *cli.Context) error { return evalAction(c, s) },
	}
}

func evalAction(c *cli.Context, s streams) error {
	noise, err := parseNoise(c)
	if err != nil {
		return err
	}
	model, err := loadModel(c)
	if err != nil {
		return err
	}
	set, err := loadData(c)
	if err != nil {
		return err
	}
	// MNIST is recognised by content (a checkpoint written before that names it, with a checksum of its gzipped files).
	sameMNIST := set.IsMNIST() && model.Record.Data.Name == "MNIST"
	if set.Checksum() != model.Record.Data.Checksum && model.Record.Data.Checksum != "" && !sameMNIST {
		fmt.Fprintf(s.Err, "note: the model was trained on %s, evaluating on %s\n", model.Record.Data.Name, set.Name)
	}
	backend, err := openBackend(c, s)
	if err != nil {
		return err
	}
	defer backend.Close()
	m, err := study.Evaluate(c.Context, backend, model.AE, set, study.EvalOptions{
		Noise: study.EvalNoise(noise, model.AE.Spec), Seed: c.Uint64("seed"), NoProbe: c.Bool("no-probe")})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(s.Out)
		return enc.Encode(m)
	}
	fmt.Fprintf(s.Out, "model            %s %s\n", model.AE.Spec.Kind, model.AE.Spec)
	fmt.Fprintf(s.Out, "test images      %d\n", m.NTest)
	fmt.Fprintf(s.Out, "test_mse         %.6f\n", m.TestMSE)
	fmt.Fprintf(s.Out, "test_mse_noisy   %.6f  (%s)\n", m.TestMSENoisy, m.Noise)
	fmt.Fprintf(s.Out, "per_image_sse    %.3f\n", m.PerImageSSE)
	fmt.Fprintf(s.Out, "psnr_db          %.2f\n", m.PSNR)
	fmt.Fprintf(s.Out, "jacobian_fro2    %.4f  (over %d images)\n", m.JacobianFro2, m.JacobianImages)
	if m.ProbeAccuracy != nil {
		fmt.Fprintf(s.Out, "probe_accuracy   %.4f  (linear softmax on the frozen top code of the %d training images)\n", *m.ProbeAccuracy, m.ProbeImages)
	}
	if m.TestAccuracy != nil {
		fmt.Fprintf(s.Out, "test_accuracy    %.4f  (the model's own classifier)\n", *m.TestAccuracy)
	}
	return nil
}
