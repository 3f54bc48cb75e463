package volume

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strata-containers/strata/internal/testutil"
)

// TestCopyUp copies a tree with owners, modes, a symlink and a hard link
// into an empty directory, and leaves a non-empty one alone.
func TestCopyUp(t *testing.T) {
	testutil.RequireRoot(t)
	rootfs := t.TempDir()
	src := filepath.Join(rootfs, "srv", "data")
	must(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "sub", "f"), []byte("hello"), 0o640))
	must(t, os.Chown(filepath.Join(src, "sub", "f"), 1234, 5678))
	must(t, os.Chmod(src, os.ModeSticky|0o777))
	must(t, os.Chown(src, 42, 43))
	must(t, os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	must(t, os.Link(filepath.Join(src, "sub", "f"), filepath.Join(src, "hard")))
	// A symlink in the rootfs that points at the host's /etc must resolve
	// inside the rootfs, where there is no such directory.
	must(t, os.Symlink("/etc", filepath.Join(rootfs, "escape")))

	dst := t.TempDir()
	must(t, CopyUp(rootfs, "/srv/data", dst))
	data, err := os.ReadFile(filepath.Join(dst, "sub", "f"))
	if err != nil || string(data) != "hello" {
		t.Fatalf("copied file: %q, %v", data, err)
	}
	assertOwner(t, filepath.Join(dst, "sub", "f"), 1234, 5678, 0o640)
	assertOwner(t, dst, 42, 43, os.ModeSticky|0o777)
	if target, err := os.Readlink(filepath.Join(dst, "link")); err != nil || target != "/etc/passwd" {
		t.Fatalf("symlink: %q, %v", target, err)
	}
	a, _ := os.Stat(filepath.Join(dst, "hard"))
	b, _ := os.Stat(filepath.Join(dst, "sub", "f"))
	if !os.SameFile(a, b) {
		t.Errorf("hard link not kept")
	}

	must(t, os.WriteFile(filepath.Join(src, "new"), nil, 0o644))
	must(t, CopyUp(rootfs, "/srv/data", dst)) // not empty: nothing copied
	if _, err := os.Stat(filepath.Join(dst, "new")); !os.IsNotExist(err) {
		t.Errorf("copy-up into a non-empty volume: %v", err)
	}
	escaped := t.TempDir()
	must(t, CopyUp(rootfs, "/escape", escaped))
	if entries, _ := os.ReadDir(escaped); len(entries) != 0 {
		t.Errorf("copy-up followed a symlink out of the rootfs: %d entries", len(entries))
	}
}

func assertOwner(t *testing.T, path string, uid, gid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeSticky | os.ModeSetuid | os.ModeSetgid); got != mode {
		t.Errorf("%s: mode %v, want %v", path, got, mode)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s: owner %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, gid)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
