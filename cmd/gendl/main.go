// Command gendl is gendl's runtime: a pure-Go ONNX executor.
//
//	gendl inspect MODEL.onnx
//	gendl run MODEL.onnx --inputs DIR [--assert-outputs DIR] [--output-dir DIR]
//	gendl sample text --model MODEL.onnx [--seed-text S] [--temperature T] [--length N]
//	gendl sample vae --model vae/decoder.onnx --grid 15 --out manifold.png
//	gendl sample gan --model gan.onnx --n 64 --seed 7 --out samples.png
//
// This file only wires flags to the library packages.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	app := newApp()
	if err := app.Run(interspersed(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "gendl:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "gendl",
		Usage: "run ONNX models in pure Go: inspect them, run them, check them against expected outputs",
		Description: "gendl loads ONNX models (opsets 7 to 25) and runs them with its own executor.\n" +
			"Model files are untrusted input: a corrupt or hostile file gives an error, never a crash.",
		Commands:        []*cli.Command{inspectCommand(), runCommand(), sampleCommand(), dreamCommand(), styleCommand()},
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // main prints the error once
	}
}
