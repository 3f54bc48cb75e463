package format

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docker/go-units"
)

// TruncateID shortens an ID to docker's 12 hex digits, dropping any
// "sha256:" prefix.
func TruncateID(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// Ellipsis cuts s to width characters, the last of them "…", as docker does
// for long commands in `history` and `ps`.
func Ellipsis(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	if width == 1 {
		return string(r[:1])
	}
	return string(r[:width-1]) + "…"
}

// Since is docker's "CREATED" column: "2 hours ago".
func Since(t, now time.Time) string {
	return units.HumanDuration(now.UTC().Sub(t)) + " ago"
}

// Size is docker's SIZE column: three significant digits, decimal units.
func Size(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// HumanSize is docker's other size rendering (four significant digits),
// used for totals and shared sizes.
func HumanSize(n int64) string { return units.HumanSize(float64(n)) }
