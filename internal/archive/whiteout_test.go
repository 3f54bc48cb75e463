package archive_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/testutil"
)

func TestApplyWhiteoutsOverlay(t *testing.T) {
	testutil.RequireRoot(t) // mknod and trusted.* xattrs
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "gone"), "from an older apply")
	data := buildTar(t, reg(".wh.gone", ""), dir("etc"), reg("etc/.wh.passwd", ""),
		dir("opq"), reg("opq/.wh..wh..opq", ""), reg("opq/kept", "k"),
		reg(".wh..wh.plnk", ""), reg("deep/er/.wh.x", ""))
	mustApply(t, root, data, archive.WhiteoutOverlay)

	for _, p := range []string{"gone", "etc/passwd", "deep/er/x"} {
		st := lstat(t, filepath.Join(root, p))
		if st.Mode != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %d, want a 0/0 char device with mode 0", p, st.Mode, st.Rdev)
		}
	}
	if got := xattrList(t, filepath.Join(root, "opq")); got != "[trusted.overlay.opaque=79]" {
		t.Errorf("opq xattrs %s, want trusted.overlay.opaque=y", got)
	}
	if readFile(t, filepath.Join(root, "opq/kept")) != "k" {
		t.Error("opq/kept missing")
	}
	assertNoWhiteoutFiles(t, root)
}

// assertNoWhiteoutFiles fails if any file below root is named like a whiteout.
func assertNoWhiteoutFiles(t *testing.T, root string) {
	t.Helper()
	for _, line := range listTree(t, root, listOpts{}) {
		if strings.Contains(line, ".wh.") {
			t.Errorf("whiteout materialised as a file: %s", line)
		}
	}
}

func TestApplyWhiteoutsDelete(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
		gone    []string
		kept    []string
	}{
		{"file and directory", []entry{reg(".wh.a", ""), reg("d/.wh.sub", ""), reg(".wh.missing", ""), reg("nodir/.wh.x", "")},
			[]string{"a", "d/sub", "nodir"}, []string{"b", "d/x"}},
		{"opaque before the new content", []entry{dir("d"), reg("d/.wh..wh..opq", ""), reg("d/new", "n")},
			[]string{"d/x", "d/sub"}, []string{"d/new", "a"}},
		{"opaque after the new content", []entry{dir("d"), reg("d/new", "n"), reg("d/sub/f", "f"), reg("d/.wh..wh..opq", "")},
			[]string{"d/x", "d/sub/old"}, []string{"d/new", "d/sub/f"}},
		{"whiteout of what the same layer wrote", []entry{reg("c", "1"), reg(".wh.c", "")},
			[]string{"c"}, []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, p := range []string{"a", "b", "d/x", "d/sub/old"} {
				writeFile(t, filepath.Join(root, p), p)
			}
			mustApply(t, root, buildTar(t, c.entries...), archive.WhiteoutDelete)
			for _, p := range c.gone {
				if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
					t.Errorf("%s still there (%v)", p, err)
				}
			}
			for _, p := range c.kept {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			assertNoWhiteoutFiles(t, root)
		})
	}
}
