package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/testutil"
)

func apply(t testing.TB, dir string, data []byte, mode archive.WhiteoutMode) (int64, error) {
	t.Helper()
	return archive.Apply(context.Background(), dir, bytes.NewReader(data), archive.ApplyOptions{Whiteouts: mode})
}

func mustApply(t testing.TB, dir string, data []byte, mode archive.WhiteoutMode) int64 {
	t.Helper()
	n, err := apply(t, dir, data, mode)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return n
}

func lstat(t testing.TB, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestApplyFileTypes(t *testing.T) {
	long := strings.Repeat("long-directory-name/", 8) + "file"
	setuid := reg("usr/bin/tool", "#!/bin/sh\n")
	setuid.Mode = 0o4755
	secret := reg("./etc/hosts", "127.0.0.1 localhost\n")
	secret.Mode = 0o600
	secret.PAXRecords = map[string]string{"SCHILY.xattr.user.origin": "layer\x00binary"}
	etc := dir("./etc/")
	etc.Mode = 0o750
	tmp := dir("tmp")
	tmp.Mode = 0o1777
	fifo := entry{Header: hdr(tar.TypeFifo, "run/fifo", 0o600)}
	gnu := reg(strings.Repeat("g", 150), "gnu long name")
	gnu.Format = tar.FormatGNU
	gnu.ModTime = testTime.Truncate(time.Second) // GNU headers have no nanoseconds
	readOnly := dir("ro")
	readOnly.Mode = 0o555 // its content is written all the same, even without privilege
	data := buildTar(t, dir("./"), etc, secret, setuid, tmp, readOnly, reg("ro/f", "f"), symlink("etc/link", "hosts"),
		hardlink("etc/hosts2", "etc/hosts"), fifo, reg(long, "deep"), gnu)

	root := t.TempDir()
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "ro"), 0o755) }) // let an unprivileged RemoveAll in
	n := mustApply(t, root, data, archive.WhiteoutOverlay)
	if want := int64(len(secret.body) + len(setuid.body) + len("f") + len("deep") + len(gnu.body)); n != want {
		t.Errorf("Apply returned %d bytes, want %d", n, want)
	}
	mtime := unix.NsecToTimespec(testTime.UnixNano())
	for _, c := range []struct {
		path string
		typ  uint32
		mode uint32
	}{
		{"etc", unix.S_IFDIR, 0o750},
		{"etc/hosts", unix.S_IFREG, 0o600},
		{"usr/bin/tool", unix.S_IFREG, 0o4755},
		{"tmp", unix.S_IFDIR, 0o1777},
		{"ro", unix.S_IFDIR, 0o555},
		{"etc/link", unix.S_IFLNK, 0o777},
		{"run/fifo", unix.S_IFIFO, 0o600},
		{long, unix.S_IFREG, 0o644},
		{gnu.Name, unix.S_IFREG, 0o644},
	} {
		st := lstat(t, filepath.Join(root, c.path))
		if st.Mode&unix.S_IFMT != c.typ || st.Mode&0o7777 != c.mode {
			t.Errorf("%s: mode %o, want type %o perm %o", c.path, st.Mode, c.typ, c.mode)
		}
		if want := unix.NsecToTimespec(gnu.ModTime.UnixNano()); c.path == gnu.Name && st.Mtim == want {
			continue
		}
		if st.Mtim != mtime {
			t.Errorf("%s: mtime %v, want %v (directories' set after their content)", c.path, st.Mtim, mtime)
		}
	}
	for _, implicit := range []string{"usr", "usr/bin", "run"} {
		if st := lstat(t, filepath.Join(root, implicit)); st.Mode != unix.S_IFDIR|0o755 {
			t.Errorf("implicit parent %s: mode %o, want dir 0755", implicit, st.Mode)
		}
	}
	if a, b := lstat(t, filepath.Join(root, "etc/hosts")), lstat(t, filepath.Join(root, "etc/hosts2")); a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("etc/hosts2 is not a hardlink of etc/hosts (inodes %d %d, nlink %d)", a.Ino, b.Ino, a.Nlink)
	}
	if target, _ := os.Readlink(filepath.Join(root, "etc/link")); target != "hosts" {
		t.Errorf("etc/link -> %q, want hosts", target)
	}
	if got := xattrList(t, filepath.Join(root, "etc/hosts")); !strings.Contains(got, "user.origin=6c61796572006269") {
		t.Errorf("etc/hosts xattrs %s, want user.origin with its NUL byte", got)
	}
	if got := readFile(t, filepath.Join(root, long)); got != "deep" {
		t.Errorf("%s = %q", long, got)
	}
}

func TestApplyOwnersDevicesCapabilities(t *testing.T) {
	testutil.RequireRoot(t)
	owned := func(e entry, uid, gid int) entry { e.Uid, e.Gid = uid, gid; return e }
	capability := "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	ping := owned(reg("bin/ping", "ELF"), 0, 0)
	ping.Mode = 0o755
	ping.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": capability}
	sgid := owned(dir("srv"), 1000, 50)
	sgid.Mode = 0o2775
	sgid.PAXRecords = map[string]string{"SCHILY.xattr.trusted.note": "dir", "SCHILY.xattr.trusted.overlay.redirect": "/etc"}
	null := owned(entry{Header: hdr(tar.TypeChar, "dev/null", 0o666)}, 0, 0)
	null.Devmajor, null.Devminor = 1, 3
	loop := owned(entry{Header: hdr(tar.TypeBlock, "dev/loop0", 0o660)}, 0, 6)
	loop.Devmajor, loop.Devminor = 7, 0
	suid := owned(reg("bin/su", "su"), 0, 0)
	suid.Mode = 0o4755
	data := buildTar(t, ping, sgid, owned(reg("srv/data", "x"), 1000, 1001),
		owned(symlink("srv/link", "data"), 1002, 1003), null, loop, suid)

	root := t.TempDir()
	mustApply(t, root, data, archive.WhiteoutOverlay)
	for _, c := range []struct{ path, want string }{
		{"bin/ping", "type=10 mode=0755 uid=0 gid=0 size=3"},
		{"srv", "type=4 mode=2775 uid=1000 gid=50 xattrs=[trusted.note=646972]"},
		{"srv/data", "type=10 mode=0644 uid=1000 gid=1001"},
		{"srv/link", "type=12 mode=0777 uid=1002 gid=1003 link=data"},
		{"dev/null", "type=2 mode=0666 uid=0 gid=0 dev=1:3"},
		{"dev/loop0", "type=6 mode=0660 uid=0 gid=6 dev=7:0"},
		{"bin/su", "type=10 mode=4755 uid=0 gid=0"},
	} {
		if got := describe(t, filepath.Join(root, c.path), listOpts{}); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %s\n  want prefix %s", c.path, got, c.want)
		}
	}
	if got := xattrList(t, filepath.Join(root, "bin/ping")); !strings.Contains(got, "security.capability=0100000200200000") {
		t.Errorf("bin/ping lost its capability (set before chown?): %s", got)
	}
}

func TestApplyReplaces(t *testing.T) {
	cases := []struct {
		name   string
		before []entry
		after  []entry
		check  func(t *testing.T, root string)
	}{
		{"file over directory", []entry{dir("a"), reg("a/f", "old")}, []entry{reg("a", "file")},
			func(t *testing.T, root string) {
				if got := readFile(t, filepath.Join(root, "a")); got != "file" {
					t.Errorf("a = %q", got)
				}
			}},
		{"directory over directory merges", []entry{dir("d"), reg("d/old", "1")}, []entry{mode(dir("d"), 0o700), reg("d/new", "2")},
			func(t *testing.T, root string) {
				if st := lstat(t, filepath.Join(root, "d")); st.Mode&0o7777 != 0o700 {
					t.Errorf("d mode %o, want 0700 from the new entry", st.Mode&0o7777)
				}
				if readFile(t, filepath.Join(root, "d/old")) != "1" || readFile(t, filepath.Join(root, "d/new")) != "2" {
					t.Error("merged directory lost content")
				}
			}},
		{"directory over symlink", []entry{dir("real"), symlink("s", "real")}, []entry{dir("s"), reg("s/f", "in s")},
			func(t *testing.T, root string) {
				if st := lstat(t, filepath.Join(root, "s")); st.Mode&unix.S_IFMT != unix.S_IFDIR {
					t.Errorf("s is not a directory: %o", st.Mode)
				}
				if _, err := os.Lstat(filepath.Join(root, "real/f")); err == nil {
					t.Error("s/f was written through the old symlink")
				}
			}},
		{"file over symlink", []entry{reg("target", "keep"), symlink("s", "target")}, []entry{reg("s", "new")},
			func(t *testing.T, root string) {
				if readFile(t, filepath.Join(root, "target")) != "keep" {
					t.Error("writing s followed the symlink")
				}
				if readFile(t, filepath.Join(root, "s")) != "new" {
					t.Error("s not replaced")
				}
			}},
		{"file over hardlinked file", []entry{reg("x", "shared"), hardlink("y", "x")}, []entry{reg("x", "mine")},
			func(t *testing.T, root string) {
				if readFile(t, filepath.Join(root, "y")) != "shared" {
					t.Error("replacing x rewrote its other link y")
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			mustApply(t, root, buildTar(t, c.before...), archive.WhiteoutDelete)
			mustApply(t, root, buildTar(t, c.after...), archive.WhiteoutDelete)
			c.check(t, root)
		})
	}
}

func mode(e entry, m int64) entry { e.Mode = m; return e }

func TestApplyCorruptTar(t *testing.T) {
	good := buildTar(t, reg("a", strings.Repeat("x", 2000)), reg("b", "y"))
	garbage := bytes.Clone(good)
	copy(garbage[100:], "garbage in the header")
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"truncated in a header", "unexpected EOF", good[:512*5+100]},
		{"truncated in a PAX header", "unexpected EOF", good[:1000]},
		{"truncated in the file content", "unexpected EOF", good[:2000]},
		{"corrupt header", "reading layer tar", garbage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := apply(t, t.TempDir(), c.data, archive.WhiteoutOverlay)
			if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Apply = %v, want an invalid-argument error mentioning %q", err, c.want)
			}
		})
	}
}

// TestApplyWithoutEndBlocks checks that a layer whose tar stops right after
// its last entry, without the end-of-archive zero blocks (as umoci and Go's
// tar writer without Close produce), is applied completely.
func TestApplyWithoutEndBlocks(t *testing.T) {
	good := buildTar(t, reg("a", strings.Repeat("x", 2000)), reg("b", "y"))
	withoutEnd := good[:len(good)-1024]
	withoutPadding := withoutEnd[:len(withoutEnd)-511] // "b" has 1 byte of content
	for name, data := range map[string][]byte{"no end blocks": withoutEnd, "no padding": withoutPadding} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if _, err := apply(t, root, data, archive.WhiteoutOverlay); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for name, want := range map[string]string{"a": strings.Repeat("x", 2000), "b": "y"} {
				got, err := os.ReadFile(filepath.Join(root, name))
				if err != nil || string(got) != want {
					t.Fatalf("%s = %q, %v; want %d bytes", name, got, err, len(want))
				}
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestApplyReadsToTheEnd(t *testing.T) {
	data := append(buildTar(t, reg("a", "x")), make([]byte, 10240)...)
	cr := &countingReader{r: bytes.NewReader(data)}
	if _, err := archive.Apply(context.Background(), t.TempDir(), cr, archive.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if cr.n != int64(len(data)) {
		t.Errorf("Apply read %d of %d bytes: a digest of the stream would miss the padding", cr.n, len(data))
	}
}

func TestApplyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := archive.Apply(ctx, t.TempDir(), bytes.NewReader(buildTar(t, reg("a", "x"))), archive.ApplyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with a cancelled context = %v", err)
	}
}

func TestApplyUnsupportedType(t *testing.T) {
	_, err := apply(t, t.TempDir(), buildTar(t, entry{Header: hdr('Z', "odd", 0o644)}), archive.WhiteoutOverlay)
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), `"odd"`) {
		t.Fatalf("Apply = %v, want an invalid-argument error naming the entry", err)
	}
}
