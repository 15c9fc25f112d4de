package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gendl/gendl/models/vgg19"
)

// exportCommand converts pretrained third-party networks into the ONNX files gendl's
// commands use.
func exportCommand() *cli.Command {
	return &cli.Command{
		Name:            "export",
		Usage:           "convert a pretrained network into the ONNX feature extractor gendl uses",
		HideHelpCommand: true,
		Subcommands:     []*cli.Command{exportVGG19Command()},
	}
}

func exportVGG19Command() *cli.Command {
	return &cli.Command{
		Name:  "vgg19",
		Usage: "write a truncated VGG19 feature extractor (Keras layer names as outputs) from a VGG19 ONNX file",
		Description: "Reads --from, a VGG19 in ONNX: the ONNX model zoo's vgg19-7.onnx (548 MB), a Keras VGG19\n" +
			"converted to ONNX, or a file this command wrote. Recognises its 16 convolutions and 5 pools\n" +
			"from the graph, names them as Keras does (block1_conv1 ... block5_conv4, block1_pool ...\n" +
			"block5_pool) and writes --out: only the nodes up to the deepest of --layers, each of them a\n" +
			"graph output, input \"image\" float32 [N,3,H,W] RGB in [0,255] with the network's\n" +
			"preprocessing (the zoo's: [0,1], ImageNet mean/std) as nodes. The defaults are the book's\n" +
			"style-transfer layers. The file runs in gendl and ONNX Runtime.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "source VGG19 ONNX file (required), e.g. vgg19-7.onnx"},
			&cli.StringFlag{Name: "out", Value: "vgg19-features.onnx", Usage: "feature extractor to write"},
			&cli.StringFlag{Name: "layers", Value: strings.Join(vgg19.DefaultLayers(), ","), Usage: "comma-separated Keras layer names to export"},
			&cli.StringFlag{Name: "preprocessing", Value: "auto", Usage: "what the source expects: auto (from its names/metadata), torch, caffe or \"rgb|bgr range=1|255 mean=a,b,c std=a,b,c\""},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "auto (a bar on a terminal, plain lines otherwise), bar, lines or off"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("export vgg19: unexpected argument %q (the source goes in --from)", c.Args().First())
			}
			if c.String("from") == "" {
				return fmt.Errorf("export vgg19: --from is required (the VGG19 ONNX file, e.g. the ONNX model zoo's vgg19-7.onnx)")
			}
			progress, done, err := readProgress(c.String("progress"), os.Stderr)
			if err != nil {
				return fmt.Errorf("export vgg19: %w", err)
			}
			_, err = vgg19.ExportFile(vgg19.ExportConfig{
				From: c.String("from"), Out: c.String("out"), Layers: vgg19.ParseLayers(c.String("layers")),
				Preprocessing: c.String("preprocessing"), Progress: progress, Log: logAfter(done, os.Stderr),
			})
			done()
			return err
		},
	}
}

// readProgress returns a reporter of bytes read for the --progress mode, and a function that
// finishes it.
func readProgress(mode string, w *os.File) (func(read, total int64), func(), error) {
	if mode == "auto" {
		mode = "lines"
		if term.IsTerminal(int(w.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "off":
		return nil, func() {}, nil
	case "bar":
		var bar *progressbar.ProgressBar
		return func(read, total int64) {
				if bar == nil {
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("reading"),
						progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(true),
						progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
				}
				bar.Set64(read)
			}, func() {
				if bar != nil {
					bar.Finish()
				}
			}, nil
	case "lines":
		next := int64(0)
		start := time.Now()
		return func(read, total int64) {
			if total > 0 && read*10 >= next*total {
				fmt.Fprintf(w, "reading: %d%% (%.0f of %.0f MB, %.1fs)\n", 100*read/total, float64(read)/1e6, float64(total)/1e6, time.Since(start).Seconds())
				next = read*10/total + 1
			}
		}, func() {}, nil
	}
	return nil, nil, fmt.Errorf("--progress %q, want auto, bar, lines or off", mode)
}

// logAfter is w, but finishes the progress display before the first line.
func logAfter(done func(), w io.Writer) io.Writer {
	return &finishingWriter{done: done, w: w}
}

type finishingWriter struct {
	done func()
	w    io.Writer
}

func (f *finishingWriter) Write(b []byte) (int, error) {
	if f.done != nil {
		f.done()
		f.done = nil
	}
	return f.w.Write(b)
}
