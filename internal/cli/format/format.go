// Package format renders command output the way the docker CLI does: Go
// templates given with --format, the "table" prefix that turns a template
// into aligned columns under a header, "json" for one JSON object per line,
// and docker inspect's indented JSON arrays.
//
// The package knows nothing of images or containers. A command hands it rows:
// values whose exported, argument-less methods are the fields a template can
// name ({{.ID}}, {{.Size}}), and a header map from field name to column
// title. That keeps one renderer for every command, as docker has, and lets
// each command's row type be tested on its own.
//
// Output is byte-compatible with docker 20.10+ for the same data: tables go
// through text/tabwriter with a minimum width of 10 and a padding of 3,
// templates get docker's functions (json, join, split, lower, upper, title,
// pad, truncate), and `{{json .}}` of a row gives the same keys docker's does.
package format

import (
	"bytes"
	"encoding/json"
	"strings"
	"text/template"
	"unicode"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Format is the value of a --format flag.
type Format string

// The keywords a --format value can start with or be.
const (
	TableKey = "table"
	JSONKey  = "json"
	// QuietFormat is what -q selects in list commands.
	QuietFormat = "{{.ID}}"
	jsonFormat  = "{{json .}}"
)

// IsTable reports whether f asks for a table with a header.
func (f Format) IsTable() bool { return strings.HasPrefix(string(f), TableKey) }

// IsJSON reports whether f is the "json" keyword.
func (f Format) IsJSON() bool { return string(f) == JSONKey }

// Contains reports whether f mentions sub (a field such as "{{.Digest}}").
func (f Format) Contains(sub string) bool { return strings.Contains(string(f), sub) }

// template text that f stands for: "table" stripped, "json" expanded, and
// the escapes \t and \n that users type in shells turned into the real thing.
func (f Format) text() string {
	s := string(f)
	switch {
	case f.IsTable():
		s = s[len(TableKey):]
	case f.IsJSON():
		s = jsonFormat
	}
	s = strings.Trim(s, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}

var funcs = template.FuncMap{
	"json":     jsonString,
	"split":    strings.Split,
	"join":     strings.Join,
	"title":    title,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      pad,
	"truncate": truncate,
}

// headerFuncs replace the functions when the template is run on the header
// map, so that "table {{upper .Repository}}" still prints the column title.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"split":    func(v, _ string) string { return v },
	"join":     func(v, _ string) string { return v },
	"title":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

// Parse compiles a template with docker's functions. A syntax error is
// errdefs.ErrInvalid ("template parsing error: ...").
func Parse(text string) (*template.Template, error) {
	t, err := template.New("").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, errdefs.Invalid("template parsing error: %w", err)
	}
	return t, nil
}

// jsonString is the json template function: HTML characters are kept as
// they are ("<none>", not "\u003cnone\u003e"), as in docker.
func jsonString(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) || unicode.IsPunct(prev) {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

func pad(s string, prefix, suffix int) string {
	if s == "" {
		return s
	}
	return strings.Repeat(" ", prefix) + s + strings.Repeat(" ", suffix)
}

func truncate(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
