package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/datasets"
)

func dataCommand(s streams) *cli.Command {
	return &cli.Command{
		Name:  "data",
		Usage: "inspect the data set",
		Subcommands: []*cli.Command{{
			Name:  "info",
			Usage: "print the data set's sizes, class counts, checksums and where it came from",
			Flags: []cli.Flag{dataDirFlag()},
			Action: func(c *cli.Context) error {
				set, err := loadData(c)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "data set   %s\n", set.Name)
				fmt.Fprintf(s.Out, "source     %s\n", set.Source)
				if set.IsMNIST() {
					fmt.Fprintln(s.Out, "checksums  every file matches the canonical MNIST MD5")
				}
				for _, f := range set.Files {
					fmt.Fprintf(s.Out, "file       %-28s %9d bytes  md5 %s\n", f.Name, f.Size, f.MD5)
				}
				fmt.Fprintf(s.Out, "image      %d×%d pixels, scaled to [0,1]\n", set.Test.Rows, set.Test.Cols)
				for _, split := range []struct {
					name string
					im   *datasets.Images
				}{{"train", set.Train}, {"validation", set.Validation}, {"test", set.Test}} {
					if split.im.Labels == nil {
						fmt.Fprintf(s.Out, "%-10s %6d images, unlabelled\n", split.name, split.im.Len())
						continue
					}
					fmt.Fprintf(s.Out, "%-10s %6d images, per class %v\n", split.name, split.im.Len(), split.im.ClassCounts())
				}
				return nil
			},
		}},
	}
}
