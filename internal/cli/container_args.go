package cli

import (
	"strconv"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

// parseTail parses --tail: "all" (or empty) is every line.
func parseTail(s string) (int, error) {
	if s == "" || s == "all" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errdefs.Invalid("invalid value for \"tail\": %s", s)
	}
	if n < 0 {
		return -1, nil
	}
	return n, nil
}

// parseTimestamp parses --since and --until as docker does: an RFC 3339
// time (with or without zone, date alone), Unix seconds (with fraction),
// or a duration before now ("42m").
func parseTimestamp(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, errdefs.Invalid("invalid value for \"since\": failed to parse value as time or duration: %q", s)
}
