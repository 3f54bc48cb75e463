package layer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCopyTree builds a tree with every kind of entry and metadata a layer
// can carry and checks the vfs copy keeps all of it.
func TestCopyTree(t *testing.T) {
	requireRoot(t)
	src, dst := t.TempDir(), t.TempDir()
	p := func(name string) string { return filepath.Join(src, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(p("dir/sub"), 0o755))
	must(os.WriteFile(p("dir/file"), []byte("content"), 0o644))
	must(os.WriteFile(p("setuid"), []byte("#!"), 0o755))
	must(os.Link(p("dir/file"), p("hardlink")))
	must(os.Symlink("dir/file", p("symlink")))
	must(unix.Mknod(p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(unix.Mknod(p("whiteout"), unix.S_IFCHR, 0))
	must(unix.Mkfifo(p("fifo"), 0o600))
	must(os.Lchown(p("dir/file"), 1000, 1001))
	must(os.Lchown(p("symlink"), 1002, 1003))
	must(unix.Chmod(p("setuid"), 0o4755))
	must(unix.Chmod(p("dir/sub"), 0o2775|0o1000))
	must(unix.Lsetxattr(p("dir/file"), "user.note", []byte("kept"), 0))
	must(unix.Lsetxattr(p("dir/sub"), "trusted.overlay.opaque", []byte("y"), 0))
	// security.capability: cap_net_bind_service+ep, v2 format.
	capability := []byte{0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	must(unix.Lsetxattr(p("setuid"), "security.capability", capability, 0))
	ts := []unix.Timespec{{Sec: 1000000000, Nsec: 5}, {Sec: 1100000000, Nsec: 7}}
	for _, name := range []string{"dir/file", "symlink", "dir/sub", "dir", "null"} {
		must(unix.UtimesNanoAt(unix.AT_FDCWD, p(name), ts, unix.AT_SYMLINK_NOFOLLOW))
	}

	must(copyTree(context.Background(), dst, src))

	for _, name := range []string{"dir", "dir/sub", "dir/file", "setuid", "hardlink", "symlink", "null", "whiteout", "fifo"} {
		var a, b unix.Stat_t
		must(unix.Lstat(p(name), &a))
		must(unix.Lstat(filepath.Join(dst, name), &b))
		if a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || a.Rdev != b.Rdev || a.Nlink != b.Nlink || a.Mtim != b.Mtim {
			t.Errorf("%s: copy has mode %o uid %d gid %d rdev %d nlink %d mtime %v; source %o %d %d %d %d %v",
				name, b.Mode, b.Uid, b.Gid, b.Rdev, b.Nlink, b.Mtim, a.Mode, a.Uid, a.Gid, a.Rdev, a.Nlink, a.Mtim)
		}
		if a.Mode&unix.S_IFMT == unix.S_IFREG && a.Size != b.Size {
			t.Errorf("%s: size %d, want %d", name, b.Size, a.Size)
		}
	}
	for _, x := range []struct{ name, attr string }{
		{"dir/file", "user.note"}, {"dir/sub", "trusted.overlay.opaque"}, {"setuid", "security.capability"},
	} {
		want := make([]byte, 64)
		n, _ := unix.Lgetxattr(p(x.name), x.attr, want)
		got := make([]byte, 64)
		m, err := unix.Lgetxattr(filepath.Join(dst, x.name), x.attr, got)
		if err != nil || !bytes.Equal(got[:m], want[:n]) {
			t.Errorf("%s %s = %q, %v; want %q", x.name, x.attr, got[:max(m, 0)], err, want[:n])
		}
	}
	a, _ := os.Stat(filepath.Join(dst, "dir/file"))
	b, _ := os.Stat(filepath.Join(dst, "hardlink"))
	if !os.SameFile(a, b) {
		t.Error("hardlinked files were copied as two files")
	}
	if src, _ := os.Stat(p("dir/file")); os.SameFile(a, src) {
		t.Error("the copy shares an inode with the source")
	}
	if d := diffString(tree(t, dst), tree(t, src)); d != "" {
		t.Errorf("contents differ:\n%s", d)
	}
}
