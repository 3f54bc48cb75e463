package format

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Inspect writes objects as docker inspect does. With an empty format (or
// "json") it prints one JSON array indented by four spaces, "[]" when there
// is nothing; with a template it prints the template's output for each
// object, one per line.
//
// Each object is given twice: typed (templates see its Go fields, so
// {{.Size}} prints 4261550 and not 4.26155e+06) and as the raw JSON that was
// marshalled from it, which a template falls back to when the typed value
// lacks a field, as docker's does.
func Inspect(w io.Writer, f Format, typed []any, raw [][]byte) error {
	if f == "" || f.IsJSON() {
		return indented(w, raw)
	}
	tmpl, err := Parse(f.text())
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for i, obj := range typed {
		var one bytes.Buffer
		if err := tmpl.Execute(&one, obj); err != nil {
			m, derr := decodeRaw(raw[i])
			if derr != nil {
				return errdefs.Invalid("template parsing error: %w", err)
			}
			one.Reset()
			if err := tmpl.Execute(&one, m); err != nil {
				return errdefs.Invalid("template parsing error: %w", err)
			}
		}
		out.Write(one.Bytes())
		out.WriteByte('\n')
	}
	_, err = out.WriteTo(w)
	return err
}

func indented(w io.Writer, raw [][]byte) error {
	if len(raw) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	joined := "[" + string(bytes.Join(raw, []byte(","))) + "]"
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(joined), "", "    "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := out.WriteTo(w)
	return err
}

// decodeRaw keeps numbers as json.Number so that they print as written.
func decodeRaw(raw []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
