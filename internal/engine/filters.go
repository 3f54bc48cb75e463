package engine

import (
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

// Filters are the --filter arguments of a list or prune: each key (such as
// "label" or "dangling") with the values given for it. Values of one key
// are alternatives except for label, where every value must match, as in
// docker.
type Filters map[string][]string

// Add appends value to key.
func (f Filters) Add(key, value string) { f[key] = append(f[key], value) }

// check rejects keys the operation does not know, with docker's message.
func (f Filters) check(allowed ...string) error {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return errdefs.Invalid("invalid filter '%s'", k)
		}
	}
	return nil
}

// boolean returns the value of a true/false filter such as dangling, and
// whether it was given at all.
func (f Filters) boolean(key string) (value, set bool, err error) {
	vals := f[key]
	if len(vals) == 0 {
		return false, false, nil
	}
	for _, v := range vals {
		switch strings.ToLower(v) {
		case "true", "1":
			value = true
		case "false", "0":
		default:
			return false, false, errdefs.Invalid("invalid filter '%s=%s'", key, v)
		}
	}
	return value, true, nil
}

// matchLabels reports whether labels satisfy every label= filter ("key" or
// "key=value") and no label!= filter.
func (f Filters) matchLabels(labels map[string]string) bool {
	for _, want := range f["label"] {
		if !hasLabel(labels, want) {
			return false
		}
	}
	for _, unwanted := range f["label!"] {
		if hasLabel(labels, unwanted) {
			return false
		}
	}
	return true
}

func hasLabel(labels map[string]string, filter string) bool {
	k, v, withValue := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == v)
}

// until returns the time before which images must have been created to
// pass the until= filter; zero if there is none.
func (f Filters) until(now time.Time) (time.Time, error) {
	var t time.Time
	for _, v := range f["until"] {
		u, err := parseTimestamp(v, now)
		if err != nil {
			return time.Time{}, err
		}
		if t.IsZero() || u.Before(t) {
			t = u
		}
	}
	return t, nil
}

// parseTimestamp accepts what docker's filters accept: a Go duration before
// now ("24h"), a Unix time in seconds ("1700000000", fractions allowed) or an
// RFC 3339 date or date-time.
func parseTimestamp(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eE") {
		whole := int64(secs)
		return time.Unix(whole, int64((secs-float64(whole))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errdefs.Invalid("invalid filter 'until=%s': not a duration, Unix time or RFC 3339 date", v)
}

// matchReference reports whether the familiar reference ref ("busybox:1",
// "busybox@sha256:…") matches a reference= pattern, as docker's
// FamiliarMatch does: the whole familiar string or just its repository.
func matchReference(pattern string, ref reference.Named) (bool, error) {
	ok, err := path.Match(pattern, reference.Familiar(ref))
	if err != nil {
		return false, errdefs.Invalid("invalid filter 'reference=%s': %w", pattern, err)
	}
	if ok {
		return true, nil
	}
	ok, _ = path.Match(pattern, reference.FamiliarRepository(ref))
	return ok, nil
}
