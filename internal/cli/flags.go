package cli

import (
	"errors"
	"strings"

	"github.com/strata-containers/strata/internal/engine"
)

// Flag help texts shared by commands, worded as docker's.
const (
	formatHelpTable = `'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template`
	formatHelpJSON     = `'json':             Print in JSON format`
	formatHelpTemplate = `'TEMPLATE':         Print output using the given Go template.
Refer to https://pkg.go.dev/text/template for the template syntax`

	formatHelp        = "Format output using a custom template:\n" + formatHelpTable + "\n" + formatHelpJSON + "\n" + formatHelpTemplate
	formatHelpInspect = "Format output using a custom template:\n" + formatHelpJSON + "\n" + formatHelpTemplate
)

// filterFlag is a repeatable --filter key=value, docker's "filter" type.
type filterFlag struct{ f engine.Filters }

func newFilterFlag() *filterFlag { return &filterFlag{f: engine.Filters{}} }

func (f *filterFlag) String() string { return "" }
func (f *filterFlag) Type() string   { return "filter" }

// Set parses "key=value"; keys are case-insensitive and spaces around
// either side are dropped, as docker does.
func (f *filterFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return errors.New("bad format of filter (expected name=value)")
	}
	f.f.Add(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v))
	return nil
}

// listFlag is a repeatable string flag shown as docker's "list" type.
type listFlag struct{ values []string }

func (l *listFlag) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(l.values, " ") + "]"
}
func (l *listFlag) Type() string { return "list" }
func (l *listFlag) Set(s string) error {
	l.values = append(l.values, s)
	return nil
}
