package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

// The help and usage screens are laid out as docker's: "Usage:  " with two
// spaces, the description, Aliases, Options (the command's own flags),
// then for the root the command groups and the Global Options.

// annotation keys on commands.
const (
	annotTop     = "category-top" // rank among the root's "Common Commands"
	annotAliases = "aliases"      // how Aliases: reads, e.g. "strata image ls, strata images"
)

const usageText = `Usage:
{{- if not .HasSubCommands}}  {{.UseLine}}{{end}}
{{- if .HasSubCommands}}  {{.CommandPath}}{{if .HasAvailableLocalFlags}} [OPTIONS]{{end}} COMMAND{{end}}

{{if ne .Long ""}}{{trim .Long}}{{else}}{{trim .Short}}{{end}}
{{- if aliases .}}

Aliases:
  {{aliases .}}
{{- end}}
{{- if .HasExample}}

Examples:
{{.Example}}
{{- end}}
{{- if and .HasParent .HasAvailableLocalFlags}}

Options:
{{flagUsages .}}
{{- end}}
{{- with topCommands .}}

Common Commands:
{{- range .}}
  {{rpad .Name (pad .)}}{{.Short}}
{{- end}}
{{- end}}
{{- with managementCommands .}}

Management Commands:
{{- range .}}
  {{rpad .Name (pad .)}}{{.Short}}
{{- end}}
{{- end}}
{{- with operationCommands .}}

Commands:
{{- range .}}
  {{rpad .Name (pad .)}}{{.Short}}
{{- end}}
{{- end}}
{{- if and (not .HasParent) .HasAvailableLocalFlags}}

Global Options:
{{flagUsages .}}
{{- end}}
{{- if .HasSubCommands}}

Run '{{.CommandPath}} COMMAND --help' for more information on a command.
{{- end}}
`

var usageTemplate = template.Must(template.New("usage").Funcs(template.FuncMap{
	"trim":               strings.TrimSpace,
	"rpad":               func(s string, n int) string { return fmt.Sprintf("%-"+strconv.Itoa(n)+"s", s) },
	"pad":                func(c *cobra.Command) int { return c.NamePadding() + 1 },
	"aliases":            aliases,
	"flagUsages":         flagUsages,
	"topCommands":        topCommands,
	"managementCommands": managementCommands,
	"operationCommands":  operationCommands,
}).Parse(usageText))

// usage writes c's usage screen.
func usage(c *cobra.Command) error {
	return usageTemplate.Execute(c.OutOrStderr(), c)
}

// help writes the help screen: the usage screen after an empty line.
func help(c *cobra.Command, _ []string) {
	w := c.OutOrStdout()
	io.WriteString(w, "\n")
	_ = usageTemplate.Execute(w, c)
}

func aliases(c *cobra.Command) string {
	if a := c.Annotations[annotAliases]; a != "" {
		return a
	}
	if len(c.Aliases) == 0 {
		return ""
	}
	parts := []string{c.CommandPath()}
	for _, a := range c.Aliases {
		parts = append(parts, c.Parent().CommandPath()+" "+a)
	}
	return strings.Join(parts, ", ")
}

// flagUsages lists the command's own flags (global ones appear only on the
// root's screen), wrapped at 80 columns as docker does off a terminal.
func flagUsages(c *cobra.Command) string {
	return strings.TrimRight(c.LocalFlags().FlagUsagesWrapped(79), " \n")
}

func topCommands(c *cobra.Command) []*cobra.Command {
	if c.HasParent() {
		return nil
	}
	var cmds []*cobra.Command
	for _, sub := range c.Commands() {
		if _, ok := sub.Annotations[annotTop]; ok && sub.IsAvailableCommand() {
			cmds = append(cmds, sub)
		}
	}
	sort.SliceStable(cmds, func(i, j int) bool {
		a, _ := strconv.Atoi(cmds[i].Annotations[annotTop])
		b, _ := strconv.Atoi(cmds[j].Annotations[annotTop])
		return a < b
	})
	return cmds
}

func managementCommands(c *cobra.Command) []*cobra.Command {
	var cmds []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && sub.HasSubCommands() {
			cmds = append(cmds, sub)
		}
	}
	return cmds
}

// operationCommands are the runnable commands not already shown among the
// root's common ones.
func operationCommands(c *cobra.Command) []*cobra.Command {
	var cmds []*cobra.Command
	for _, sub := range c.Commands() {
		if _, top := sub.Annotations[annotTop]; top && !c.HasParent() {
			continue
		}
		if sub.IsAvailableCommand() && !sub.HasSubCommands() {
			cmds = append(cmds, sub)
		}
	}
	return cmds
}
