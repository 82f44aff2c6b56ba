package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/cuda"
	"github.com/aelab/aelab/datasets"
	"github.com/aelab/aelab/models"
)

// Flags shared by several commands.
func dataDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "data-dir", EnvVars: []string{"AELAB_DATA_DIR"},
		Usage: "folder with the four MNIST-format IDX files (train-images-idx3-ubyte.gz, …); empty: the MNIST shipped in the Go module cache"}
}

func trainLimitFlag() cli.Flag {
	return &cli.IntFlag{Name: "train-limit", DefaultText: "0, all 50,000", Usage: "use only the first `N` training images"}
}

func deviceFlag() cli.Flag {
	return &cli.StringFlag{Name: "device", Value: "auto", Usage: "where to compute: auto, cpu, cuda or cuda:N (tape: gorgonia's TapeMachine on the CPU, the reference)"}
}

func tf32Flag() cli.Flag {
	return &cli.BoolFlag{Name: "tf32", Usage: "CUDA: matrix products on tensor cores with TF32 inputs, as JAX does by default (faster; about 1e-3 relative error a product)"}
}

func gemmFlag() cli.Flag {
	return &cli.StringFlag{Name: "gemm", Value: "cublas", Usage: "CUDA: what computes the matrix products: cublas (cublasSgemm), lt (cublasLtMatmul with the first algorithm of cuBLASLt's heuristic) or tuned (the fastest of both and up to 8 heuristic algorithms, timed when a plan is prepared, so a run's rounding may differ from another's in the last bits)"}
}

// parseGEMM reads --gemm ("" where the command has none: cublas).
func parseGEMM(c *cli.Context) (cuda.GEMM, error) {
	g, err := cuda.ParseGEMM(c.String("gemm"))
	if err != nil {
		return g, usagef("--gemm %q: want cublas, lt or tuned", c.String("gemm"))
	}
	return g, nil
}

func seedFlag() cli.Flag {
	return &cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of every random draw (weights, shuffling, noise)"}
}

func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", Usage: "checkpoint `FILE` to read (required)"}
}

// required returns the value of a string flag that has no sensible default.
func required(c *cli.Context, name string) (string, error) {
	v := c.String(name)
	if v == "" {
		return "", usagef("--%s is required (see aelab %s --help)", name, c.Command.FullName())
	}
	return v, nil
}

// loadModel reads the checkpoint named by --model.
func loadModel(c *cli.Context) (*models.Model, error) {
	path, err := required(c, "model")
	if err != nil {
		return nil, err
	}
	return models.Load(path)
}

func noiseFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "noise", Usage: usage + ": none, gaussian:σ, mask:ν or saltpepper:ν"}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"}
}

// loadData loads the data set the flags select.
func loadData(c *cli.Context) (*datasets.Set, error) {
	limit := 0
	if c.Command.HasName("train") || c.IsSet("train-limit") {
		limit = c.Int("train-limit")
	}
	if limit < 0 {
		return nil, usagef("--train-limit must be 0 or more, got %d", limit)
	}
	return datasets.Load(datasets.Options{Dir: c.String("data-dir"), TrainLimit: limit})
}

// parseNoise reads --noise; "" gives the zero Noise.
func parseNoise(c *cli.Context) (datasets.Noise, error) {
	n, err := datasets.ParseNoise(c.String("noise"))
	if err != nil {
		return n, usageError{err}
	}
	return n, nil
}

// checkOutput fails early, before any work, when path cannot be written as a file.
func checkOutput(flag, path string) error {
	if path == "" {
		return usagef("--%s is empty", flag)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return usagef("--%s %s: folder %s does not exist", flag, path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("--%s %s is a folder, not a file", flag, path)
	}
	return nil
}
