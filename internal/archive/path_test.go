package archive

import (
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestCleanName(t *testing.T) {
	for _, c := range []struct {
		name, want string
		bad        bool
	}{
		{"a/b", "a/b", false},
		{"./a/b/", "a/b", false},
		{"a//b/./c", "a/b/c", false},
		{"a/../b", "b", false},
		{"./", "", false},
		{".", "", false},
		{"", "", true},
		{"/etc/passwd", "", true},
		{"../x", "", true},
		{"a/../../x", "", true},
		{"./..", "", true},
		{"a\x00b", "", true},
	} {
		got, err := cleanName(c.name)
		if c.bad {
			if !errdefs.IsInvalid(err) {
				t.Errorf("cleanName(%q) = %q, %v; want an invalid-argument error", c.name, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name   string
		kind   entryKind
		target string
		bad    bool
	}{
		{"a/b", kindFile, "", false},
		{"a/.wh.b", kindWhiteout, "b", false},
		{".wh.b", kindWhiteout, "b", false},
		{"a/.wh..wh..opq", kindOpaque, "", false},
		{".wh..wh.plnk", kindSkip, "", false},
		{".wh..wh.plnk/123.456", kindSkip, "", false},
		{"a/.wh.", 0, "", true},
		{"a/.wh..", 0, "", true},
		{"a/.wh...", 0, "", true},
		{".wh.../x", 0, "", true},
		{"a/.wh.b/c", 0, "", true},
		{"a/b.wh.c", kindFile, "", false},
	} {
		parent, base := split(c.name)
		kind, target, err := classify(c.name, parent, base)
		if c.bad != (err != nil) || (err == nil && (kind != c.kind || target != c.target)) {
			t.Errorf("classify(%q) = %v, %q, %v", c.name, kind, target, err)
		}
	}
}
