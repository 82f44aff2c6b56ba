package main

import (
	"encoding/json"
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
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			var rep devicesReport
			rep.CPU = fmt.Sprintf("aelab's compiled plan (tape: gorgonia's TapeMachine), BLAS %s, %d cores (%s/%s)",
				plan.BLASName(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
			switch {
			case cuda.Built:
				rep.CUDA.Built = true
				devs, err := cuda.Devices()
				rep.CUDA.Devices = devs
				if err != nil {
					rep.CUDA.Error = err.Error()
				}
			case s.runner != nil:
				runner, why := s.runner.ask(c.Context)
				rep.CUDA = runner.CUDA
				rep.CUDA.Runner = s.runner.path
				if why != "" {
					rep.CUDA.Error = why
				}
			}
			if rep.CUDA.Devices == nil {
				rep.CUDA.Devices = []cuda.Device{}
			}
			if c.Bool("json") {
				return json.NewEncoder(s.Out).Encode(rep)
			}
			fmt.Fprintf(s.Out, "cpu    available: %s\n", rep.CPU)
			via := ""
			if rep.CUDA.Runner != "" {
				via = " (through " + rep.CUDA.Runner + ")"
			}
			switch {
			case !rep.CUDA.Built && rep.CUDA.Runner == "":
				fmt.Fprintf(s.Out, "cuda   not built: this binary has no CUDA executor and no %s beside it; build both with scripts/build-cuda.sh\n", runnerName)
			case len(rep.CUDA.Devices) == 0:
				fmt.Fprintf(s.Out, "cuda   no device answers%s: %s\n", via, rep.CUDA.Error)
			}
			for _, d := range rep.CUDA.Devices {
				fmt.Fprintf(s.Out, "cuda:%d %s, compute %s, %.1f GiB%s\n", d.Ordinal, d.Name, d.Compute, float64(d.Memory)/(1<<30), via)
			}
			return nil
		},
	}
}
