package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/trainer/loop"
)

// The flags and flag handling the training commands share.

// imageDataFlags are the image trainers' dataset flags: --dataset (default dataset, usage),
// --data-dir, --image-size, --channels, --limit and, with testLimit, --test-limit.
func imageDataFlags(dataset, usage string, testLimit bool) []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "dataset", Value: dataset, Usage: usage},
		&cli.StringFlag{Name: "data-dir", Usage: "directory of the MNIST or Fashion-MNIST IDX files (default: located automatically)"},
		&cli.IntFlag{Name: "image-size", Usage: "folder datasets: resize images to this height and width (default 28)"},
		&cli.IntFlag{Name: "channels", Usage: "folder datasets: 1 (grayscale, default) or 3 (RGB)"},
		&cli.IntFlag{Name: "limit", Usage: "use at most N training images (0: all)"},
	}
	if testLimit {
		fs = append(fs, &cli.IntFlag{Name: "test-limit", Usage: "use at most N test images (0: all)"})
	}
	return fs
}

// resumeFlag is --resume.
func resumeFlag() cli.Flag {
	return &cli.BoolFlag{Name: "resume", Usage: "continue from the latest checkpoint in --checkpoint-dir"}
}

// progressFlag is --progress of the training commands (read with progressMode).
func progressFlag() cli.Flag {
	return &cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (a bar with ETA on a terminal, plain lines otherwise), bar, lines or off"}
}

// progressMode is the loop's progress mode that --progress names.
func progressMode(c *cli.Context) string {
	if p := c.String("progress"); p != "auto" {
		return p
	}
	return loop.ProgressAuto
}

// noArgs refuses positional arguments to command cmd.
func noArgs(c *cli.Context, cmd string) error {
	if c.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", cmd, c.Args().First())
	}
	return nil
}

// intsFlag parses the comma-separated integers of flag name of command cmd.
func intsFlag(c *cli.Context, cmd, name string) ([]int, error) {
	v, err := parseInts(c.String(name))
	if err != nil {
		return nil, fmt.Errorf("%s: --%s: %w", cmd, name, err)
	}
	return v, nil
}

// parseInts parses a comma-separated list of integers.
func parseInts(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", strings.TrimSpace(f))
		}
		out = append(out, v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// concat joins flag groups in order.
func concat(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
