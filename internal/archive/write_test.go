package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/testutil"
)

// tree builds test directory trees; any failure fails the test.
type tree struct {
	t    *testing.T
	root string
}

func (b tree) p(rel string) string { return filepath.Join(b.root, rel) }

func (b tree) check(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

func (b tree) dir(rel string, mode uint32, uid, gid int) {
	b.t.Helper()
	b.check(os.MkdirAll(b.p(rel), 0o755))
	b.check(os.Chown(b.p(rel), uid, gid))
	b.check(unix.Chmod(b.p(rel), mode))
}

func (b tree) file(rel string, data []byte, mode uint32, uid, gid int) {
	b.t.Helper()
	b.check(os.WriteFile(b.p(rel), data, 0o600))
	b.check(os.Chown(b.p(rel), uid, gid))
	b.check(unix.Chmod(b.p(rel), mode))
}

func (b tree) symlink(rel, target string, uid, gid int) {
	b.t.Helper()
	b.check(os.Symlink(target, b.p(rel)))
	b.check(os.Lchown(b.p(rel), uid, gid))
}

func (b tree) mknod(rel string, mode uint32, major, minor uint32) {
	b.t.Helper()
	b.check(unix.Mknod(b.p(rel), mode, int(unix.Mkdev(major, minor))))
	b.check(unix.Chmod(b.p(rel), mode&0o7777))
}

func (b tree) xattr(rel, name, value string) {
	b.t.Helper()
	b.check(unix.Lsetxattr(b.p(rel), name, []byte(value), 0))
}

// touchAll gives every file a distinct mtime with nanoseconds, directories
// last and deepest first, as a real tree would have.
func (b tree) touchAll() {
	b.t.Helper()
	lines := listTree(b.t, b.root, listOpts{})
	slices.Reverse(lines)
	for i, l := range lines {
		rel := l[:strings.Index(l, " type=")]
		ts := unix.NsecToTimespec(testTime.UnixNano() + int64(i)*1_000_000_007)
		b.check(unix.UtimesNanoAt(unix.AT_FDCWD, b.p(rel), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
}

// richTree makes an overlay upper directory with every kind of file,
// owner, mode bit and xattr a layer can carry.
func richTree(t *testing.T) string {
	testutil.RequireRoot(t)
	b := tree{t, t.TempDir()}
	big := make([]byte, 3<<20+17)
	rand.NewChaCha8([32]byte{1}).Read(big)
	b.dir("bin", 0o755, 0, 0)
	b.file("bin/su", []byte("su binary"), 0o4755, 0, 0)
	b.check(os.Link(b.p("bin/su"), b.p("bin/su-hardlink")))
	b.check(os.Link(b.p("bin/su"), b.p("bin/zz-third-link")))
	b.file("bin/ping", []byte("ping"), 0o755, 0, 0)
	b.xattr("bin/ping", "security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	b.dir("etc/empty", 0o700, 0, 0)
	b.file("etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644, 0, 0)
	b.file("etc/empty-file", nil, 0o600, 1000, 1001)
	b.file("etc/big", big, 0o640, 0, 42)
	b.symlink("etc/localtime", "/usr/share/zoneinfo/UTC", 0, 0)
	b.symlink("lib", "usr/lib", 1002, 1003)
	b.dir("srv", 0o2775, 1000, 50)
	b.file("srv/notes with spaces ü", []byte("x"), 0o664, 1000, 50)
	b.xattr("srv/notes with spaces ü", "user.comment", "hello\x00world")
	b.xattr("srv", "trusted.label", "srv")
	b.dir("srv/sub", 0o755, 0, 0) // would inherit srv's setgid bit
	b.dir("tmp", 0o1777, 0, 0)
	b.dir("dev", 0o755, 0, 0)
	b.mknod("dev/null", unix.S_IFCHR|0o666, 1, 3)
	b.mknod("dev/loop0", unix.S_IFBLK|0o660, 7, 0)
	b.mknod("dev/initctl", unix.S_IFIFO|0o600, 0, 0)
	b.mknod("removed", unix.S_IFCHR, 0, 0) // overlay whiteout
	b.dir("opq", 0o755, 0, 0)
	b.xattr("opq", "trusted.overlay.opaque", "y")
	b.file("opq/new", []byte("new"), 0o644, 0, 0)
	long := strings.Repeat("d123456789/", 12)
	b.dir(long, 0o755, 0, 0)
	b.file(long+strings.Repeat("f", 200), []byte("long"), 0o644, 0, 0)
	b.touchAll()
	return b.root
}

func writeDiff(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := archive.WriteDiff(context.Background(), &buf, dir); err != nil {
		t.Fatalf("WriteDiff: %v", err)
	}
	return buf.Bytes()
}

func TestWriteDiffRoundTrip(t *testing.T) {
	src := richTree(t)
	data := writeDiff(t, src)
	dst := t.TempDir()
	mustApply(t, dst, data, archive.WhiteoutOverlay)
	diffLists(t, "trees after WriteDiff then Apply", listTree(t, src, listOpts{}), listTree(t, dst, listOpts{}))
	if again := writeDiff(t, src); !bytes.Equal(again, data) {
		t.Error("WriteDiff is not reproducible: two runs over the same tree differ")
	}
	if again := writeDiff(t, dst); !bytes.Equal(again, data) {
		t.Error("WriteDiff of the applied copy differs from the original's")
	}
}

func TestWriteDiffEntries(t *testing.T) {
	src := richTree(t)
	b := tree{t, src}
	b.xattr("etc", "trusted.overlay.redirect", "/elsewhere")
	b.mknod("etc/also-removed", unix.S_IFCHR, 0, 0)
	b.check(os.Link(b.p("etc/also-removed"), b.p("etc/removed-too"))) // overlay shares whiteout inodes
	tr := tar.NewReader(bytes.NewReader(writeDiff(t, src)))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		switch {
		case strings.HasPrefix(h.Name, "./") || strings.HasPrefix(h.Name, "/"):
			t.Errorf("entry %q is not a plain relative name", h.Name)
		case h.Typeflag == tar.TypeDir && !strings.HasSuffix(h.Name, "/"):
			t.Errorf("directory %q without a trailing slash", h.Name)
		case strings.Contains(h.Name, ".wh.") && (h.Typeflag != tar.TypeReg || h.Mode != 0 || h.Size != 0):
			t.Errorf("whiteout %q: type %c mode %o size %d, want an empty regular file of mode 0", h.Name, h.Typeflag, h.Mode, h.Size)
		}
		for k := range h.PAXRecords {
			if strings.Contains(k, "trusted.overlay") {
				t.Errorf("entry %q carries overlay's private xattr %s", h.Name, k)
			}
		}
		if h.Name == "bin/su-hardlink" && (h.Typeflag != tar.TypeLink || h.Linkname != "bin/su") {
			t.Errorf("bin/su-hardlink: type %c -> %q, want a hardlink to bin/su", h.Typeflag, h.Linkname)
		}
	}
	for _, want := range [][2]string{{"opq/", "opq/.wh..wh..opq"}, {"etc/", "etc/.wh.also-removed"}, {"etc/passwd", "etc/.wh.removed-too"}} {
		i := slices.Index(names, want[0])
		if i < 0 || i+1 >= len(names) || names[i+1] != want[1] {
			t.Errorf("want %q right after %q in %v", want[1], want[0], names)
		}
	}
	if !slices.Contains(names, ".wh.removed") {
		t.Errorf("no .wh.removed in %v", names)
	}
}

func TestWriteTreeRoundTrip(t *testing.T) {
	src := richTree(t)
	var buf bytes.Buffer
	if err := archive.WriteTree(context.Background(), &buf, src); err != nil {
		t.Fatalf("WriteTree: %v", err)
	}
	names := tarNames(t, buf.Bytes())
	if !slices.Contains(names, "3 removed") || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, ".wh.") }) {
		t.Errorf("WriteTree converted whiteouts: %v", names)
	}
	dst := t.TempDir()
	mustApply(t, dst, buf.Bytes(), archive.WhiteoutOverlay)
	// The opaque mark is overlay's private xattr: WriteTree leaves it out.
	want := listTree(t, src, listOpts{})
	for i, l := range want {
		want[i] = strings.Replace(l, "trusted.overlay.opaque=79", "", 1)
	}
	diffLists(t, "trees after WriteTree then Apply", want, listTree(t, dst, listOpts{}))
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "x")
	var buf bytes.Buffer
	if err := archive.WriteTree(ctx, &buf, dir); err == nil {
		t.Error("WriteTree with a cancelled context succeeded")
	}
	if err := archive.WriteTree(context.Background(), &buf, filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteTree of a missing directory = %v, want not-exist", err)
	}
}
