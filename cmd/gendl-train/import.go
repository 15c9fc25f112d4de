package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/trainer/tfjs"
)

// importCommand converts pretrained third-party networks to ONNX: `gendl-train import tfjs`.
func importCommand() *cli.Command {
	return &cli.Command{
		Name:            "import",
		Usage:           "convert a pretrained third-party network to ONNX",
		Subcommands:     []*cli.Command{importTFJSCommand()},
		HideHelpCommand: true,
	}
}

func importTFJSCommand() *cli.Command {
	return &cli.Command{
		Name:      "tfjs",
		Usage:     "convert a TensorFlow.js layers model (model.json + weight files) to ONNX",
		ArgsUsage: "MODEL.json",
		Description: "Reads model.json and the weight files its manifest names (beside it; uint8/uint16/float16\n" +
			"quantised weights are dequantised as TF.js does) and writes an ONNX graph that takes the input\n" +
			"as NCHW float32 [N, C, H, W] (Keras's NHWC transposed) and names every layer's output by its\n" +
			"Keras name, NCHW as well. H and W are free unless the graph contains a Flatten.\n" +
			"--until LAYER keeps only the layers LAYER needs and makes it the output, e.g. InceptionV3's\n" +
			"--until mixed5 for DeepDream. scripts/fetch-inception.sh does the whole fetch and conversion.\n" +
			"Supported layers: " + strings.Join(tfjs.SupportedLayers(), ", ") + ".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "model.onnx", Usage: "ONNX file to write (atomically)"},
			&cli.StringFlag{Name: "until", Usage: "convert only the layers this layer needs; it becomes the output (default: the whole model)"},
			&cli.StringFlag{Name: "outputs", Usage: "comma-separated layers to declare as further graph outputs (gendl can fetch any layer by name anyway; ONNX Runtime only graph outputs)"},
			&cli.BoolFlag{Name: "fold-batchnorm", Usage: "fold each BatchNormalization into the Conv2D before it (faster; the convolution's own output is then not available by name)"},
			&cli.IntFlag{Name: "opset", Value: tfjs.DefaultOpset, Usage: "ONNX opset, 13 to 17"},
			&cli.GenericFlag{Name: "metadata", Value: &metadataFlag{}, Usage: "KEY=VALUE to add to metadata_props (repeatable; the value is taken whole, commas included)"},
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if flags, pos := splitFlags(c.Command, args); len(flags) > 0 {
				// urfave/cli v2 stops reading flags at the first positional argument: run
				// again with the flags first, so `import tfjs MODEL.json --out x.onnx` works.
				re := append([]string{c.App.Name, "import", "tfjs"}, flags...)
				return c.App.Run(append(re, pos...))
			}
			if len(args) != 1 {
				return fmt.Errorf("import tfjs: want one MODEL.json argument, got %d (see --help)", len(args))
			}
			opt := tfjs.Options{Until: c.String("until"), FoldBatchNorm: c.Bool("fold-batchnorm"), Opset: int64(c.Int("opset"))}
			for _, o := range strings.Split(c.String("outputs"), ",") {
				if o = strings.TrimSpace(o); o != "" {
					opt.Outputs = append(opt.Outputs, o)
				}
			}
			if md, ok := c.Generic("metadata").(*metadataFlag); ok {
				opt.Metadata = md.kv
			}
			return importTFJS(args[0], c.String("out"), opt)
		},
	}
}

func importTFJS(in, out string, opt tfjs.Options) error {
	fmt.Fprintf(os.Stderr, "import tfjs: reading %s\n", in)
	m, err := tfjs.Load(in)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "import tfjs: %d layers, %d weights (Keras %s)\n", len(m.Layers), len(m.Weights), m.KerasVersion)
	model, sum, err := tfjs.Convert(m, opt)
	if err != nil {
		return err
	}
	data, err := onnx.Encode(model)
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "import tfjs: converted %d layers (%d weights unused, %d batch norms folded), %d parameters\n",
		len(sum.Layers), sum.UnusedWeights, sum.Folded, sum.Params)
	fmt.Fprintf(os.Stderr, "import tfjs: input %s %v, outputs %s\n", strings.Join(sum.Inputs, ", "), sum.InputShape, strings.Join(sum.Outputs, ", "))
	fmt.Fprintf(os.Stderr, "import tfjs: ops: %s\n", sum.OpList())
	fmt.Fprintf(os.Stderr, "import tfjs: wrote %s (%d bytes)\n", out, len(data))
	return nil
}

// splitFlags separates the flags of cmd found among args (with their values) from the
// positional arguments; everything after "--" is positional.
func splitFlags(cmd *cli.Command, args []string) (flags, pos []string) {
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, pos
}

// metadataFlag collects repeated --metadata KEY=VALUE flags without splitting values at commas
// (as urfave/cli's StringSliceFlag would).
type metadataFlag struct{ kv [][2]string }

func (m *metadataFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	m.kv = append(m.kv, [2]string{k, v})
	return nil
}

func (m *metadataFlag) String() string {
	if m == nil {
		return ""
	}
	parts := make([]string, len(m.kv))
	for i, kv := range m.kv {
		parts[i] = kv[0] + "=" + kv[1]
	}
	return strings.Join(parts, " ")
}
