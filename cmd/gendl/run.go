package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
	"github.com/gendl/gendl/runtime/testset"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a model on an ONNX test_data_set folder, optionally checking the outputs",
		ArgsUsage: "MODEL.onnx",
		Description: "DIR holds input_<i>.pb (serialized TensorProtos) matched by position to the graph's\n" +
			"inputs; graph inputs that are initializers are not fed. With --assert-outputs, output_<i>.pb\n" +
			"are compared with the graph's outputs as ONNX's test runner does (|got-want| <= atol + rtol*|want|,\n" +
			"same shape and type) and the command exits non-zero on any mismatch.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "inputs", Usage: "folder with input_<i>.pb files", Required: true},
			&cli.StringFlag{Name: "assert-outputs", Usage: "folder with expected output_<i>.pb files to compare with"},
			&cli.StringFlag{Name: "output-dir", Usage: "write the outputs as output_<i>.pb into this folder"},
			&cli.Float64Flag{Name: "rtol", Value: testset.DefaultRTol, Usage: "relative tolerance for --assert-outputs"},
			&cli.Float64Flag{Name: "atol", Value: testset.DefaultATol, Usage: "absolute tolerance for --assert-outputs"},
			&cli.IntFlag{Name: "threads", Value: 1, Usage: "threads the ops may use"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("run: want one model file, got %d arguments (see gendl run --help)", c.NArg())
			}
			path := c.Args().First()
			p, err := engine.LoadFile(path, engine.Options{})
			if err != nil {
				return err
			}
			s := p.NewSession(engine.SessionOptions{Threads: c.Int("threads")})
			start := time.Now()
			res, err := testset.Run(s, p, c.String("inputs"), c.String("assert-outputs"), c.Float64("rtol"), c.Float64("atol"))
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "ran %s in %v\n", path, time.Since(start).Round(time.Microsecond))
			for _, o := range res.Outputs {
				status := ""
				if c.String("assert-outputs") != "" {
					status = fmt.Sprintf("  max abs err %.3g  max rel err %.3g", o.MaxAbs, o.MaxRel)
					if o.Err != nil {
						status += "  MISMATCH"
					} else {
						status += "  ok"
					}
				}
				fmt.Fprintf(w, "  %s: %v%s%s\n", o.Name, o.DType, tensor.ShapeString(o.Shape), status)
			}
			if dir := c.String("output-dir"); dir != "" {
				if err := testset.WriteOutputs(p, res.Got, dir); err != nil {
					return err
				}
				fmt.Fprintf(w, "wrote %d outputs to %s\n", len(p.Outputs), dir)
			}
			if err := res.Err(); err != nil {
				return errors.New("outputs differ from the expected ones:\n" + err.Error())
			}
			return nil
		},
	}
}
