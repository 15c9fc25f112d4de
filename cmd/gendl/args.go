package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// findSub returns cmd's subcommand called name (or by an alias), or nil.
func findSub(cmd *cli.Command, name string) *cli.Command {
	for _, s := range cmd.Subcommands {
		if s.HasName(name) {
			return s
		}
	}
	return nil
}

// interspersed moves a subcommand's flags in front of its positional arguments, so that
// `gendl run MODEL.onnx --inputs DIR` works: urfave/cli v2 stops reading flags at the first
// positional argument. Everything after "--" is left alone.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	at := -1
	for i := 1; i < len(args); i++ {
		if c := app.Command(args[i]); c != nil {
			cmd, at = c, i
			break
		}
		if !strings.HasPrefix(args[i], "-") {
			return args
		}
	}
	if cmd == nil {
		return args
	}
	// Descend into subcommands (`gendl sample text ...`): the leaf command's flags are the ones
	// to move.
	for len(cmd.Subcommands) > 0 && at+1 < len(args) {
		sub := findSub(cmd, args[at+1])
		if sub == nil {
			return args // an unknown kind: the command's own Action says so
		}
		cmd, at = sub, at+1
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[at+1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		if a == "-h" || a == "--help" || a == "-help" {
			// Help for the command itself, whatever positional arguments came with it.
			return append(append([]string{}, args[:at+1]...), "--help")
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append([]string{}, args[:at+1]...)
	out = append(out, flags...)
	return append(out, pos...)
}
