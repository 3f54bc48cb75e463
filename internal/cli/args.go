package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Argument-count checks with docker's wording; they are usage errors that
// print as they are and exit 1, as docker's do.

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return notACommand(cmd, args[0])
	}
	return argsError(cmd, "accepts no arguments")
}

// notACommand is the error for `strata foo` and `strata image foo`.
func notACommand(cmd *cobra.Command, arg string) error {
	root := cmd.Root().Name()
	words := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), root)+" "+arg, " ")
	return StatusError{
		Status:     fmt.Sprintf("%s: '%s' is not a %s command.\nSee '%s --help'", root, words, root, root),
		StatusCode: exitFailure,
	}
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires exactly %d %s", n, plural("argument", n)))
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d %s", n, plural("argument", n)))
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at most %d %s", n, plural("argument", n)))
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= lo && len(args) <= hi {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d and at most %d %s", lo, hi, plural("argument", hi)))
	}
}

func argsError(cmd *cobra.Command, what string) error {
	return StatusError{
		Status: fmt.Sprintf("%q %s.\nSee '%s --help'.\n\nUsage:  %s\n\n%s",
			cmd.CommandPath(), what, cmd.CommandPath(), cmd.UseLine(), cmd.Short),
		StatusCode: exitFailure,
	}
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// flagError is every command's FlagErrorFunc: docker 24's wording, exit 125.
func flagError(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	var usageText string
	if cmd.HasSubCommands() {
		usageText = "\n\n" + cmd.UsageString()
	}
	return StatusError{
		Status:     fmt.Sprintf("%s\nSee '%s --help'.%s", err, cmd.CommandPath(), usageText),
		StatusCode: exitUsage,
	}
}
