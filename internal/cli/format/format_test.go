package format

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

type row struct{ id, name string }

func (r row) ID() string                   { return r.id }
func (r row) Name() string                 { return r.name }
func (r row) MarshalJSON() ([]byte, error) { return MarshalMethods(r) }

var header = Header{"ID": "ID", "Name": "NAME"}

func TestWrite(t *testing.T) {
	rows := []any{row{"abc", "<none>"}, row{"0123456789abcdef", "busybox"}}
	tests := []struct {
		name   string
		format Format
		want   string
	}{
		{"table", "table {{.ID}}\t{{.Name}}",
			"ID                 NAME\nabc                <none>\n0123456789abcdef   busybox\n"},
		{"table escapes", `table {{.ID}}\t{{.Name}}`,
			"ID                 NAME\nabc                <none>\n0123456789abcdef   busybox\n"},
		{"plain", "{{.ID}}:{{.Name}}", "abc:<none>\n0123456789abcdef:busybox\n"},
		{"json keeps html", "json", `{"ID":"abc","Name":"<none>"}` + "\n" + `{"ID":"0123456789abcdef","Name":"busybox"}` + "\n"},
		{"functions", `{{upper .Name}} {{truncate .ID 3}} {{pad .ID 1 1}}|{{join (split .Name "u") "-"}}`,
			"<NONE> abc  abc |<none>\nBUSYBOX 012  0123456789abcdef |b-sybox\n"},
		{"header through functions", "table {{upper .Name}}", "NAME\n<NONE>\nBUSYBOX\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.format, header, rows); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteEmptyTablePrintsHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "table {{.ID}}\t{{.Name}}", header, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "ID        NAME\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteErrorsAreInvalid(t *testing.T) {
	for _, f := range []Format{"{{.Nope}}", "{{.ID"} {
		err := Write(&bytes.Buffer{}, f, header, []any{row{"a", "b"}})
		if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("Write(%q) = %v, want an invalid-argument error", f, err)
		}
	}
}

type typed struct {
	ID   string `json:"Id"`
	Size int64
}

func TestInspect(t *testing.T) {
	objs := []any{typed{ID: "sha256:1", Size: 4261550}}
	raw := [][]byte{[]byte(`{"Id":"sha256:1","Size":4261550}`)}
	tests := []struct {
		format Format
		want   string
	}{
		{"", "[\n    {\n        \"Id\": \"sha256:1\",\n        \"Size\": 4261550\n    }\n]\n"},
		{"json", "[\n    {\n        \"Id\": \"sha256:1\",\n        \"Size\": 4261550\n    }\n]\n"},
		{"{{.Size}}", "4261550\n"},
		{"{{.Id}}", "sha256:1\n"}, // falls back to the raw JSON's keys
		{"{{json .}}", `{"Id":"sha256:1","Size":4261550}` + "\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Inspect(&buf, tt.format, objs, raw); err != nil {
			t.Fatalf("Inspect(%q): %v", tt.format, err)
		}
		if buf.String() != tt.want {
			t.Errorf("Inspect(%q) = %q, want %q", tt.format, buf.String(), tt.want)
		}
	}
	var buf bytes.Buffer
	if err := Inspect(&buf, "", nil, nil); err != nil || buf.String() != "[]\n" {
		t.Errorf("Inspect of nothing = %q, %v", buf.String(), err)
	}
}

func TestText(t *testing.T) {
	if got := TruncateID("sha256:0123456789abcdef"); got != "0123456789ab" {
		t.Errorf("TruncateID = %q", got)
	}
	if got := TruncateID("<missing>"); got != "<missing>" {
		t.Errorf("TruncateID(<missing>) = %q", got)
	}
	if got := Ellipsis("/bin/sh -c #(nop) ADD file:1234 in /", 10); got != "/bin/sh -…" {
		t.Errorf("Ellipsis = %q", got)
	}
	if got := Ellipsis("short", 10); got != "short" {
		t.Errorf("Ellipsis(short) = %q", got)
	}
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := Since(now.Add(-2*time.Hour), now); got != "2 hours ago" {
		t.Errorf("Since = %q", got)
	}
	if got := Size(4261550); got != "4.26MB" {
		t.Errorf("Size = %q", got)
	}
	if got := HumanSize(4261550); got != "4.262MB" {
		t.Errorf("HumanSize = %q", got)
	}
}
