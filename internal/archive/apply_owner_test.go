package archive_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-containers/strata/internal/archive"
)

// TestApplyOwnerUnderSetgidDir checks the chown that Apply skips for new
// files already owned right: under a setgid directory a new file takes the
// directory's group, so an entry of the applier's own owner still gets its
// group back, also when the tar makes the directory setgid after it was
// first used as a parent.
func TestApplyOwnerUnderSetgidDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: gives a directory another group")
	}
	sgid := dir("shared/")
	sgid.Mode, sgid.Gid = 0o2775, 4242
	later := dir("late/")
	later.Mode, later.Gid = 0o2775, 4343
	data := buildTar(t,
		sgid, reg("shared/file", "x"), symlink("shared/link", "file"),
		reg("late/before", "b"), later, reg("late/after", "a"),
		reg("plain", "p"),
	)
	root := t.TempDir()
	mustApply(t, root, data, archive.WhiteoutDelete)
	egid := uint32(os.Getegid())
	for _, name := range []string{"shared/file", "shared/link", "late/before", "late/after", "plain"} {
		st := lstat(t, filepath.Join(root, name))
		if st.Uid != uint32(os.Geteuid()) || st.Gid != egid {
			t.Errorf("%s: owner %d:%d, want %d:%d", name, st.Uid, st.Gid, os.Geteuid(), egid)
		}
	}
	if st := lstat(t, filepath.Join(root, "shared")); st.Gid != 4242 {
		t.Errorf("shared: group %d, want 4242", st.Gid)
	}
}
