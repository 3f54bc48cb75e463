package format

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"text/tabwriter"
	"text/template"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Header maps a row's field names to their column titles.
type Header map[string]string

// Write renders rows with f: each row through the template, one per line;
// for a table format, the header first and everything aligned.
func Write(w io.Writer, f Format, header Header, rows []any) error {
	tmpl, err := Parse(f.text())
	if err != nil {
		return err
	}
	var body bytes.Buffer
	for _, row := range rows {
		if err := tmpl.Execute(&body, row); err != nil {
			return errdefs.Invalid("template parsing error: %w", err)
		}
		body.WriteByte('\n')
	}
	if !f.IsTable() {
		_, err := body.WriteTo(w)
		return err
	}
	return writeTable(w, tmpl, header, &body)
}

// writeTable aligns the header and the rendered rows with docker's
// tabwriter settings (minimum width 10, tab width 1, padding 3, spaces).
func writeTable(w io.Writer, tmpl *template.Template, header Header, body *bytes.Buffer) error {
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	var head bytes.Buffer
	// A header that cannot be rendered (a template that needs a typed row)
	// is printed as far as it got, as docker does: the rows matter more.
	if ht, err := tmpl.Clone(); err == nil {
		_ = ht.Funcs(headerFuncs).Execute(&head, header)
	}
	head.WriteByte('\n')
	if _, err := head.WriteTo(tw); err != nil {
		return err
	}
	if _, err := body.WriteTo(tw); err != nil {
		return err
	}
	return tw.Flush()
}

// MarshalMethods returns the JSON object of a row as docker's `{{json .}}`
// shows it: one key per exported method that takes no argument and returns
// one value, named after the method. Rows call it from their MarshalJSON.
func MarshalMethods(row any) ([]byte, error) {
	v := reflect.ValueOf(row)
	t := v.Type()
	fields := make(map[string]any, t.NumMethod())
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Name == "MarshalJSON" || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
			continue
		}
		fields[m.Name] = v.Method(i).Call(nil)[0].Interface()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
