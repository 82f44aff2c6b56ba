package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/cuda"
	"github.com/aelab/aelab/graph/plan"
)

func devicesCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list the executors this build has and the hardware that answers",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(s.Out, "cpu    available: aelab's compiled plan (tape: gorgonia's TapeMachine), BLAS %s, %d cores (%s/%s)\n",
				plan.BLASName(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
			if !cuda.Built {
				fmt.Fprintf(s.Out, "cuda   not built: this binary has no CUDA executor; build one with scripts/build-cuda.sh\n")
				return nil
			}
			devs, err := cuda.Devices()
			if err != nil {
				fmt.Fprintf(s.Out, "cuda   built, but no device answers: %v\n", err)
				return nil
			}
			for _, d := range devs {
				fmt.Fprintf(s.Out, "cuda:%d %s, compute %s, %.1f GiB\n", d.Ordinal, d.Name, d.Compute, float64(d.Memory)/(1<<30))
			}
			return nil
		},
	}
}
